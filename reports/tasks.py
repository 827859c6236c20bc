"""Thin Celery tasks: one service call each."""

from celery import shared_task


@shared_task
def refresh_term_summaries(academic_year: int, school_ids: list[int] | None = None) -> int:
    """After each reclassification run (reports.apps connects it): the quarterly report's term
    summaries for that year (after a per-school run, only the pupils it covered); after a
    city-wide run, the default dashboards into the cache too."""
    from reports.services import dashboards_warm, term_summaries_refresh

    held = term_summaries_refresh(academic_year=academic_year, school_ids=school_ids)
    if school_ids is None:
        dashboards_warm()
    return held


@shared_task
def send_monthly_report() -> int:
    """Scheduled by migration 0003 for the 1st of each month at 07:00 (Europe/London)."""
    from reports.services import monthly_report_send

    return monthly_report_send()

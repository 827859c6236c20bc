"""Writes of the reports app: the term summaries behind the quarterly report, and the managers'
monthly email (sent once per month: a ``MonthlyReport`` row claims the month first)."""

import logging
from datetime import date

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from attendance.bands import band_sql
from reports.caching import data_changed
from reports.models import MonthlyReport, TermSummary

logger = logging.getLogger(__name__)


def term_summaries_refresh(*, academic_year: int, as_of: date | None = None,
                           school_ids: list[int] | None = None) -> int:
    """Recompute every pupil's city-wide figures per term of ``academic_year`` from the marks up
    to ``as_of`` (default: today), in one set-based statement; rows that no longer have marks go.
    Returns the number of pupil-terms held. Marks outside the LA's term dates are not counted;
    schools' summary-only returns (``SummaryRecord``) have no term split and are left out.

    ``school_ids`` (after a per-school reclassification): only the pupils the run covered, as
    ``attendance.classification`` scopes it (marks at those schools this year, or enrolled
    there), with all their schools' marks, since a term summary is city-wide; other rows stay."""
    as_of = as_of or timezone.localdate()
    params = {"year": academic_year, "as_of": as_of, "school_ids": school_ids}
    band = band_sql("t.attended", "t.possible")
    scoped = school_ids is not None
    only = "AND m.pupil_id IN (SELECT pupil_id FROM _term_scope)" if scoped else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS _term_scope, _term_figures")
        if scoped:
            cursor.execute("""
                CREATE TEMP TABLE _term_scope ON COMMIT DROP AS
                SELECT pupil_id FROM attendance_markcount
                 WHERE academic_year = %(year)s AND school_id = ANY(%(school_ids)s)
                UNION SELECT pupil_id FROM pupils_enrolment
                 WHERE school_id = ANY(%(school_ids)s)
            """, params)
        cursor.execute(f"""
            CREATE TEMP TABLE _term_figures ON COMMIT DROP AS
            SELECT t.pupil_id, t.term, t.possible, t.attended, t.authorised, t.unauthorised,
                   {band} AS band
            FROM (
              SELECT m.pupil_id, tm.name AS term,
                     count(*) FILTER (WHERE c.counts_as_possible) AS possible,
                     count(*) FILTER (WHERE c.counts_as_attended) AS attended,
                     count(*) FILTER (WHERE c.category = 'authorised') AS authorised,
                     count(*) FILTER (WHERE c.category = 'unauthorised') AS unauthorised
              FROM schools_term tm
              JOIN schools_academicyear ay ON ay.id = tm.academic_year_id
              JOIN attendance_sessionmark m
                ON m.date BETWEEN tm.start_date AND LEAST(tm.end_date, %(as_of)s)
              CROSS JOIN LATERAL (VALUES (m.am), (m.pm)) AS x(code)
              JOIN attendance_attendancecode c ON c.code = x.code
              WHERE ay.start_year = %(year)s AND tm.start_date <= %(as_of)s {only}
              GROUP BY m.pupil_id, tm.name
            ) t
        """, params)
        cursor.execute("""
            INSERT INTO reports_termsummary (pupil_id, academic_year, term, as_of, possible,
                                             attended, authorised, unauthorised, band)
            SELECT pupil_id, %(year)s, term, %(as_of)s, possible, attended, authorised,
                   unauthorised, band FROM _term_figures
            ON CONFLICT (pupil_id, academic_year, term) DO UPDATE
              SET as_of = EXCLUDED.as_of, possible = EXCLUDED.possible,
                  attended = EXCLUDED.attended, authorised = EXCLUDED.authorised,
                  unauthorised = EXCLUDED.unauthorised, band = EXCLUDED.band
        """, params)
        cursor.execute(f"""
            DELETE FROM reports_termsummary s WHERE s.academic_year = %(year)s
              AND NOT EXISTS (SELECT 1 FROM _term_figures f
                              WHERE f.pupil_id = s.pupil_id AND f.term = s.term)
              {"AND s.pupil_id IN (SELECT pupil_id FROM _term_scope)" if scoped else ""}
        """, params)
        cursor.execute("DROP TABLE IF EXISTS _term_scope, _term_figures")
    data_changed()
    return TermSummary.objects.filter(academic_year=academic_year).count()


def dashboards_warm() -> list[str]:
    """Compute the default city dashboard and quarterly report into the cache (reports.caching)
    so the first reader after the nightly run does not wait for them (seconds at city scale).
    Returns what was warmed; nothing without an active manager or administrator to compute as."""
    from django.db.models import Q

    from accounts.models import User
    from reports.caching import cached_for_latest_run
    from reports.quarterly import quarterly_report, report_period_default, report_years
    from reports.selectors import city_dashboard, city_weeks_cached, dashboard_years

    reader = (User.objects.filter(Q(is_manager=True) | Q(is_administrator=True), is_active=True)
              .order_by("pk").first())
    warmed = []
    if reader is None:
        return warmed
    years = dashboard_years()
    if years:
        cached_for_latest_run(["city", years[0], []], lambda: city_dashboard(
            user=reader, academic_year=years[0], filters={}))
        city_weeks_cached(user=reader, academic_year=years[0], filters={})
        warmed.append(f"city {years[0]}")
    year, term = report_period_default(day=timezone.localdate())
    if year in report_years():
        cached_for_latest_run(["quarterly", year, term], lambda: quarterly_report(
            user=reader, academic_year=year, term=term))
        warmed.append(f"quarterly {year} {term}")
    return warmed


# --- monthly report ---------------------------------------------------------------------------

def _month_start(day: date) -> date:
    return day.replace(day=1)


def _previous_month(day: date) -> date:
    first = _month_start(day)
    return date(first.year - 1, 12, 1) if first.month == 1 else date(first.year, first.month - 1, 1)


def monthly_report_content(*, month: date, user) -> dict:
    """Subject, text and HTML of the report for ``month`` (aggregates only: no child, no school
    is named). ``user`` is the reader, for scoping (a manager sees the city)."""
    from reports.quarterly import quarterly_report, report_period_default

    year, term_name = report_period_default(day=_month_end(month))
    report = quarterly_report(user=user, academic_year=year, term=term_name)
    base = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/")
    context = {
        "month": month, "report": report,
        "url": f"{base}{reverse('reports:quarterly')}?academic_year={year}&term={term_name}",
        "city_url": f"{base}{reverse('reports:city')}",
    }
    return {
        "subject": f"Attendance in the city: monthly report, {month:%B %Y}",
        "text": render_to_string("reports/email_monthly.txt", context),
        "html": render_to_string("reports/email_monthly.html", context),
    }


def _month_end(month: date) -> date:
    following = date(month.year + 1, 1, 1) if month.month == 12 else date(
        month.year, month.month + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def monthly_report_send(*, today: date | None = None) -> int:
    """Email last month's report to every active manager, once: the month is claimed by a
    ``MonthlyReport`` row (unique month) in the same transaction as the sending, so a second run
    for the same month (a retry, a second beat) sends nothing and a failed send claims nothing.
    Returns the number of managers emailed (0 when already sent)."""
    from accounts.models import User

    month = _previous_month(today or timezone.localdate())
    managers = list(User.objects.filter(is_active=True, is_manager=True).exclude(email="")
                    .order_by("pk"))
    try:
        with transaction.atomic():
            record = MonthlyReport.objects.create(month=month, recipients=len(managers))
            if not managers:
                return 0
            content = monthly_report_content(month=month, user=managers[0])
            messages = []
            for manager in managers:
                message = EmailMultiAlternatives(
                    content["subject"], content["text"], settings.DEFAULT_FROM_EMAIL,
                    [manager.email])
                message.attach_alternative(content["html"], "text/html")
                messages.append(message)
            get_connection(fail_silently=False).send_messages(messages)
    except IntegrityError:
        logger.info("Monthly report for %s already sent", month)
        return 0
    logger.info("Monthly report for %s sent to %d managers", month, record.recipients)
    return len(managers)

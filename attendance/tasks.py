"""Thin Celery tasks: take ids, call one service."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from attendance.models import ImportRun


@shared_task(autoretry_for=(), bind=True, max_retries=3)
def reclassify_all(self, as_of: str | None = None) -> dict:
    """The nightly job (scheduled by migration 0004): summaries, bands, band history, alerts."""
    from attendance.classification import ReclassificationBusy, pupils_reclassify

    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    try:
        return pupils_reclassify(as_of=day).as_dict()
    except ReclassificationBusy as busy:
        raise self.retry(exc=busy, countdown=300) from busy


@shared_task(bind=True, max_retries=20)
def reclassify_schools(self, school_ids: list[int], as_of: str | None = None) -> dict:
    """After an import: the schools it changed, straight away (one service call)."""
    from attendance.classification import ReclassificationBusy, pupils_reclassify

    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    try:
        return pupils_reclassify(as_of=day, school_ids=school_ids).as_dict()
    except ReclassificationBusy as busy:
        raise self.retry(exc=busy, countdown=10) from busy


@shared_task(acks_late=True)
def register_import_task(run_id: int) -> str:
    """Claim the register import (only one worker can) and apply it. Safe to deliver twice."""
    from attendance.services import register_import_apply

    claimed = ImportRun.objects.filter(id=run_id, status=ImportRun.Status.PENDING).update(
        status=ImportRun.Status.RUNNING, started_at=timezone.now())
    if claimed != 1:
        return "not pending"
    return register_import_apply(run_id=run_id).status

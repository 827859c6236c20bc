"""An applied import reclassifies the schools it changed straight away."""

import io
from datetime import date

import pytest

from attendance.bands import Band
from attendance.models import ImportRun, PupilSummary
from attendance.services import register_import_apply, register_import_claim, register_import_create
from schools.calendar import school_days
from tests.factories import academic_year_2025

pytestmark = pytest.mark.django_db


def _import(text, school, capture):
    with capture(execute=True):
        run = register_import_create(file=io.BytesIO(text.encode()), filename="r.csv",
                                     school=school, user=None, enqueue=False)
        assert register_import_claim(run_id=run.pk)
        run = register_import_apply(run_id=run.pk, today=date(2026, 7, 31))
    return run


def test_it_classifies_the_school_after_an_import(school, pupil, other_pupil,
                                                  django_capture_on_commit_callbacks):
    academic_year_2025()
    days = school_days(start=date(2025, 9, 3), end=date(2025, 9, 30))[:10]
    rows = [f"{pupil.upn},{d:%d/%m/%Y},/,{'/' if i < 9 else 'O'}" for i, d in enumerate(days)]
    run = _import("UPN,Date,AM,PM\n" + "\n".join(rows), school,
                  django_capture_on_commit_callbacks)
    assert run.status == ImportRun.Status.APPLIED, run.message
    summary = PupilSummary.objects.get(pupil=pupil, school=None)
    assert (summary.attended, summary.possible, summary.band) == (19, 20, Band.EXPECTED)
    assert summary.as_of == days[-1]  # as of the file's last date, not "today"
    assert not PupilSummary.objects.filter(pupil=other_pupil).exists()  # other school untouched


def test_it_does_not_reclassify_when_nothing_changed(school, pupil,
                                                     django_capture_on_commit_callbacks):
    academic_year_2025()
    text = f"UPN,Date,AM,PM\n{pupil.upn},03/09/2025,/,/"
    _import(text, school, django_capture_on_commit_callbacks)
    PupilSummary.objects.all().delete()
    run = _import(text, school, django_capture_on_commit_callbacks)
    assert run.inserted == 0 and run.updated == 0
    assert not PupilSummary.objects.exists()

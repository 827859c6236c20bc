import csv
import io
import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from attendance.models import PupilSummary
from tests.attendance.test_classification import write_marks
from tests.factories import academic_year_2025

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _year(db):
    academic_year_2025()


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_it_prints_one_json_object(school, pupil, other_pupil, other_school):
    write_marks(pupil, school, ["/"] * 18 + ["I", "G"])
    last = write_marks(other_pupil, other_school, ["/"] * 20)
    result = json.loads(run("reclassify", "--as-of", last.isoformat(), "--json"))
    assert result["pupils"] == 2 and result["changed"] == 2 and result["alerts_raised"] == 0
    assert isinstance(result["seconds"], float)
    # The run's two parts: summaries, bands and history; then the alert rules.
    parts = result["summaries_seconds"] + result["alerts_seconds"]
    assert result["summaries_seconds"] > 0 and result["alerts_seconds"] > 0
    assert abs(parts - result["seconds"]) < 0.002  # each rounded to the millisecond
    again = json.loads(run("reclassify", "--as-of", last.isoformat(), "--json"))
    assert again["changed"] == 0


def test_it_reclassifies_one_school_only(school, pupil, other_pupil, other_school):
    write_marks(pupil, school, ["/"] * 20)
    last = write_marks(other_pupil, other_school, ["/"] * 20)
    run("reclassify", "--as-of", last.isoformat(), "--school", school.urn)
    assert set(PupilSummary.objects.values_list("pupil", flat=True)) == {pupil.pk}


def test_it_names_an_unknown_school():
    with pytest.raises(CommandError, match="No school with URN 999999"):
        run("reclassify", "--school", "999999")


def test_it_exports_bands_as_csv(school, pupil, other_pupil, other_school):
    last = write_marks(pupil, school, ["/"] * 18 + ["I", "G"])
    write_marks(other_pupil, other_school, ["/"] * 9 + ["N"])
    run("reclassify", "--as-of", last.isoformat())
    rows = list(csv.DictReader(io.StringIO(run("export_bands", "--as-of", last.isoformat()))))
    by_upn = {row["upn"]: row for row in rows}
    assert by_upn[pupil.upn]["urn"] == school.urn
    assert by_upn[pupil.upn]["rate"] == "90.0" and by_upn[pupil.upn]["band"] == "3"
    assert by_upn[other_pupil.upn]["possible"] == "10"
    only = list(csv.DictReader(io.StringIO(
        run("export_bands", "--as-of", last.isoformat(), "--school", school.urn))))
    assert [row["upn"] for row in only] == [pupil.upn]


def test_it_leaves_the_band_empty_without_possible_sessions(school, pupil):
    last = write_marks(pupil, school, ["X", "X"])
    run("reclassify", "--as-of", last.isoformat())
    rows = list(csv.DictReader(io.StringIO(run("export_bands", "--as-of", last.isoformat()))))
    assert rows[0]["band"] == "" and rows[0]["rate"] == ""


def test_it_schedules_the_nightly_job_at_two_in_london():
    task = PeriodicTask.objects.get(task="attendance.tasks.reclassify_all")
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == (
        "2", "0", "Europe/London")


def test_its_task_calls_the_same_service(school, pupil):
    from attendance.tasks import reclassify_all

    last = write_marks(pupil, school, ["/"] * 20)
    result = reclassify_all.apply(kwargs={"as_of": last.isoformat()}).get()
    assert result["pupils"] == 1
    assert PupilSummary.objects.filter(pupil=pupil, as_of=last).count() == 2
    assert date.fromisoformat(result["as_of"]) == last

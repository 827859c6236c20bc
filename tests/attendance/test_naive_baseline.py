"""The nightly benchmark's naive baseline (benchmarks/nightly.py) must do the same work as the
nightly job, or its speed-up means nothing: on pupils with marks at one school, at two schools,
with only totals, and with a change of band, the naive loop writes the same summaries and band
history as ``pupils_reclassify``."""

import importlib.util
import sys
from datetime import date
from pathlib import Path

import pytest

from attendance.classification import pupils_reclassify
from attendance.models import BandHistory, PupilSummary, SummaryRecord
from tests.attendance.test_classification import START, write_marks
from tests.factories import PupilFactory, academic_year_2025

pytestmark = pytest.mark.django_db

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _nightly_module():
    sys.path.insert(0, str(BENCHMARKS))  # nightly.py imports its neighbour _setup
    try:
        spec = importlib.util.spec_from_file_location("bench_nightly", BENCHMARKS / "nightly.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def _state(pupil_ids, year):
    nightly = _nightly_module()
    history = sorted(BandHistory.objects.filter(pupil_id__in=pupil_ids).values_list(
        "pupil_id", "changed_on", "from_band", "to_band", "possible", "attended"))
    return nightly._summaries_of(pupil_ids, year), history


def test_the_naive_loop_writes_what_the_nightly_job_writes(school, other_school):
    academic_year_2025()
    steady, movers, totals, poor = (PupilFactory() for _ in range(4))
    write_marks(steady, school, ["/"] * 40)
    write_marks(movers, school, ["/", "I"] * 10)
    write_marks(movers, other_school, ["/", "O", "M", "\\"] * 5, start=date(2025, 10, 1))
    SummaryRecord.objects.create(pupil=totals, school=other_school, date_from=START,
                                 date_to=date(2025, 9, 30), possible=40, attended=30,
                                 authorised=6, unauthorised=4)
    last = write_marks(poor, school, ["/"] * 20 + ["N", "O"] * 15)
    pupils_reclassify(as_of=date(2025, 9, 19))  # an earlier band, so history has a change
    pupils_reclassify(as_of=last)
    ids = [steady.pk, movers.pk, totals.pk, poor.pk]
    ours = _state(ids, 2025)
    assert len(ours[0]) == 9 and ours[1]  # 4 city rows + 5 school rows; some history
    PupilSummary.objects.all().delete()
    BandHistory.objects.filter(changed_on=last).delete()
    _nightly_module().naive_reclassify(ids, last)
    assert _state(ids, 2025) == ours

"""Casework fixtures: the shared personas plus an open case and CIN/CP snapshots."""

from datetime import date

import pytest

from interventions.services import case_open
from tests.attendance.imports_support import reference_codes_ensure
from tests.factories import AllocationFactory, CharacteristicsFactory


@pytest.fixture(autouse=True)
def _reference_codes(db):
    """Attendance codes come from a data migration; a transactional (browser) test flushes them."""
    reference_codes_ensure()


@pytest.fixture
def case(db, pupil, la_officer):
    return case_open(pupil=pupil, user=la_officer, reason="Attendance 78% this term")


@pytest.fixture
def cin_pupil(pupil, social_worker):
    """``pupil`` (Hilltop) made a child in need with ``social_worker`` allocated."""
    CharacteristicsFactory(pupil=pupil, effective_date=date(2024, 9, 1), cin=True)
    AllocationFactory(pupil=pupil, social_worker=social_worker)
    return pupil


@pytest.fixture
def caseload_case(db, caseload_pupil, other_school_lead):
    return case_open(pupil=caseload_pupil, user=other_school_lead, reason="Missing Mondays")

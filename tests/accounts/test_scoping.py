import pytest

from pupils.selectors import pupil_list
from schools.selectors import school_list

pytestmark = pytest.mark.django_db


def test_it_shows_a_school_lead_only_their_own_school(school_lead, school, other_school):
    assert list(school_list(user=school_lead)) == [school]


def test_it_shows_an_officer_only_linked_schools(la_officer, school, other_school):
    assert list(school_list(user=la_officer)) == [school]


def test_it_shows_a_social_worker_only_their_caseload(social_worker, pupil, caseload_pupil):
    assert list(pupil_list(user=social_worker)) == [caseload_pupil]
    assert list(school_list(user=social_worker)) == []


def test_it_shows_a_manager_everything(manager, pupil, other_pupil, caseload_pupil):
    assert pupil_list(user=manager).count() == 3

"""The alternative provision list: placements on cases, pupils with B or K marks, dual
registration; attendance there counted from the marks since the placement started.

Marks are written on known dates in 2025/26 with "today" fixed at Friday 12 December 2025.
"""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from interventions.models import InterventionType
from interventions.selectors import alternative_provision
from interventions.services import case_open, intervention_add, intervention_end
from pupils.models import Enrolment
from schools.calendar import school_days
from tests.factories import EnrolmentFactory, PupilFactory, academic_year_2025
from tests.interventions.marks import mark_days

pytestmark = pytest.mark.django_db

TODAY = date(2025, 12, 12)
NOV_3 = date(2025, 11, 3)


@pytest.fixture(autouse=True)
def _today(db, monkeypatch):
    academic_year_2025()
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


def _days(start, end):
    return school_days(start=start, end=end)


def _rows(user):
    return {row.pupil.upn: row for row in alternative_provision(user=user, today=TODAY)}


def test_it_counts_attendance_at_a_provider_school_from_the_placement_start(
        pupil, school, other_school, case, la_officer):
    # At the provider before the placement: every day present (not counted).
    mark_days(pupil, other_school, _days(date(2025, 10, 13), date(2025, 10, 24)))
    # From 3 November: 7 days present, 3 days unauthorised: 14 of 20 sessions, 70%.
    after = _days(NOV_3, date(2025, 11, 14))
    mark_days(pupil, other_school, after[:7])
    mark_days(pupil, other_school, after[7:], am="O", pm="O")
    # The home school marks D (at the other school): not possible, and not "there" anyway.
    mark_days(pupil, school, after, am="D", pm="D")
    item = intervention_add(case=case, user=la_officer, type=InterventionType.AP,
                            start_date=NOV_3, provider_school=other_school)
    row = _rows(la_officer)[pupil.upn]
    assert (row.placement, row.case, row.where, row.where_school) == (
        item, case, "Riverside Academy", other_school)
    assert (row.possible, row.attended, row.off_site_sessions) == (20, 14, 0)
    assert row.rate == 70.0 and row.reasons == ["Alternative provision placement"]


def test_it_counts_an_ended_placement_only_to_its_end(pupil, other_school, case, la_officer):
    mark_days(pupil, other_school, _days(NOV_3, date(2025, 11, 7)))  # 10 present
    mark_days(pupil, other_school, _days(date(2025, 11, 10), date(2025, 11, 14)), am="N",
              pm="N")  # after the end: not counted
    item = intervention_add(case=case, user=la_officer, type=InterventionType.AP,
                            start_date=NOV_3, provider_school=other_school)
    intervention_end(intervention=item, user=la_officer, end_date=date(2025, 11, 7),
                     outcome="Back at school")
    row = _rows(la_officer)[pupil.upn]
    assert (row.end, row.possible, row.attended) == (date(2025, 11, 7), 10, 10)


def test_it_counts_a_provider_that_is_not_a_school_from_the_b_or_k_marks(pupil, school, case,
                                                                         la_officer):
    mark_days(pupil, school, _days(date(2025, 10, 6), date(2025, 10, 10)), am="O", pm="O")
    week1 = _days(NOV_3, date(2025, 11, 7))
    week2 = _days(date(2025, 11, 10), date(2025, 11, 14))
    mark_days(pupil, school, week1, am="K", pm="/")  # provider mornings, school afternoons
    mark_days(pupil, school, week2, am="K", pm="O")
    intervention_add(case=case, user=la_officer, type=InterventionType.AP, start_date=NOV_3,
                     provider_name="Riverside Farm Project")
    rows = alternative_provision(user=la_officer, today=TODAY)
    assert len(rows) == 1  # the K marks are the placement's, not a second row
    [row] = rows
    assert row.where == "Riverside Farm Project" and row.where_school is None
    assert row.reasons == ["Alternative provision placement", "K marks"]
    # Since 3 November (the October absences are before it): 15 of 20, 10 of them K.
    assert (row.possible, row.attended, row.off_site_sessions) == (20, 15, 10)


def test_it_lists_a_pupil_with_b_marks_who_has_no_case(school, la_officer):
    child = PupilFactory(surname="Offsite")
    EnrolmentFactory(pupil=child, school=school)
    mark_days(child, school, _days(date(2025, 9, 8), date(2025, 9, 12)), am="O", pm="O")
    mark_days(child, school, _days(date(2025, 11, 10), date(2025, 11, 14)), am="B", pm="B")
    mark_days(child, school, _days(date(2025, 11, 17), date(2025, 11, 21)), am="B", pm="N")
    row = _rows(la_officer)[child.upn]
    assert row.case is None and row.placement is None and row.dual is None
    assert row.reasons == ["B marks"] and row.start == date(2025, 11, 10)
    assert row.where == "Off site (on the register of Hilltop Primary)"
    # Since the first B mark: 15 of 20 (the September absences are before it); the whole year
    # would be 15 of 30.
    assert (row.possible, row.attended, row.off_site_sessions) == (20, 15, 15)


def test_it_lists_dual_registration_at_the_subsidiary_school(school, other_school, la_officer,
                                                             other_school_lead):
    child = PupilFactory(surname="Dual")
    EnrolmentFactory(pupil=child, school=school, registration=Enrolment.Registration.MAIN_DUAL)
    EnrolmentFactory(pupil=child, school=other_school, start_date=NOV_3,
                     registration=Enrolment.Registration.SUBSIDIARY_DUAL)
    days = _days(NOV_3, date(2025, 11, 14))
    mark_days(child, other_school, days[:8])
    mark_days(child, other_school, days[8:], am="I", pm="I")
    mark_days(child, school, days, am="D", pm="D")
    for user in (la_officer, other_school_lead):  # the main school's officer; the PRU's lead
        row = _rows(user)[child.upn]
        assert row.reasons == ["Dual registration"] and row.where == "Riverside Academy"
        assert (row.start, row.possible, row.attended) == (NOV_3, 20, 16)


def test_it_joins_a_placement_and_the_dual_registration_at_the_same_school(
        pupil, other_school, case, la_officer):
    EnrolmentFactory(pupil=pupil, school=other_school, start_date=NOV_3,
                     registration=Enrolment.Registration.SUBSIDIARY_DUAL)
    intervention_add(case=case, user=la_officer, type=InterventionType.AP,
                     start_date=date(2025, 11, 10), provider_school=other_school)
    [row] = alternative_provision(user=la_officer, today=TODAY)
    assert row.reasons == ["Alternative provision placement", "Dual registration"]
    assert row.start == date(2025, 11, 10)


def test_it_leaves_out_pupils_at_school_and_ended_dual_registrations(school, other_school,
                                                                     pupil, manager):
    mark_days(pupil, school, _days(NOV_3, date(2025, 11, 14)), am="/", pm="O")
    old = PupilFactory(surname="Former")
    EnrolmentFactory(pupil=old, school=other_school, start_date=date(2024, 9, 1),
                     end_date=date(2025, 7, 20),
                     registration=Enrolment.Registration.SUBSIDIARY_DUAL)
    assert alternative_provision(user=manager, today=TODAY) == []


def test_it_keeps_the_list_in_each_users_scope(client, school, other_school, school_lead,
                                               other_school_lead, social_worker, administrator,
                                               pupil, caseload_pupil):
    mark_days(pupil, school, _days(NOV_3, date(2025, 11, 7)), am="K", pm="K")
    mark_days(caseload_pupil, other_school, _days(NOV_3, date(2025, 11, 7)), am="B", pm="/")
    case = case_open(pupil=caseload_pupil, user=other_school_lead, reason="Off site")
    expected = {school_lead: {pupil.upn}, other_school_lead: {caseload_pupil.upn},
                social_worker: {caseload_pupil.upn}}
    for user, upns in expected.items():
        assert set(_rows(user)) == upns
        client.force_login(user)
        html = client.get(reverse("interventions:ap")).content.decode()
        for upn in {pupil.upn, caseload_pupil.upn}:
            assert (f'data-testid="ap-row-{upn}"' in html) == (upn in upns)
    assert _rows(social_worker)[caseload_pupil.upn].case == case
    client.force_login(administrator)
    assert client.get(reverse("interventions:ap")).status_code == 404


def test_it_shows_the_rows_on_the_page(client, pupil, school, other_school, case, la_officer):
    days = _days(NOV_3, date(2025, 11, 14))
    mark_days(pupil, other_school, days[:9])
    mark_days(pupil, other_school, days[9:], am="O", pm="O")
    intervention_add(case=case, user=la_officer, type=InterventionType.AP, start_date=NOV_3,
                     provider_school=other_school)
    child = PupilFactory(surname="Kayfield")
    EnrolmentFactory(pupil=child, school=school)
    mark_days(child, school, days[:4], am="K", pm="K")
    client.force_login(la_officer)
    html = client.get(reverse("interventions:ap")).content.decode()
    assert "90.0%" in html and "18 of 20 sessions" in html and "marks at Riverside" in html
    assert "100.0%" in html and "8 of 8 sessions, 8 marked B or K" in html
    assert reverse("interventions:detail", args=[case.pk]) in html
    assert reverse("pupils:detail", args=[child.upn]) in html and "(no case)" in html

"""Casework pages end to end through the test client, and the measured effect of interventions."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from attendance.models import PupilSummary
from interventions.models import Case, InterventionType, Stage
from interventions.selectors import intervention_effects
from interventions.services import (
    alternatives_record,
    intervention_add,
    officer_consultation_record,
)
from schools.calendar import school_days
from tests.factories import (
    AllocationFactory,
    CharacteristicsFactory,
    EnrolmentFactory,
    PupilFactory,
    academic_year_2025,
)
from tests.interventions.marks import mark_days

pytestmark = pytest.mark.django_db


def _days(start, end):
    return school_days(start=start, end=end)


def test_it_measures_an_interventions_effect_from_the_marks(pupil, school, case, la_officer):
    academic_year_2025()
    # Before: the four school weeks before the week of 17 November (half term is skipped, so
    # 13 Oct to 14 Nov): mornings present, afternoons unauthorised: 50%.
    mark_days(pupil, school, _days(date(2025, 10, 13), date(2025, 11, 14)), am="/", pm="O")
    # Outside both windows: ignored.
    mark_days(pupil, school, _days(date(2025, 10, 6), date(2025, 10, 10)), am="N", pm="N")
    # After: four school weeks from 17 November: 18 days present, 2 days ill: 90%.
    after = _days(date(2025, 11, 17), date(2025, 12, 12))
    mark_days(pupil, school, after[:18])
    mark_days(pupil, school, after[18:], am="I", pm="I")
    item = intervention_add(case=case, user=la_officer, type=InterventionType.EARLY_HELP,
                            start_date=date(2025, 11, 17))
    effect = intervention_effects(interventions=[item], as_of=date(2025, 12, 19))[item.pk]
    assert (effect.before_possible, effect.before_attended) == (40, 20)
    assert (effect.after_possible, effect.after_attended) == (40, 36)
    assert (effect.before_rate, effect.after_rate) == (50.0, 90.0)
    assert effect.change == 40.0 and effect.after_complete
    assert (effect.before_from, effect.before_to) == (date(2025, 10, 13), date(2025, 11, 16))
    # Part way through the after window, only the weeks so far count.
    partial = intervention_effects(interventions=[item], as_of=date(2025, 11, 21))[item.pk]
    assert (partial.after_possible, partial.after_complete) == (10, False)


def test_it_shows_the_effect_on_the_case_page(client, pupil, school, case, la_officer):
    academic_year_2025()
    mark_days(pupil, school, _days(date(2025, 10, 13), date(2025, 11, 14)), am="/", pm="O")
    mark_days(pupil, school, _days(date(2025, 11, 17), date(2025, 12, 12)))
    intervention_add(case=case, user=la_officer, type=InterventionType.TAC,
                     start_date=date(2025, 11, 17))
    client.force_login(la_officer)
    html = client.get(reverse("interventions:detail", args=[case.pk])).content.decode()
    assert "Before: 50.0%" in html and "After: 100.0%" in html and "+50.0 points" in html


def test_it_opens_a_case_from_the_pupil_page(client, pupil, school_lead):
    client.force_login(school_lead)
    page = client.get(reverse("pupils:detail", args=[pupil.upn])).content.decode()
    open_url = reverse("interventions:open", args=[pupil.upn])
    assert open_url in page
    response = client.post(open_url, {"reason": "Absent most Mondays",
                                      "stage": "listen_and_understand"})
    case = Case.objects.get(pupil=pupil)
    assert response.status_code == 302 and response["Location"] == reverse(
        "interventions:detail", args=[case.pk])
    assert case.stage == Stage.LISTEN and case.opened_by == school_lead
    again = client.post(open_url, {"reason": "Again", "stage": "monitor"})
    assert "already has an open case" in again.content.decode()


def test_it_records_interventions_and_contacts_through_the_pages(client, case, la_officer):
    client.force_login(la_officer)
    today = timezone.localdate()
    response = client.post(reverse("interventions:intervention_add", args=[case.pk]), {
        "type": "part_time_timetable", "start_date": today.isoformat(),
        "owner": la_officer.pk,
    })
    html = response.content.decode()
    assert "a part-time timetable must be reviewed" in html
    assert "a part-time timetable must be time-limited" in html
    client.post(reverse("interventions:intervention_add", args=[case.pk]), {
        "type": "part_time_timetable", "start_date": today.isoformat(), "owner": la_officer.pk,
        "review_date": (today + timedelta(days=14)).isoformat(),
        "planned_end_date": (today + timedelta(days=42)).isoformat(),
    })
    client.post(reverse("interventions:chronology_add", args=[case.pk]), {
        "occurred_on": today.isoformat(), "kind": "visit", "note": "Home visit: mum at home"})
    case.refresh_from_db()
    assert case.interventions.get().type == InterventionType.PART_TIME
    assert case.stage == Stage.FACILITATE  # moved up the ladder by the intervention
    assert case.chronology.filter(kind="visit").exists()
    html = client.get(reverse("interventions:detail", args=[case.pk])).content.decode()
    assert "Home visit: mum at home" in html and "Reduced or part-time timetable" in html


def test_it_explains_each_missing_gate_on_the_prosecution_page(client, case, cin_pupil,
                                                               la_officer, school_lead):
    client.force_login(la_officer)
    url = reverse("interventions:prosecution", args=[case.pk])
    response = client.post(url, {"note": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "The case cannot proceed as a prosecution yet" in html
    assert "3 legal gates are not passed" in html
    for key in ("officer_consulted", "alternatives_considered", "social_worker_agreed"):
        assert f'data-testid="missing-{key}"' in html
    assert reverse("interventions:consultation", args=[case.pk]) in html
    officer_consultation_record(case=case, user=school_lead, officer=la_officer,
                                consulted_on=timezone.localdate())
    alternatives_record(case=case, user=school_lead, alternatives="TAC and early help tried")
    html = client.post(url, {"note": ""}).content.decode()
    assert "1 legal gate is not passed" in html and "Sian Worker" in html


def test_it_lets_the_social_worker_agree_from_their_page(client, case, cin_pupil, social_worker,
                                                         la_officer, school_lead):
    officer_consultation_record(case=case, user=school_lead, officer=la_officer,
                                consulted_on=timezone.localdate())
    alternatives_record(case=case, user=school_lead, alternatives="TAC and early help tried")
    client.force_login(social_worker)
    listing = client.get(reverse("interventions:social_worker")).content.decode()
    decide = reverse("interventions:sw_decision", args=[case.pk])
    assert decide in listing
    declined = client.post(decide, {"decision": "declined", "note": ""})
    assert "why you decline" in declined.content.decode()
    client.post(decide, {"decision": "agreed", "note": "Agreed at CIN review"})
    client.force_login(la_officer)
    response = client.post(reverse("interventions:prosecution", args=[case.pk]), {"note": ""})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.ENFORCE


def test_it_prints_the_whole_chronology(client, case, la_officer):
    client.force_login(la_officer)
    for n in range(12):
        client.post(reverse("interventions:chronology_add", args=[case.pk]), {
            "occurred_on": "2025-10-01", "kind": "contact", "note": f"Phone call {n}"})
    html = client.get(reverse("interventions:chronology_print", args=[case.pk])).content.decode()
    assert all(f"Phone call {n}" in html for n in range(12))
    assert "Printed" in html and "casework.css" in html


def test_it_flags_overdue_reviews_and_timetables_past_their_end(client, case, la_officer):
    start = timezone.localdate() - timedelta(days=60)
    intervention_add(case=case, user=la_officer, type=InterventionType.PART_TIME,
                     start_date=start, review_date=start + timedelta(days=14),
                     planned_end_date=start + timedelta(days=42))
    client.force_login(la_officer)
    html = client.get(reverse("interventions:part_time")).content.decode()
    assert 'data-testid="review-overdue"' in html and 'data-testid="past-end"' in html


def test_it_lists_pupils_under_twenty_percent_city_wide(client, pupil, other_pupil, la_officer,
                                                        school_lead):
    today = timezone.localdate()
    year = today.year if today.month >= 9 else today.year - 1
    for p, attended in ((pupil, 3), (other_pupil, 4)):  # 15% and 20% of 20
        PupilSummary.objects.create(pupil=p, school=None, academic_year=year, as_of=today,
                                    possible=20, attended=attended, authorised=0,
                                    unauthorised=20 - attended, band=5)
    client.force_login(la_officer)
    listed = {s.pupil for s in client.get(reverse("interventions:under_20")).context["page"]}
    assert listed == {pupil}  # exactly 20% is not under 20%; officers see the city
    client.force_login(school_lead)
    assert {s.pupil for s in client.get(reverse("interventions:under_20")).context["page"]} == {
        pupil}


def test_it_lists_children_with_no_marks_for_ten_school_days(client, school, la_officer,
                                                             monkeypatch):
    academic_year_2025()
    today = date(2025, 12, 12)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: today)
    present, missing = PupilFactory(surname="Present"), PupilFactory(surname="Gone")
    for p in (present, missing):
        EnrolmentFactory(pupil=p, school=school)
    days = _days(date(2025, 11, 3), today)
    mark_days(present, school, days)
    mark_days(missing, school, days[:-10])
    client.force_login(la_officer)
    rows = client.get(reverse("interventions:missing")).context["rows"]
    assert [r["pupil"] for r in rows] == [missing]
    assert rows[0]["last_mark"] == days[-11]


def test_it_lists_pupils_at_the_penalty_threshold(client, pupil, school, la_officer,
                                                  other_pupil, other_school, monkeypatch):
    academic_year_2025()
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: date(2025, 12, 19))
    for p, s in ((pupil, school), (other_pupil, other_school)):
        mark_days(p, s, _days(date(2025, 12, 8), date(2025, 12, 12)), am="G", pm="G")
    client.force_login(la_officer)
    episodes = client.get(reverse("interventions:threshold")).context["episodes"]
    assert [e["pupil"] for e in episodes] == [pupil]  # the other school is not theirs
    assert episodes[0]["first_sessions"] == 10 and episodes[0]["current"]


def test_it_records_a_penalty_notice_and_refuses_a_third(client, case, la_officer):
    client.force_login(la_officer)
    url = reverse("interventions:penalty_add", args=[case.pk])
    today = timezone.localdate()
    for days_ago in (40, 20):
        client.post(url, {"parent_name": "Jane Smith",
                          "issued_on": (today - timedelta(days=days_ago)).isoformat()})
    response = client.post(url, {"parent_name": "Jane Smith", "issued_on": today.isoformat()})
    html = response.content.decode()
    assert "already had two penalty notices" in html and "section 444" in html
    register = client.get(reverse("interventions:penalty_notices"))
    assert [n.sequence for n in register.context["page"]] == [2, 1]
    assert "Second (within 3 years" in register.content.decode()


def test_it_links_siblings_at_different_schools(client, case, other_pupil, manager):
    sibling = Case.objects.create(pupil=other_pupil, owner=manager, opened_by=manager,
                                  reason="Sibling")
    client.force_login(manager)
    client.post(reverse("interventions:family_link", args=[case.pk]), {"upn": other_pupil.upn})
    case.refresh_from_db()
    sibling.refresh_from_db()
    assert case.family_id and case.family_id == sibling.family_id
    html = client.get(reverse("interventions:detail", args=[case.pk])).content.decode()
    assert other_pupil.full_name in html


def test_it_marks_recommended_steps_done_from_interventions(client, case, pupil, la_officer):
    today = timezone.localdate()
    year = today.year if today.month >= 9 else today.year - 1
    PupilSummary.objects.create(pupil=pupil, school=None, academic_year=year, as_of=today,
                                possible=100, attended=85, authorised=5, unauthorised=10,
                                band=3)
    intervention_add(case=case, user=la_officer, type=InterventionType.EARLY_HELP,
                     start_date=today)
    client.force_login(la_officer)
    steps = client.get(reverse("interventions:detail", args=[case.pk])).context["steps"]
    done = {s["action"]: s["done"] for s in steps["steps"]}
    assert done["Complete an early help assessment"] is True
    assert done["Consider an attendance contract or education supervision order"] is False


def test_it_asks_for_the_social_workers_agreement_only_for_cin_or_cp(client, case, pupil,
                                                                      social_worker, la_officer):
    CharacteristicsFactory(pupil=pupil, effective_date=date(2024, 9, 1), cla=True)
    AllocationFactory(pupil=pupil, social_worker=social_worker)
    client.force_login(la_officer)
    gates = client.get(reverse("interventions:detail", args=[case.pk])).context["gates"]
    assert [g.status for g in gates] == ["Not yet done", "Not yet done", "Not needed",
                                         "Not needed"]


def test_it_updates_a_notice_from_the_register(client, case, la_officer, social_worker):
    client.force_login(la_officer)
    today = timezone.localdate()
    client.post(reverse("interventions:penalty_add", args=[case.pk]),
                {"parent_name": "Jane Smith", "issued_on": today.isoformat()})
    notice = case.pupil.penalty_notices.get()
    url = reverse("interventions:penalty_notice_status", args=[notice.pk])
    response = client.post(url, {"status": "paid", "paid_on": today.isoformat(), "outcome": ""})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.status == "paid" and notice.paid_on == today
    client.force_login(social_worker)
    assert client.get(url).status_code == 404


def test_casework_pages_use_the_three_boxes(client, case, la_officer):
    client.force_login(la_officer)
    url = reverse("interventions:chronology_add", args=[case.pk])
    html = client.get(url).content.decode()
    assert 'name="occurred_on-day"' in html and 'type="date"' not in html
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">Date</legend>' in html
    response = client.post(url, {"occurred_on-day": "30", "occurred_on-month": "2",
                                 "occurred_on-year": "2026", "kind": "visit",
                                 "note": "Home visit"})
    assert response.status_code == 200
    assert "The date must be a real date" in response.content.decode()
    assert not case.chronology.filter(kind="visit").exists()
    client.post(url, {"occurred_on-day": "2", "occurred_on-month": "3",
                      "occurred_on-year": "2026", "kind": "visit", "note": "Home visit"})
    assert case.chronology.get(kind="visit").occurred_on == date(2026, 3, 2)

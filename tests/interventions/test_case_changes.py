"""Changes to a case and its interventions: the stage, closing, ending an intervention.

What each service sets, what it writes to the chronology (who, when, what), and each refusal.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from attendance_portal.errors import ApplicationError
from interventions.models import Case, ChronologyEntry, InterventionType, Stage
from interventions.services import (
    case_close,
    case_hold,
    case_open,
    case_stage_set,
    intervention_add,
    intervention_end,
)

pytestmark = pytest.mark.django_db


def _entries(case):
    return list(case.chronology.order_by("recorded_at", "pk"))


def _refused(message, call, **kwargs):
    with pytest.raises(ApplicationError) as error:
        call(**kwargs)
    assert message in error.value.message
    return error.value


# --- case_stage_set ----------------------------------------------------------------------------

def test_it_moves_the_stage_and_writes_who_and_why_to_the_chronology(case, school_lead):
    assert case.stage == Stage.MONITOR
    before = len(_entries(case))
    case_stage_set(case=case, user=school_lead, stage=Stage.FORMALISE,
                   note="  Contract agreed at the meeting  ")
    case.refresh_from_db()
    assert case.stage == Stage.FORMALISE
    entries = _entries(case)
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.kind == ChronologyEntry.Kind.DECISION
    assert entry.note == ("Stage moved from Monitor to Formalise support: Contract agreed at the "
                          "meeting")
    assert entry.recorded_by == school_lead
    assert entry.occurred_on == timezone.localdate()


def test_it_may_move_the_stage_down_by_hand(case, la_officer):
    case_stage_set(case=case, user=la_officer, stage=Stage.ENFORCE)
    case_stage_set(case=case, user=la_officer, stage=Stage.LISTEN)
    case.refresh_from_db()
    assert case.stage == Stage.LISTEN
    assert _entries(case)[-1].note == "Stage moved from Enforce to Listen and understand"


def test_it_writes_nothing_when_the_stage_does_not_change(case, la_officer):
    before = len(_entries(case))
    case_stage_set(case=case, user=la_officer, stage=Stage.MONITOR, note="Still monitoring")
    assert len(_entries(case)) == before


def test_it_refuses_a_stage_not_on_the_ladder(case, la_officer):
    before = len(_entries(case))
    _refused("Choose a stage on the DfE ladder", case_stage_set, case=case, user=la_officer,
             stage="prosecute")
    case.refresh_from_db()
    assert case.stage == Stage.MONITOR and len(_entries(case)) == before


def test_it_refuses_to_move_the_stage_of_a_closed_case(case, la_officer):
    case_close(case=case, user=la_officer, note="Attendance back to 96%")
    _refused("This case is closed", case_stage_set, case=case, user=la_officer,
             stage=Stage.ENFORCE)
    case.refresh_from_db()
    assert case.stage == Stage.MONITOR


# --- case_close --------------------------------------------------------------------------------

def test_it_closes_a_case_recording_who_when_and_why(case, school_lead):
    before = timezone.now()
    case_close(case=case, user=school_lead, note="  Attendance back to 96%  ")
    after = timezone.now()
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert case.closed_by == school_lead and before <= case.closed_at <= after
    entry = _entries(case)[-1]
    assert (entry.kind, entry.note, entry.recorded_by) == (
        ChronologyEntry.Kind.DECISION, "Case closed: Attendance back to 96%", school_lead)


@pytest.mark.parametrize("note", ["", "   "])
def test_it_asks_why_a_case_is_being_closed(case, la_officer, note):
    _refused("Enter why the case is being closed", case_close, case=case, user=la_officer,
             note=note)
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN and case.closed_at is None


def test_it_refuses_to_close_a_case_on_hold_before_its_review(case, la_officer):
    case_hold(case=case, user=la_officer, reason="Family moving",
              review_due=timezone.localdate() + timedelta(days=28))
    _refused("Review the hold before closing", case_close, case=case, user=la_officer,
             note="Moved away")
    case.refresh_from_db()
    assert case.status == Case.Status.ON_HOLD


def test_it_refuses_to_close_a_closed_case_again(case, la_officer, manager):
    case_close(case=case, user=la_officer, note="Attendance back to 96%")
    _refused("This case is closed", case_close, case=case, user=manager, note="Again")
    case.refresh_from_db()
    assert case.closed_by == la_officer


def test_a_closed_case_takes_no_more_interventions_and_a_new_case_can_be_opened(
        case, pupil, la_officer):
    case_close(case=case, user=la_officer, note="Attendance back to 96%")
    _refused("This case is closed", intervention_add, case=case, user=la_officer,
             type=InterventionType.EARLY_HELP, start_date=timezone.localdate())
    again = case_open(pupil=pupil, user=la_officer, reason="Absence again after Christmas")
    assert again.pk != case.pk and again.status == Case.Status.OPEN


# --- intervention_end --------------------------------------------------------------------------

@pytest.fixture
def item(case, la_officer):
    return intervention_add(case=case, user=la_officer, type=InterventionType.EARLY_HELP,
                            start_date=timezone.localdate() - timedelta(days=30))


def test_it_ends_an_intervention_with_its_outcome_who_and_when(case, item, school_lead):
    end = timezone.localdate() - timedelta(days=2)
    before = len(_entries(case))
    intervention_end(intervention=item, user=school_lead, end_date=end,
                     outcome="  Family engaged; attendance up to 93%  ")
    item.refresh_from_db()
    assert (item.end_date, item.outcome, item.ended_by) == (
        end, "Family engaged; attendance up to 93%", school_lead)
    assert not item.is_current
    entries = _entries(case)
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.kind == ChronologyEntry.Kind.DECISION
    assert entry.occurred_on == end  # dated when it ended, not when it was recorded
    assert entry.recorded_by == school_lead
    assert entry.note == ("Intervention ended: Early help assessment. Outcome: Family engaged; "
                          "attendance up to 93%")


def test_it_may_end_an_intervention_on_the_day_it_started(item, la_officer):
    intervention_end(intervention=item, user=la_officer, end_date=item.start_date,
                     outcome="Not needed after all")
    item.refresh_from_db()
    assert item.end_date == item.start_date


@pytest.mark.parametrize(("days", "outcome", "message"), [
    (-31, "Engaged", "The end date cannot be before the start date"),
    (1, "Engaged", "The end date cannot be in the future"),
    (0, "  ", "Enter the outcome of the intervention"),
])
def test_it_refuses_a_bad_end(case, item, la_officer, days, outcome, message):
    before = len(_entries(case))
    _refused(message, intervention_end, intervention=item, user=la_officer,
             end_date=timezone.localdate() + timedelta(days=days), outcome=outcome)
    item.refresh_from_db()
    assert item.end_date is None and item.ended_by is None and item.outcome == ""
    assert len(_entries(case)) == before


def test_it_refuses_to_end_an_intervention_twice(item, la_officer, manager):
    first = timezone.localdate() - timedelta(days=5)
    intervention_end(intervention=item, user=la_officer, end_date=first, outcome="Done")
    _refused("already ended", intervention_end, intervention=item, user=manager,
             end_date=timezone.localdate(), outcome="Again")
    item.refresh_from_db()
    assert (item.end_date, item.ended_by, item.outcome) == (first, la_officer, "Done")


def test_it_ends_an_intervention_through_its_page(client, case, item, school_lead):
    client.force_login(school_lead)
    url = reverse("interventions:intervention_end", args=[case.pk, item.pk])
    today = timezone.localdate()
    refused = client.post(url, {"end_date": today.isoformat(), "outcome": ""})
    assert refused.status_code == 200 and "Enter outcome" in refused.content.decode()
    response = client.post(url, {"end_date": today.isoformat(), "outcome": "Engaged well"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.end_date, item.ended_by, item.outcome) == (today, school_lead, "Engaged well")

"""The legal route: each gate allowed and refused, and the refusal naming each missing gate."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from attendance_portal.errors import ApplicationError
from interventions.models import (
    Case,
    ChronologyEntry,
    InterventionType,
    LegalDecision,
    SocialWorkerDecision,
    Stage,
)
from interventions.services import (
    alternatives_record,
    case_hold,
    case_hold_review,
    case_prosecution_start,
    officer_consultation_record,
    social_worker_decision_record,
)
from tests.factories import AllocationFactory, CharacteristicsFactory, UserFactory

pytestmark = pytest.mark.django_db


def _consult(case, user, officer):
    return officer_consultation_record(case=case, user=user, officer=officer,
                                       consulted_on=timezone.localdate())


def _all_gates(case, school_lead, la_officer):
    _consult(case, school_lead, la_officer)
    alternatives_record(case=case, user=school_lead,
                        alternatives="Early help offered and declined; TAC held twice.")


def _refusal(case, user):
    with pytest.raises(ApplicationError) as error:
        case_prosecution_start(case=case, user=user)
    return error.value


def test_it_starts_a_prosecution_once_every_gate_is_passed(case, school_lead, la_officer):
    _all_gates(case, school_lead, la_officer)
    decision = case_prosecution_start(case=case, user=la_officer, note="No engagement")
    case.refresh_from_db()
    assert decision.kind == LegalDecision.Kind.PROSECUTION_STARTED
    assert decision.decided_by == la_officer and decision.decided_at is not None
    assert case.stage == Stage.ENFORCE
    assert case.interventions.filter(type=InterventionType.PROSECUTION).exists()
    assert "prosecution under s444" in case.chronology.last().note


def test_it_names_every_missing_gate_when_nothing_is_recorded(case, cin_pupil, la_officer):
    case_hold(case=case, user=la_officer, reason="Family moving house",
              review_due=timezone.localdate() + timedelta(days=14))
    error = _refusal(case, la_officer)
    assert error.extra["missing_gates"] == ["officer_consulted", "alternatives_considered",
                                            "social_worker_agreed", "hold_reviewed"]
    message = error.message
    assert "4 legal gates are not passed" in message
    assert "not yet consulted its attendance officer" in message
    assert "alternatives to legal action considered have not been recorded" in message
    assert "child in need plan" in message and "Sian Worker" in message
    assert "put on hold" in message and "has not been reviewed" in message
    assert not LegalDecision.objects.filter(kind=LegalDecision.Kind.PROSECUTION_STARTED).exists()


def test_it_refuses_without_the_officer_consultation_only(case, school_lead):
    alternatives_record(case=case, user=school_lead, alternatives="Attendance contract tried")
    officer = UserFactory(is_la_officer=True)
    error = _refusal(case, officer)
    assert error.extra["missing_gates"] == ["officer_consulted"]
    assert "1 legal gate is not passed" in error.message


def test_it_refuses_without_the_alternatives_only(case, school_lead, la_officer):
    _consult(case, school_lead, la_officer)
    assert _refusal(case, la_officer).extra["missing_gates"] == ["alternatives_considered"]


def test_it_needs_no_social_worker_for_a_child_not_cin_or_cp(case, school_lead, la_officer):
    CharacteristicsFactory(pupil=case.pupil, effective_date=date(2024, 9, 1), cla=True)
    _all_gates(case, school_lead, la_officer)
    case_prosecution_start(case=case, user=la_officer)


@pytest.mark.parametrize("flag", ["cin", "cp"])
def test_it_refuses_a_cin_or_cp_child_until_the_social_worker_agrees(
        case, school_lead, la_officer, social_worker, flag):
    CharacteristicsFactory(pupil=case.pupil, effective_date=date(2024, 9, 1), **{flag: True})
    AllocationFactory(pupil=case.pupil, social_worker=social_worker)
    _all_gates(case, school_lead, la_officer)
    error = _refusal(case, la_officer)
    assert error.extra["missing_gates"] == ["social_worker_agreed"]
    plan = "child protection plan" if flag == "cp" else "child in need plan"
    assert plan in error.message and "has not agreed" in error.message
    social_worker_decision_record(case=case, user=social_worker, decision="agreed")
    case_prosecution_start(case=case, user=la_officer)


def test_it_follows_the_latest_characteristics_snapshot(case, school_lead, la_officer):
    CharacteristicsFactory(pupil=case.pupil, effective_date=date(2024, 9, 1), cp=True)
    CharacteristicsFactory(pupil=case.pupil, effective_date=date(2025, 1, 16), cp=False)
    _all_gates(case, school_lead, la_officer)
    case_prosecution_start(case=case, user=la_officer)


def test_it_blocks_when_the_social_worker_declines(case, cin_pupil, school_lead, la_officer,
                                                   social_worker):
    _all_gates(case, school_lead, la_officer)
    social_worker_decision_record(case=case, user=social_worker, decision="declined",
                                  note="Mother in hospital; revisit in a month")
    error = _refusal(case, la_officer)
    assert error.extra["missing_gates"] == ["social_worker_agreed"]
    assert "declined" in error.message and "Mother in hospital" in error.message
    # A later agreement by the same worker replaces the decline.
    social_worker_decision_record(case=case, user=social_worker, decision="agreed")
    case_prosecution_start(case=case, user=la_officer)


def test_it_refuses_when_no_social_worker_is_allocated(case, school_lead, la_officer):
    CharacteristicsFactory(pupil=case.pupil, effective_date=date(2024, 9, 1), cin=True)
    _all_gates(case, school_lead, la_officer)
    error = _refusal(case, la_officer)
    assert "no social worker is allocated" in error.message


def test_it_lets_only_the_allocated_social_worker_decide(case, cin_pupil):
    stranger = UserFactory(is_social_worker=True)
    with pytest.raises(ApplicationError, match="allocated social worker"):
        social_worker_decision_record(case=case, user=stranger, decision="agreed")


def test_it_ignores_a_decision_by_a_worker_no_longer_allocated(case, cin_pupil, school_lead,
                                                               la_officer, social_worker):
    social_worker_decision_record(case=case, user=social_worker, decision="agreed")
    cin_pupil.allocations.update(end_date=timezone.localdate() - timedelta(days=1))
    newcomer = UserFactory(is_social_worker=True, full_name="Nia New")
    AllocationFactory(pupil=cin_pupil, social_worker=newcomer)
    _all_gates(case, school_lead, la_officer)
    assert "Nia New" in _refusal(case, la_officer).message


def test_it_asks_a_declining_social_worker_for_a_reason(case, cin_pupil, social_worker):
    with pytest.raises(ApplicationError, match="why you decline"):
        social_worker_decision_record(case=case, user=social_worker, decision="declined")


def test_it_refuses_a_case_on_hold_until_it_is_reviewed(case, school_lead, la_officer):
    _all_gates(case, school_lead, la_officer)
    case_hold(case=case, user=la_officer, reason="Parent engaging with early help",
              review_due=timezone.localdate() + timedelta(days=28))
    case.refresh_from_db()
    assert case.status == Case.Status.ON_HOLD and case.on_hold_review_date is not None
    error = _refusal(case, la_officer)
    assert error.extra["missing_gates"] == ["hold_reviewed"]
    case_hold_review(case=case, user=la_officer, note="No improvement after four weeks")
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN and case.on_hold_review_date is None
    case_prosecution_start(case=case, user=la_officer)
    kinds = list(case.legal_decisions.values_list("kind", "decided_by"))
    assert kinds == [("put_on_hold", la_officer.pk), ("hold_reviewed", la_officer.pk),
                     ("prosecution_started", la_officer.pk)]


def test_it_lets_only_officers_and_managers_start_a_prosecution(case, school_lead, la_officer):
    _all_gates(case, school_lead, la_officer)
    with pytest.raises(ApplicationError, match="Only an LA attendance officer"):
        case_prosecution_start(case=case, user=school_lead)


def test_it_keeps_the_chronology_and_legal_records_append_only(case, school_lead, la_officer):
    _all_gates(case, school_lead, la_officer)
    entry = case.chronology.first()
    entry.note = "rewritten"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        entry.save()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ChronologyEntry.objects.filter(case=case).delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        case.consultations.update(note="changed")


def test_it_records_who_and_when_for_each_decision(case, cin_pupil, social_worker):
    record = social_worker_decision_record(case=case, user=social_worker, decision="agreed",
                                           note="Agreed at the CIN review")
    assert record.social_worker == social_worker and record.decided_at is not None
    assert record.decision == SocialWorkerDecision.Decision.AGREED

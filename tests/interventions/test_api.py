"""The legal route through the API: a prosecution refused with each missing gate named, the
social worker agreeing or declining, and the case proceeding (the same services as the pages)."""

import pytest
from django.utils import timezone

from interventions.models import InterventionType, LegalDecision, SocialWorkerDecision, Stage
from interventions.services import (
    alternatives_record,
    case_close,
    case_hold,
    case_hold_review,
    officer_consultation_record,
)

pytestmark = pytest.mark.django_db


def _post(client, user, path, data):
    client.force_login(user)
    return client.post(path, data, content_type="application/json")


def test_it_walks_the_legal_route_through_the_api(client, case, cin_pupil, la_officer,
                                                  school_lead, social_worker):
    prosecute = f"/api/cases/{case.pk}/prosecution/"
    decide = f"/api/cases/{case.pk}/social-worker-decision/"

    refused = _post(client, la_officer, prosecute, {"note": "No engagement"})
    assert refused.status_code == 400
    body = refused.json()
    assert body["missing_gates"] == ["officer_consulted", "alternatives_considered",
                                     "social_worker_agreed"]
    assert "3 legal gates are not passed" in body["detail"]
    assert "1. the school has not yet consulted its attendance officer" in body["detail"]
    assert "(Sian Worker) has not agreed" in body["reasons"][2]

    officer_consultation_record(case=case, user=school_lead, officer=la_officer,
                                consulted_on=timezone.localdate())
    alternatives_record(case=case, user=school_lead, alternatives="Early help and TAC tried")
    refused = _post(client, la_officer, prosecute, {})
    assert refused.status_code == 400
    assert refused.json()["missing_gates"] == ["social_worker_agreed"]
    assert "1 legal gate is not passed" in refused.json()["detail"]

    # Declining needs a reason; a decline blocks the case and is named in the refusal.
    no_reason = _post(client, social_worker, decide, {"decision": "declined"})
    assert no_reason.status_code == 400 and "why you decline" in no_reason.json()["detail"]
    bad = _post(client, social_worker, decide, {"decision": "maybe"})
    assert bad.status_code == 400 and "decision" in bad.json()
    declined = _post(client, social_worker, decide,
                     {"decision": "declined", "note": "Wait for the CIN review on Friday"})
    assert declined.status_code == 201
    assert declined.json()["decision"] == "declined"
    refused = _post(client, la_officer, prosecute, {})
    assert refused.json()["missing_gates"] == ["social_worker_agreed"]
    assert "declined" in refused.json()["reasons"][0]
    assert "Wait for the CIN review on Friday" in refused.json()["reasons"][0]

    agreed = _post(client, social_worker, decide,
                   {"decision": "agreed", "note": "Agreed at the CIN review"})
    assert agreed.status_code == 201
    record = SocialWorkerDecision.objects.get(pk=agreed.json()["id"])
    assert (record.social_worker, record.decision, record.case) == (
        social_worker, "agreed", case)

    started = _post(client, la_officer, prosecute, {"note": "No engagement after a year"})
    assert started.status_code == 201
    data = started.json()
    assert (data["kind"], data["decided_by"], data["case_stage"]) == (
        "prosecution_started", "Olivia Officer", "enforce")
    decision = LegalDecision.objects.get(pk=data["id"])
    assert decision.decided_by == la_officer and decision.note == "No engagement after a year"
    case.refresh_from_db()
    assert case.stage == Stage.ENFORCE
    assert case.interventions.filter(type=InterventionType.PROSECUTION).count() == 1
    assert "prosecution under s444" in case.chronology.order_by("recorded_at", "pk").last().note

    again = _post(client, la_officer, prosecute, {})
    assert again.status_code == 400 and "already under way" in again.json()["detail"]


def test_it_names_a_hold_without_its_review_in_the_refusal(client, case, manager, school_lead,
                                                           la_officer):
    officer_consultation_record(case=case, user=school_lead, officer=la_officer,
                                consulted_on=timezone.localdate())
    alternatives_record(case=case, user=school_lead, alternatives="Early help and TAC tried")
    case_hold(case=case, user=la_officer, reason="Family moving house",
              review_due=timezone.localdate())
    refused = _post(client, manager, f"/api/cases/{case.pk}/prosecution/", {})
    assert refused.status_code == 400
    assert refused.json()["missing_gates"] == ["hold_reviewed"]
    case_hold_review(case=case, user=la_officer, note="Move fell through; proceed")
    assert _post(client, manager, f"/api/cases/{case.pk}/prosecution/", {}).status_code == 201


def test_it_refuses_a_closed_case_with_a_400(client, caseload_case, social_worker,
                                            other_school_lead):
    case_close(case=caseload_case, user=other_school_lead, note="Back to 97%")
    response = _post(client, social_worker,
                     f"/api/cases/{caseload_case.pk}/social-worker-decision/",
                     {"decision": "agreed"})
    assert response.status_code == 400 and "This case is closed" in response.json()["detail"]
    assert not caseload_case.social_worker_decisions.exists()

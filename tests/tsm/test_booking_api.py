"""Booking through the API: propose, confirm, cancel and hold, for every persona.

Outside the scope is a 404 (another school's lead or officer, a social worker); inside the scope
a refusal because of the role is a 403 and a refusal because of the state or date a 400, each
naming who may act.
"""

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import UserFactory
from tests.tsm.conftest import soon
from tsm import services
from tsm.models import MeetingStatus, TargetingSupportMeeting

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "administrator", "manager", "la_officer", "school_lead",
            "other_school_lead", "social_worker", "other_officer"]
OUTSIDERS = {"other_school_lead", "social_worker", "other_officer"}


@pytest.fixture
def people(request, administrator, manager, la_officer, school_lead, other_school_lead,
           social_worker, other_school):
    other_officer = UserFactory(is_la_officer=True, full_name="Owen Other")
    other_school.link_officer = other_officer
    other_school.save()
    found = {name: request.getfixturevalue(name) for name in PERSONAS[1:-1]}
    found["other_officer"] = other_officer
    return found


def sign_in(client, people, persona):
    if persona != "anonymous":
        client.force_login(people[persona])
    return client


def url(meeting, verb):
    return f"/api/tsm/meetings/{meeting.pk}/{verb}/"


def post(client, meeting, verb, body=None):
    return client.post(url(meeting, verb), body or {}, content_type="application/json")


def start_body(days=7, **extra):
    return {"start": timezone.localtime(soon(days)).isoformat(), **extra}


def status_of(meeting):
    return TargetingSupportMeeting.objects.get(pk=meeting.pk).status


def expect(response, persona, allowed, refused_status=403):
    if persona == "anonymous":
        assert response.status_code in (401, 403)
        assert "Only" not in response.json()["detail"]
    elif persona in OUTSIDERS:
        assert response.status_code == 404
    elif persona in allowed:
        assert response.status_code == 200, response.json()
    else:
        assert response.status_code == refused_status, response.json()


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_link_officer_proposes_the_first_date(client, people, meeting, persona):
    response = post(sign_in(client, people, persona), meeting, "propose",
                    start_body(location="Room 4", duration_minutes=90))
    # a school lead is told the officer proposes first (400: the state, not the role)
    expect(response, persona, {"la_officer"},
           refused_status=400 if persona == "school_lead" else 403)
    if persona == "la_officer":
        body = response.json()
        assert (body["status"], body["location"], body["duration_minutes"]) == (
            "proposed", "Room 4", 90)
        assert body["proposed_by"] == "Olivia Officer"
    else:
        assert status_of(meeting) == MeetingStatus.TO_BOOK
    if persona in ("manager", "administrator", "school_lead"):
        assert "link officer (Olivia Officer)" in response.json()["detail"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_school_confirms_the_officers_date(client, people, proposed, persona):
    response = post(sign_in(client, people, persona), proposed, "confirm")
    expect(response, persona, {"school_lead"})
    if persona == "school_lead":
        assert response.json()["status"] == "confirmed"
        assert response.json()["confirmed_by"] == "Sam Lead"
    else:
        assert status_of(proposed) == MeetingStatus.PROPOSED
    if persona in ("la_officer", "manager", "administrator"):
        assert response.json()["detail"] == ("Only an attendance lead at Hilltop Primary can "
                                             "confirm the date the link officer proposed.")


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_school_lead_proposes_another_date_and_only_the_officer_confirms_it(
        client, people, proposed, persona):
    client.force_login(people["school_lead"])
    moved = post(client, proposed, "propose", start_body(9))
    assert moved.status_code == 200 and moved.json()["proposed_by"] == "Sam Lead"
    assert moved.json()["location"] == "School office"  # kept unless the school changes it
    client.logout()
    response = post(sign_in(client, people, persona), proposed, "confirm")
    expect(response, persona, {"la_officer"})
    if persona == "school_lead":
        assert "link officer (Olivia Officer) can confirm a date the school proposed" in \
            response.json()["detail"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_link_officer_or_a_manager_cancels_with_a_reason(client, people, confirmed,
                                                             persona):
    response = post(sign_in(client, people, persona), confirmed, "cancel",
                    {"reason": "Ofsted inspection that week"})
    expect(response, persona, {"la_officer", "manager", "administrator"})
    if persona in ("la_officer", "manager", "administrator"):
        body = response.json()
        assert (body["status"], body["cancellation_reason"]) == (
            "cancelled", "Ofsted inspection that week")
    else:
        assert status_of(confirmed) == MeetingStatus.CONFIRMED
    if persona == "school_lead":
        assert "link officer (Olivia Officer) or a manager can cancel" in \
            response.json()["detail"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_link_officer_holds_the_meeting(client, people, confirmed, persona):
    response = post(sign_in(client, people, persona), confirmed, "hold")
    expect(response, persona, {"la_officer"})
    meeting = TargetingSupportMeeting.objects.get(pk=confirmed.pk)
    if persona == "la_officer":
        assert response.json()["status"] == "held" and response.json()["held_at"]
        assert meeting.snapshot["school_name"] == "Hilltop Primary"
    else:
        assert meeting.status == MeetingStatus.CONFIRMED and meeting.snapshot is None
    if persona in ("school_lead", "manager"):
        assert response.json()["detail"] == ("Only Hilltop Primary's link officer "
                                             "(Olivia Officer) can hold this meeting.")


def test_it_reschedules_a_confirmed_meeting_and_rebooks_a_cancelled_one(client, people,
                                                                        confirmed):
    client.force_login(people["la_officer"])
    moved = post(client, confirmed, "propose", start_body(10))
    assert moved.status_code == 200
    assert (moved.json()["status"], moved.json()["confirmed_by"]) == ("proposed", None)
    assert post(client, confirmed, "cancel", {"reason": "Head teacher ill"}).status_code == 200
    again = post(client, confirmed, "propose", start_body(12))
    assert again.status_code == 200 and again.json()["status"] == "proposed"
    assert again.json()["cancellation_reason"] == ""


def test_it_refuses_changes_the_state_does_not_allow_with_a_400(client, people, held):
    client.force_login(people["la_officer"])
    for verb, body in (("propose", start_body()), ("confirm", {}),
                       ("cancel", {"reason": "x"}), ("hold", {})):
        response = post(client, held, verb, body)
        assert response.status_code == 400, verb
        assert "this meeting is held" in response.json()["detail"], verb


def test_it_refuses_bad_input_with_a_400(client, people, meeting, terms):
    client.force_login(people["la_officer"])
    assert post(client, meeting, "propose", {}).json()["start"]
    too_long = post(client, meeting, "propose", start_body(duration_minutes=300))
    assert too_long.status_code == 400 and "duration_minutes" in too_long.json()
    past = post(client, meeting, "propose", start_body(-3))
    assert past.status_code == 400 and "in the future" in past.json()["detail"]
    outside = post(client, meeting, "propose",
                   {"start": f"{terms['next'].end_date.isoformat()}T14:00:00+00:00"})
    assert outside.status_code == 400 and "Choose a date in the" in outside.json()["detail"]
    no_reason = post(client, meeting, "cancel", {"reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    assert status_of(meeting) == MeetingStatus.TO_BOOK


def test_a_start_without_an_offset_is_uk_time(client, people, meeting):
    client.force_login(people["la_officer"])
    day = timezone.localtime(soon(7)).date()
    response = post(client, meeting, "propose", {"start": f"{day.isoformat()}T09:30"})
    assert response.status_code == 200
    meeting.refresh_from_db()
    assert f"{timezone.localtime(meeting.proposed_start):%H:%M}" == "09:30"


def test_it_gives_404_for_another_schools_meeting_to_its_officer_and_lead(
        client, people, manager, terms, other_school, meeting):
    services.tsm_round_open(term=terms["now"], theme="Severe absence", user=manager)
    other = TargetingSupportMeeting.objects.get(school=other_school)  # Owen Other's school
    for persona in ("la_officer", "school_lead"):
        client.force_login(people[persona])
        for verb, body in (("propose", start_body()), ("confirm", {}),
                           ("cancel", {"reason": "x"}), ("hold", {})):
            assert post(client, other, verb, body).status_code == 404, (persona, verb)
    assert status_of(other) == MeetingStatus.TO_BOOK


def test_booking_through_the_api_sends_the_emails(client, people, meeting,
                                                  django_capture_on_commit_callbacks):
    client.force_login(people["la_officer"])
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, meeting, "propose", start_body()).status_code == 200
    assert [m.to for m in mail.outbox] == [["lead@hilltop.example.sch.uk"]]
    client.force_login(people["school_lead"])
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, meeting, "confirm").status_code == 200
    assert len(mail.outbox) == 3 and all(m.attachments for m in mail.outbox[1:])
    client.force_login(people["manager"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert post(client, meeting, "hold").status_code == 403
    assert callbacks == [] and len(mail.outbox) == 3


def test_the_booking_endpoints_are_in_the_openapi_schema(client, manager):
    client.force_login(manager)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for verb in ("propose", "confirm", "cancel", "hold"):
        operation = schema["paths"][f"/api/tsm/meetings/{{id}}/{verb}/"]["post"]
        assert {"200", "400", "403", "404"} <= set(operation["responses"]), verb
    propose = schema["paths"]["/api/tsm/meetings/{id}/propose/"]["post"]
    assert "requestBody" in propose

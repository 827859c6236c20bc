"""Who may open every TSM page and endpoint, persona by persona.

Hilltop (``school``) is linked to ``la_officer`` and led by ``school_lead``; Riverside
(``other_school``) has its own officer and lead. Outside the scope is a 404, never a 403.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.tsm.conftest import soon
from tsm import services
from tsm.models import Action

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "administrator", "manager", "la_officer", "school_lead",
            "other_school_lead", "social_worker", "other_officer"]
SEES_HILLTOP = {"administrator", "manager", "la_officer", "school_lead"}
MANAGERS = {"administrator", "manager"}


@pytest.fixture
def world(request, held, other_school, other_school_lead, social_worker, manager,
          administrator, la_officer, school_lead, terms):
    other_officer = UserFactory(is_la_officer=True, full_name="Owen Other")
    other_school.link_officer = other_officer
    other_school.save()
    services.tsm_round_open(term=terms["now"], theme="Severe absence", user=manager)
    action = services.action_create(meeting=held, description="Home visit", owner=school_lead,
                                    due_date=timezone.localdate(), user=la_officer)
    people = {name: request.getfixturevalue(name) for name in PERSONAS[1:-1]}
    people["other_officer"] = other_officer
    return {"meeting": held, "other_meeting": other_school.tsms.get(), "action": action,
            "people": people}


def sign_in(client, world, persona):
    if persona != "anonymous":
        client.force_login(world["people"][persona])
    return client


def is_login_redirect(response):
    return response.status_code == 302 and "/accounts/login/" in response["Location"]


MEETING_PAGES = ["tsm:detail", "tsm:pack", "tsm:record", "tsm:minutes", "tsm:ics", "tsm:cancel"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url_name", MEETING_PAGES)
def test_it_shows_a_meetings_pages_only_to_those_who_see_the_school(client, world, persona,
                                                                    url_name):
    response = sign_in(client, world, persona).get(reverse(url_name,
                                                           args=[world["meeting"].pk]))
    if persona == "anonymous":
        assert is_login_redirect(response)
    elif persona in SEES_HILLTOP:
        assert response.status_code == 200
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("persona", ["la_officer", "school_lead"])
def test_it_gives_404_for_a_meeting_of_a_school_not_linked_or_led(client, world, persona):
    sign_in(client, world, persona)
    for page in MEETING_PAGES:
        assert client.get(reverse(page, args=[world["other_meeting"].pk])).status_code == 404


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lists_only_the_meetings_each_persona_may_see(client, world, persona):
    response = sign_in(client, world, persona).get(reverse("tsm:list"))
    if persona == "anonymous":
        assert is_login_redirect(response)
        return
    assert response.status_code == 200
    html = response.content.decode()
    assert ("Hilltop Primary" in html) == (persona in SEES_HILLTOP)
    assert ("Riverside Academy" in html) == (persona in MANAGERS | {"other_school_lead",
                                                                    "other_officer"})


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url_name", ["tsm:round-open", "tsm:coverage", "tsm:coverage-csv",
                                  "tsm:coverage-xlsx"])
def test_it_keeps_rounds_and_coverage_for_managers(client, world, persona, url_name):
    response = sign_in(client, world, persona).get(reverse(url_name))
    if persona == "anonymous":
        assert is_login_redirect(response)
    else:
        assert response.status_code == (200 if persona in MANAGERS else 404)


def _posts(world):
    meeting, action = world["meeting"], world["action"]
    item = meeting.agenda_items.first()
    return [
        (reverse("tsm:propose", args=[meeting.pk]), {}),
        (reverse("tsm:confirm", args=[meeting.pk]), {}),
        (reverse("tsm:cancel", args=[meeting.pk]), {"reason": "x"}),
        (reverse("tsm:hold", args=[meeting.pk]), {}),
        (reverse("tsm:agenda-add", args=[meeting.pk]), {"title": "x"}),
        (reverse("tsm:agenda-notes", args=[meeting.pk, item.pk]), {"notes": "x"}),
        (reverse("tsm:pupil-note", args=[meeting.pk]), {"upn": "X", "note": "x"}),
        (reverse("tsm:action-create", args=[meeting.pk]), {"description": "x"}),
        (reverse("tsm:action-status", args=[action.pk]), {"status": "done"}),
        (reverse("tsm:action-description", args=[action.pk]), {"description": "x"}),
    ]


@pytest.mark.parametrize("persona", ["anonymous", "other_school_lead", "social_worker",
                                     "other_officer"])
def test_it_refuses_every_change_from_outsiders(client, world, persona):
    sign_in(client, world, persona)
    for url, data in _posts(world):
        response = client.post(url, data)
        if persona == "anonymous":
            assert is_login_redirect(response), url
        else:
            assert response.status_code == 404, url
    action = Action.objects.get(pk=world["action"].pk)
    assert (action.status, action.description) == ("open", "Home visit")


# Each change, persona by persona: the meeting in the state the change needs (``meeting`` to
# book, ``proposed`` by the officer, ``confirmed``, ``held``), valid data, and who may make it.
# Inside the scope a refusal is a 400 (the action autosaves redirect back with the reason as a
# message instead); outside it a 404; in every refusal nothing changes.
PARTIES = {"la_officer", "school_lead"}
BOOKING = {"tsm:propose", "tsm:confirm", "tsm:hold", "tsm:cancel"}


def _change(name, request):
    from tsm.models import TargetingSupportMeeting

    def meeting_status(meeting):
        return lambda: TargetingSupportMeeting.objects.get(pk=meeting.pk).status

    if name in BOOKING:
        fixture, allowed, after = {
            "tsm:propose": ("meeting", {"la_officer"}, "proposed"),
            "tsm:confirm": ("proposed", {"school_lead"}, "confirmed"),
            "tsm:hold": ("confirmed", {"la_officer"}, "held"),
            "tsm:cancel": ("confirmed", {"la_officer", "manager", "administrator"}, "cancelled"),
        }[name]
        meeting = request.getfixturevalue(fixture)
        start = timezone.localtime(soon(9))
        data = {"tsm:propose": {"day": start.day, "month": start.month, "year": start.year,
                                "start_time": "10:00", "duration_minutes": 60},
                "tsm:cancel": {"reason": "Head teacher unwell"}}.get(name, {})
        status = meeting_status(meeting)
        return reverse(name, args=[meeting.pk]), data, allowed, lambda: status() == after
    held = request.getfixturevalue("held")
    action = services.action_create(meeting=held, description="Home visit",
                                    owner=request.getfixturevalue("school_lead"),
                                    due_date=timezone.localdate(),
                                    user=request.getfixturevalue("la_officer"))
    item = held.agenda_items.first()
    upn = request.getfixturevalue("pupil").upn
    officer = request.getfixturevalue("la_officer")
    args, data, changed = {
        "tsm:agenda-add": ([held.pk], {"title": "Part-time timetables"},
                           lambda: held.agenda_items.filter(title="Part-time timetables")
                           .exists()),
        "tsm:agenda-notes": ([held.pk, item.pk], {"notes": "Priority: Y9"},
                             lambda: held.agenda_items.get(pk=item.pk).notes == "Priority: Y9"),
        "tsm:pupil-note": ([held.pk], {"upn": upn, "note": "Discussed"},
                           lambda: held.pupil_notes.filter(note="Discussed").exists()),
        "tsm:action-create": ([held.pk], {"description": "Call the parents", "owner": officer.pk,
                                          "due_date": "01/01/2030"},
                              lambda: held.actions.filter(description="Call the parents")
                              .exists()),
        "tsm:action-status": ([action.pk], {"status": "done"},
                              lambda: Action.objects.get(pk=action.pk).status == "done"),
        "tsm:action-description": ([action.pk], {"description": "Visit"},
                                   lambda: Action.objects.get(pk=action.pk).description
                                   == "Visit"),
    }[name]
    return reverse(name, args=args), data, PARTIES, changed


TSM_CHANGES = ["tsm:propose", "tsm:confirm", "tsm:hold", "tsm:cancel", "tsm:agenda-add",
               "tsm:agenda-notes", "tsm:pupil-note", "tsm:action-create", "tsm:action-status",
               "tsm:action-description"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url_name", TSM_CHANGES)
def test_it_lets_each_role_make_only_its_own_changes_to_a_meeting(client, request, persona,
                                                                   url_name):
    request.getfixturevalue("pupil")
    people = {name: request.getfixturevalue(name) for name in PERSONAS[1:-1]}
    other_school = request.getfixturevalue("other_school")
    other_school.link_officer = people["other_officer"] = UserFactory(is_la_officer=True)
    other_school.save()
    url, data, allowed, changed = _change(url_name, request)
    if persona != "anonymous":
        client.force_login(people[persona])
    response = client.post(url, data)
    if persona == "anonymous":
        assert is_login_redirect(response)
    elif persona not in SEES_HILLTOP:
        assert response.status_code == 404
    elif persona in allowed:
        assert response.status_code == 302, response.content.decode()[-2000:]
        assert changed()
        return
    elif url_name in {"tsm:action-status", "tsm:action-description"}:
        assert response.status_code == 302  # back to the record, with the reason as a message
        assert "can change this action" in str(list(response.wsgi_request._messages))
    else:
        assert response.status_code == 400
        if url_name in BOOKING:  # the recording forms are not on a manager's page at all
            assert "There is a problem" in response.content.decode()
    assert not changed()


def test_it_tells_a_school_lead_who_may_hold_the_meeting(client, confirmed, school_lead):
    client.force_login(school_lead)
    response = client.post(reverse("tsm:hold", args=[confirmed.pk]))
    assert response.status_code == 400
    assert "Only Hilltop Primary&#x27;s link officer (Olivia Officer) can hold this meeting" \
        in response.content.decode()


def test_it_tells_a_manager_they_cannot_record_actions(client, held, manager, la_officer):
    client.force_login(manager)
    response = client.post(reverse("tsm:action-create", args=[held.pk]), {
        "description": "x", "owner": la_officer.pk, "due_date": "01/01/2030"})
    assert response.status_code == 400
    assert "link officer or its attendance leads can record actions" in \
        response.content.decode()


def test_it_tells_a_manager_they_cannot_add_to_the_agenda(client, held, manager):
    """The agenda form is not on a manager's page, so the reason is in the error summary."""
    client.force_login(manager)
    response = client.post(reverse("tsm:agenda-add", args=[held.pk]), {"title": "Uniform"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and "can add to the agenda" in page
    assert not held.agenda_items.filter(title="Uniform").exists()


# --- booking through the pages ---------------------------------------------------------------

def test_it_books_through_the_pages(client, meeting, la_officer, school_lead):
    start = timezone.localtime(soon(5))
    client.force_login(la_officer)
    response = client.post(reverse("tsm:propose", args=[meeting.pk]), {
        "day": start.day, "month": start.month, "year": start.year, "start_time": "14:00",
        "duration_minutes": 60, "location": "Room 4"})
    assert response.status_code == 302
    client.force_login(school_lead)
    page = client.get(reverse("tsm:detail", args=[meeting.pk])).content.decode()
    assert 'data-testid="confirm"' in page
    assert client.post(reverse("tsm:confirm", args=[meeting.pk])).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == "confirmed" and meeting.location == "Room 4"
    ics = client.get(reverse("tsm:ics", args=[meeting.pk]))
    assert ics["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in ics.content


def test_it_shows_a_gov_uk_error_for_an_impossible_date(client, meeting, la_officer):
    client.force_login(la_officer)
    response = client.post(reverse("tsm:propose", args=[meeting.pk]), {
        "day": 31, "month": 2, "year": 2030, "start_time": "25:00", "duration_minutes": 60})
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and "Enter a real date" in html
    assert "Enter the start time like 09:30" in html


# --- live recording: htmx and plain posts ----------------------------------------------------

def test_it_saves_notes_as_they_type_with_htmx_and_with_a_plain_post(client, held, la_officer):
    item = held.agenda_items.first()
    url = reverse("tsm:agenda-notes", args=[held.pk, item.pk])
    client.force_login(la_officer)
    response = client.post(url, {"notes": "School priority: Year 9"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Saved at" in response.content
    assert b"<html" not in response.content
    item.refresh_from_db()
    assert item.notes == "School priority: Year 9"
    response = client.post(url, {"notes": "Without JavaScript"})
    assert response.status_code == 302
    assert response["Location"] == reverse("tsm:record", args=[held.pk]) + f"#agenda-{item.pk}"
    item.refresh_from_db()
    assert item.notes == "Without JavaScript"


def test_it_marks_the_recording_page_up_for_htmx_autosave(client, held, la_officer):
    client.force_login(la_officer)
    html = client.get(reverse("tsm:record", args=[held.pk])).content.decode()
    assert 'hx-trigger="keyup changed delay:800ms, change"' in html
    assert "/static/htmx/dist/htmx.min.js" in html
    assert "<script>" not in html and " style=" not in html  # the CSP allows neither


def test_it_saves_a_pupil_note_and_an_action_without_javascript(client, held, la_officer,
                                                                school_lead, pupil):
    client.force_login(la_officer)
    response = client.post(reverse("tsm:pupil-note", args=[held.pk]),
                           {"upn": pupil.upn, "note": "Discussed: part-time timetable"})
    assert response.status_code == 302
    assert held.pupil_notes.get().note == "Discussed: part-time timetable"
    response = client.post(reverse("tsm:action-create", args=[held.pk]), {
        "description": "Review the timetable", "owner": school_lead.pk,
        "due_date": "01/01/2030", "upn": pupil.upn})
    assert response.status_code == 302
    action = held.actions.get()
    assert (action.owner, action.pupil, str(action.due_date)) == (school_lead, pupil,
                                                                  "2030-01-01")
    minutes = client.get(reverse("tsm:minutes", args=[held.pk])).content.decode()
    assert "Review the timetable" in minutes and "part-time timetable" in minutes


# --- API -------------------------------------------------------------------------------------

API_COUNTS = {"administrator": 2, "manager": 2, "la_officer": 1, "school_lead": 1,
              "other_school_lead": 1, "social_worker": 0, "other_officer": 1}


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_scopes_the_meetings_api(client, world, persona):
    sign_in(client, world, persona)
    listing = client.get("/api/tsm/meetings/")
    detail = client.get(f"/api/tsm/meetings/{world['meeting'].pk}/")
    pack = client.get(f"/api/tsm/meetings/{world['meeting'].pk}/pack/")
    actions = client.get("/api/tsm/actions/")
    action = client.get(f"/api/tsm/actions/{world['action'].pk}/")
    if persona == "anonymous":
        assert {r.status_code for r in (listing, detail, pack, actions)} <= {401, 403}
        return
    assert listing.json()["count"] == API_COUNTS[persona]
    expected = 200 if persona in SEES_HILLTOP else 404
    assert (detail.status_code, pack.status_code, action.status_code) == (expected,) * 3
    assert actions.json()["count"] == (1 if persona in SEES_HILLTOP else 0)


def test_it_creates_and_updates_actions_through_the_api(client, world, la_officer,
                                                        school_lead, other_school_lead,
                                                        manager):
    meeting = world["meeting"]
    body = {"meeting": meeting.pk, "description": "Call the parents", "owner": school_lead.pk,
            "due_date": "2030-01-01"}
    client.force_login(la_officer)
    created = client.post("/api/tsm/actions/", body, content_type="application/json")
    assert created.status_code == 201, created.json()
    assert created.json()["owner_name"] == "Sam Lead"
    client.force_login(other_school_lead)
    assert client.post("/api/tsm/actions/", body,
                       content_type="application/json").status_code == 400
    assert client.patch(f"/api/tsm/actions/{created.json()['id']}/", {"status": "done"},
                        content_type="application/json").status_code == 404
    client.force_login(manager)
    refused = client.post("/api/tsm/actions/", body, content_type="application/json")
    assert refused.status_code == 403 and "can record actions" in refused.json()["detail"]
    client.force_login(school_lead)
    done = client.patch(f"/api/tsm/actions/{created.json()['id']}/", {"status": "done"},
                        content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert done.json()["completed_at"]


def test_it_describes_the_tsm_api_in_the_openapi_schema(client, manager):
    client.force_login(manager)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/tsm/meetings/", "/api/tsm/meetings/{id}/pack/", "/api/tsm/actions/",
                 "/api/tsm/actions/{id}/"):
        assert path in schema

"""Actions carried forward, the owner's list, coverage with overdue meetings and actions, and
formula-safe exports."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from attendance_portal.errors import ApplicationError
from tests.factories import SchoolFactory
from tsm import services
from tsm.models import ActionStatus
from tsm.selectors import actions_for_owner, meeting_pack, tsm_coverage
from tsm.views import neutralise

pytestmark = pytest.mark.django_db


def record_three(meeting, officer, lead):
    due = timezone.localdate() + timedelta(days=20)
    return [
        services.action_create(meeting=meeting, description="Home visit", owner=officer,
                               due_date=due, user=officer),
        services.action_create(meeting=meeting, description="Attendance contract", owner=lead,
                               due_date=due, user=officer),
        services.action_create(meeting=meeting, description="Early help referral", owner=lead,
                               due_date=due, user=lead),
    ]


def test_it_carries_open_actions_forward_to_the_next_meeting(held, la_officer, school_lead,
                                                             manager, terms, school):
    first, second, third = record_three(held, la_officer, school_lead)
    services.action_complete(action=third, user=school_lead)
    next_round, _, _ = services.tsm_round_open(term=terms["next"], theme="B", user=manager)
    following = next_round.meetings.get(school=school)
    carried = list(following.actions.order_by("pk"))
    assert [(a.description, a.status, a.carried_from) for a in carried] == [
        ("Home visit", ActionStatus.OPEN, first), ("Attendance contract", ActionStatus.OPEN,
                                                   second)]
    first.refresh_from_db()
    assert first.status == ActionStatus.CARRIED
    # Opening the round again, or holding the meeting, copies nothing twice.
    services.tsm_round_open(term=terms["next"], theme="B", user=manager)
    assert services.actions_carry_forward(meeting=following) == 0
    assert following.actions.count() == 2
    # The next pack reviews the last meeting's actions with their status.
    pack = meeting_pack(meeting=following)
    assert [(a["description"], a["status"]) for a in pack["last_actions"]] == [
        ("Home visit", "carried"), ("Attendance contract", "carried"),
        ("Early help referral", "done")]
    assert len(pack["carried_actions"]) == 2


def test_it_refuses_to_change_a_carried_action_on_the_old_meeting(held, la_officer,
                                                                  school_lead, manager, terms):
    action = record_three(held, la_officer, school_lead)[0]
    services.tsm_round_open(term=terms["next"], theme="B", user=manager)
    action.refresh_from_db()
    with pytest.raises(ApplicationError, match="carried forward"):
        services.action_complete(action=action, user=la_officer)


def test_it_refuses_actions_from_outsiders_and_owners_outside_the_meeting(
        held, la_officer, other_school_lead, manager, social_worker):
    due = timezone.localdate()
    with pytest.raises(ApplicationError, match="link officer or its attendance leads can "
                                               "record actions"):
        services.action_create(meeting=held, description="x", owner=la_officer, due_date=due,
                               user=manager)
    with pytest.raises(ApplicationError, match="cannot own this action"):
        services.action_create(meeting=held, description="x", owner=social_worker,
                               due_date=due, user=la_officer)
    with pytest.raises(ApplicationError, match="Describe the action"):
        services.action_create(meeting=held, description=" ", owner=la_officer, due_date=due,
                               user=la_officer)


def test_it_refuses_notes_before_the_date_is_confirmed(proposed, la_officer):
    item = proposed.agenda_items.first()
    with pytest.raises(ApplicationError, match="once the date is confirmed"):
        services.agenda_item_notes_set(item=item, notes="x", user=la_officer)


def test_it_refuses_a_note_on_a_pupil_of_another_school(held, la_officer, other_pupil):
    with pytest.raises(ApplicationError, match="not on Hilltop Primary's roll"):
        services.pupil_note_save(meeting=held, pupil=other_pupil, note="x", user=la_officer)


def test_it_lists_an_owners_open_actions_on_their_home_page(client, held, la_officer,
                                                            school_lead):
    actions = record_three(held, la_officer, school_lead)
    services.action_complete(action=actions[2], user=school_lead)
    assert list(actions_for_owner(school_lead)) == [actions[1]]
    client.force_login(school_lead)
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="my-actions"' in html and "Attendance contract" in html
    assert "Early help referral" not in html
    response = client.post(reverse("tsm:action-status", args=[actions[1].pk]),
                           {"status": "done", "next": "home"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert not actions_for_owner(school_lead).exists()


def test_it_shows_overdue_meetings_and_actions_in_coverage(client, terms, manager, school,
                                                           other_school, la_officer,
                                                           school_lead, held):
    other_school.link_officer = la_officer
    other_school.save()
    last_round, _, _ = services.tsm_round_open(term=terms["last"], theme="Old", user=manager)
    coverage = tsm_coverage(user=manager, term=terms["last"])
    assert coverage["term_over"] is True
    assert {r["school"] for r in coverage["overdue_meetings"]} == {"Hilltop Primary",
                                                                  "Riverside Academy"}
    assert coverage["by_officer"][0]["overdue"] == 2
    late = services.action_create(meeting=held, description="Late one", owner=school_lead,
                                  due_date=timezone.localdate() - timedelta(days=1),
                                  user=la_officer)
    current = tsm_coverage(user=manager, term=terms["now"])
    assert current["overdue_meetings"] == [] and current["totals"]["held"] == 1
    assert current["overdue_actions"] == [late]
    assert {r["status"] for r in current["rows"]} == {"held", "none"}
    client.force_login(manager)
    html = client.get(reverse("tsm:coverage") + f"?term={terms['last'].pk}").content.decode()
    assert 'data-testid="coverage-overdue">2<' in html


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)",
                                       "\tTab"])
def test_it_neutralises_formulas(dangerous):
    assert neutralise(dangerous) == "'" + dangerous
    assert neutralise("Hilltop Primary") == "Hilltop Primary"


def test_it_exports_coverage_as_csv_and_xlsx_without_formulas(client, terms, manager,
                                                              la_officer):
    SchoolFactory(name="=cmd|' /C calc'!A0", urn="113599", link_officer=la_officer)
    services.tsm_round_open(term=terms["now"], theme="PA", user=manager)
    client.force_login(manager)
    response = client.get(reverse("tsm:coverage-csv") + f"?term={terms['now'].pk}")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:2] == ["School", "URN"]
    assert rows[1][0] == "'=cmd|' /C calc'!A0"
    from openpyxl import load_workbook

    response = client.get(reverse("tsm:coverage-xlsx") + f"?term={terms['now'].pk}")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A2"].value == "'=cmd|' /C calc'!A0" and sheet["A2"].data_type == "s"

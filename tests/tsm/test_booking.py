"""Booking: who may propose, confirm, propose another, cancel and hold, and in which state."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from attendance_portal.errors import ApplicationError
from tests.factories import UserFactory
from tests.tsm.conftest import at, soon
from tsm import services
from tsm.models import MeetingStatus, TargetingSupportMeeting

pytestmark = pytest.mark.django_db


def test_it_opens_one_meeting_per_school_with_its_link_officer(terms, manager, school,
                                                                other_school, la_officer):
    tsm_round, made, missing = services.tsm_round_open(term=terms["now"], theme="PA",
                                                       user=manager)
    assert made == 1 and missing == [other_school]
    meeting = tsm_round.meetings.get()
    assert (meeting.school, meeting.link_officer, meeting.status) == (
        school, la_officer, MeetingStatus.TO_BOOK)
    assert [i.title for i in meeting.agenda_items.all()][0] == "Actions from the last meeting"


def test_it_opens_a_round_idempotently_and_adds_newly_linked_schools(terms, manager, school,
                                                                      other_school, la_officer):
    services.tsm_round_open(term=terms["now"], theme="PA", user=manager)
    _, made, _ = services.tsm_round_open(term=terms["now"], theme="PA", user=manager)
    assert made == 0
    other_school.link_officer = la_officer
    other_school.save()
    tsm_round, made, missing = services.tsm_round_open(term=terms["now"], theme="PA",
                                                       user=manager)
    assert (made, missing, tsm_round.meetings.count()) == (1, [], 2)


@pytest.mark.parametrize("persona", ["la_officer", "school_lead", "social_worker"])
def test_it_lets_only_a_manager_open_a_round(request, terms, school, persona):
    with pytest.raises(ApplicationError, match="Only a manager"):
        services.tsm_round_open(term=terms["now"], theme="PA",
                                user=request.getfixturevalue(persona))


def test_it_walks_propose_confirm_hold(meeting, la_officer, school_lead):
    meeting = services.meeting_propose(meeting=meeting, start=soon(), user=la_officer)
    assert meeting.status == MeetingStatus.PROPOSED and meeting.proposed_by == la_officer
    meeting = services.meeting_confirm(meeting=meeting, user=school_lead)
    assert meeting.status == MeetingStatus.CONFIRMED and meeting.confirmed_by == school_lead
    meeting = services.meeting_hold(meeting=meeting, user=la_officer)
    assert meeting.status == MeetingStatus.HELD and meeting.snapshot["school_name"]


@pytest.mark.parametrize("persona", ["school_lead", "other_school_lead", "manager",
                                     "social_worker"])
def test_it_refuses_a_proposal_from_anyone_but_the_link_officer(request, meeting, persona):
    with pytest.raises(ApplicationError, match="link officer .*Olivia Officer.* can propose"):
        services.meeting_propose(meeting=meeting, start=soon(),
                                 user=request.getfixturevalue(persona))


def test_it_refuses_an_officer_linked_to_other_schools(meeting):
    stranger = UserFactory(is_la_officer=True)
    with pytest.raises(ApplicationError, match="link officer"):
        services.meeting_propose(meeting=meeting, start=soon(), user=stranger)


def test_it_refuses_a_date_in_the_past_or_outside_the_term(meeting, la_officer, terms):
    with pytest.raises(ApplicationError, match="in the future"):
        services.meeting_propose(meeting=meeting, start=soon(-2), user=la_officer)
    with pytest.raises(ApplicationError, match="Choose a date in the"):
        services.meeting_propose(meeting=meeting, start=at(terms["next"].start_date),
                                 user=la_officer)


@pytest.mark.parametrize("persona", ["la_officer", "other_school_lead", "manager"])
def test_it_refuses_confirmation_of_the_officers_date_by_anyone_but_the_school(
        request, proposed, persona):
    with pytest.raises(ApplicationError, match="attendance lead at Hilltop Primary can confirm"):
        services.meeting_confirm(meeting=proposed, user=request.getfixturevalue(persona))


def test_it_lets_the_school_propose_another_date_for_the_officer_to_confirm(
        proposed, school_lead, la_officer):
    meeting = services.meeting_propose_another(meeting=proposed, start=soon(9), user=school_lead)
    assert meeting.status == MeetingStatus.PROPOSED and meeting.proposed_by == school_lead
    assert meeting.location == "School office"  # kept unless the school changes it
    with pytest.raises(ApplicationError, match="link officer .* can confirm a date the school"):
        services.meeting_confirm(meeting=meeting, user=school_lead)
    meeting = services.meeting_confirm(meeting=meeting, user=la_officer)
    assert meeting.status == MeetingStatus.CONFIRMED
    assert meeting.proposed_start == soon(9)


@pytest.mark.parametrize("persona", ["la_officer", "other_school_lead", "manager"])
def test_it_refuses_another_date_from_anyone_but_the_school(request, proposed, persona):
    with pytest.raises(ApplicationError, match="attendance lead at Hilltop Primary can propose"):
        services.meeting_propose_another(meeting=proposed, start=soon(9),
                                         user=request.getfixturevalue(persona))


def test_it_refuses_another_date_before_any_date_was_proposed(meeting, school_lead):
    with pytest.raises(ApplicationError, match=r"link officer \(Olivia Officer\) proposes the "
                                                 "date first"):
        services.meeting_propose_another(meeting=meeting, start=soon(), user=school_lead)


def test_it_refuses_to_confirm_a_meeting_with_no_proposal(meeting, school_lead):
    with pytest.raises(ApplicationError, match="cannot confirm the date: this meeting is not "
                                               "booked yet"):
        services.meeting_confirm(meeting=meeting, user=school_lead)


def test_it_asks_for_confirmation_again_after_a_confirmed_date_moves(confirmed, la_officer):
    meeting = services.meeting_propose(meeting=confirmed, start=soon(10), user=la_officer)
    assert meeting.status == MeetingStatus.PROPOSED and meeting.confirmed_by is None
    assert meeting.sequence == 2


@pytest.mark.parametrize("persona", ["school_lead", "other_school_lead", "la_officer",
                                     "manager"])
def test_it_lets_only_the_link_officer_hold_a_confirmed_meeting(request, confirmed, persona):
    user = request.getfixturevalue(persona)
    if persona == "la_officer":
        assert services.meeting_hold(meeting=confirmed, user=user).status == MeetingStatus.HELD
    else:
        with pytest.raises(ApplicationError, match="link officer .* can hold"):
            services.meeting_hold(meeting=confirmed, user=user)


def test_it_refuses_to_hold_an_unconfirmed_meeting(proposed, la_officer):
    with pytest.raises(ApplicationError, match="date proposed .*must be confirmed"):
        services.meeting_hold(meeting=proposed, user=la_officer)


def test_it_refuses_to_hold_twice_or_rebook_a_held_meeting(held, la_officer, school_lead):
    with pytest.raises(ApplicationError, match="this meeting is held"):
        services.meeting_hold(meeting=held, user=la_officer)
    with pytest.raises(ApplicationError, match="this meeting is held"):
        services.meeting_propose(meeting=held, start=soon(), user=la_officer)
    with pytest.raises(ApplicationError, match="this meeting is held"):
        services.meeting_cancel(meeting=held, user=la_officer, reason="x")


def test_it_cancels_with_a_reason_and_lets_the_officer_book_again(confirmed, la_officer):
    with pytest.raises(ApplicationError, match="Enter why"):
        services.meeting_cancel(meeting=confirmed, user=la_officer, reason="  ")
    meeting = services.meeting_cancel(meeting=confirmed, user=la_officer,
                                      reason="School closed for snow")
    assert meeting.status == MeetingStatus.CANCELLED
    meeting = services.meeting_propose(meeting=meeting, start=soon(8), user=la_officer)
    assert meeting.status == MeetingStatus.PROPOSED and meeting.cancellation_reason == ""


@pytest.mark.parametrize("persona", ["school_lead", "other_school_lead", "social_worker"])
def test_it_refuses_cancellation_by_the_school_or_outsiders(request, proposed, persona):
    with pytest.raises(ApplicationError, match="or a manager can cancel"):
        services.meeting_cancel(meeting=proposed, user=request.getfixturevalue(persona),
                                reason="Busy")


def test_it_lets_a_manager_cancel(proposed, manager):
    meeting = services.meeting_cancel(meeting=proposed, user=manager, reason="Merged school")
    assert meeting.cancelled_by == manager


def test_it_keeps_a_cancellation_reason_in_the_database(meeting):
    with transaction.atomic(), pytest.raises(IntegrityError):
        TargetingSupportMeeting.objects.filter(pk=meeting.pk).update(
            status=MeetingStatus.CANCELLED)


def test_it_keeps_one_meeting_per_school_and_round_in_the_database(meeting):
    with transaction.atomic(), pytest.raises(IntegrityError):
        TargetingSupportMeeting.objects.create(school=meeting.school, round=meeting.round,
                                               link_officer=meeting.link_officer)


def test_it_writes_an_ics_invitation_in_utc(confirmed):
    from tsm.ics import meeting_ics

    text = meeting_ics(meeting=confirmed, url="https://portal.example/tsm/1/")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    start = confirmed.proposed_start.astimezone(__import__("datetime").UTC)
    assert f"DTSTART:{start:%Y%m%dT%H%M%SZ}" in text
    assert f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}" in text
    assert f"UID:tsm-{confirmed.pk}@" in text
    assert "SUMMARY:Targeting Support Meeting: Hilltop Primary" in text
    assert "LOCATION:School office" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_it_reminds_both_parties_once_two_days_before(confirmed, la_officer, school_lead,
                                                      mailoutbox):
    from tsm.tasks import send_meeting_reminders

    now = confirmed.proposed_start - timedelta(days=3)
    assert services.meeting_reminders_send(now=now) == 0
    now = confirmed.proposed_start - timedelta(days=1)
    assert services.meeting_reminders_send(now=now) == 1
    assert sorted(m.to[0] for m in mailoutbox) == sorted([la_officer.email, school_lead.email])
    assert "Hilltop Primary" in mailoutbox[0].subject
    assert services.meeting_reminders_send(now=now) == 0
    assert send_meeting_reminders.delay().get() == 0  # the beat task: nothing more to send
    assert len(mailoutbox) == 2


def test_it_schedules_the_reminders_daily():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="tsm.tasks.send_meeting_reminders")
    assert (task.crontab.hour, task.crontab.minute) == ("7", "30")


def test_it_lets_the_demo_city_be_wiped_with_meetings_in_it(terms, school, la_officer):
    """seed_demo --reset truncates what references schools and deletes the demo users."""
    from pupils.demo import DEMO_DOMAIN, demo_city_reset
    from tsm.models import TsmRound

    demo_manager = UserFactory(is_manager=True, email=f"manager@{DEMO_DOMAIN}")
    services.tsm_round_open(term=terms["now"], theme="PA", user=demo_manager)
    demo_city_reset()
    assert not TargetingSupportMeeting.objects.exists()
    assert TsmRound.objects.get().opened_by is None

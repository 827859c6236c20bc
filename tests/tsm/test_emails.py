"""Booking emails: sent after the change commits, to the other side (a proposal) or both sides
with the .ics (a confirmation, a cancellation); nothing when a change is refused."""

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from attendance_portal.errors import ApplicationError
from tests.factories import UserFactory
from tests.tsm.conftest import soon
from tsm import services
from tsm.models import TargetingSupportMeeting

pytestmark = pytest.mark.django_db

OFFICER = "officer@example.gov.uk"
LEAD = "lead@hilltop.example.sch.uk"


@pytest.fixture
def second_lead(school):
    return UserFactory(is_school_lead=True, school=school, full_name="Sue Second",
                       email="second@hilltop.example.sch.uk")


def sent_to():
    return sorted(address for message in mail.outbox for address in message.to)


def test_it_emails_the_school_leads_when_the_officer_proposes_after_the_commit(
        meeting, la_officer, school_lead, second_lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.meeting_propose(meeting=meeting, start=soon(), user=la_officer,
                                 location="School office")
        assert mail.outbox == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()
    assert sent_to() == sorted([LEAD, "second@hilltop.example.sch.uk"])
    message = mail.outbox[0]
    assert "proposed: Hilltop Primary" in message.subject
    assert "Olivia Officer (link officer) has proposed a date" in message.body
    assert "School office" in message.body and "Theme for the term: Severe absence" in message.body
    assert f"/tsm/{meeting.pk}/" in message.body
    assert message.attachments == []  # the invitation comes with the confirmation


def test_it_emails_the_link_officer_when_the_school_proposes_another_date(
        proposed, school_lead, la_officer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_propose_another(meeting=proposed, start=soon(9), user=school_lead)
    assert sent_to() == [OFFICER]
    assert "Sam Lead (attendance lead at Hilltop Primary) has proposed" in mail.outbox[0].body


def test_it_emails_both_sides_the_invitation_on_confirmation(
        proposed, school_lead, la_officer, second_lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_confirm(meeting=proposed, user=school_lead)
    assert sent_to() == sorted([OFFICER, LEAD, "second@hilltop.example.sch.uk"])
    for message in mail.outbox:
        assert "confirmed: Hilltop Primary" in message.subject
        assert "(by Sam Lead)" in message.body
        [(name, ics, mimetype)] = message.attachments
        assert name == "tsm-113501.ics" and mimetype == "text/calendar"
        assert "BEGIN:VEVENT" in ics and "STATUS:CONFIRMED" in ics
        assert f"UID:tsm-{proposed.pk}@" in ics


def test_it_emails_both_sides_a_cancellation_of_a_booked_meeting(
        confirmed, la_officer, school_lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_cancel(meeting=confirmed, user=la_officer,
                                reason="Jo Bloggs's review clashes")
    assert sent_to() == sorted([OFFICER, LEAD])
    message = mail.outbox[0]
    assert "cancelled" in message.subject
    assert "Bloggs" not in message.body  # the free-text reason stays in the portal
    [(_, ics, _)] = message.attachments
    assert "METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics


def test_it_sends_nothing_when_a_meeting_never_booked_is_cancelled(
        meeting, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.meeting_cancel(meeting=meeting, user=manager, reason="School closing")
    assert callbacks == [] and mail.outbox == []


def test_it_names_no_pupil(proposed, school_lead, django_capture_on_commit_callbacks):
    from tests.factories import EnrolmentFactory, PupilFactory

    pupil = PupilFactory(forename="Quentin", surname="Zanzibar-Quill")
    EnrolmentFactory(pupil=pupil, school=proposed.school)
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_confirm(meeting=proposed, user=school_lead)
    assert mail.outbox
    for message in mail.outbox:
        text = message.subject + message.body + message.attachments[0][1]
        for personal in (pupil.forename, pupil.surname, pupil.upn):
            assert personal not in text


@pytest.mark.parametrize("persona", ["school_lead", "manager", "other_school_lead"])
def test_it_sends_nothing_when_a_proposal_is_refused(
        request, meeting, persona, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ApplicationError):
            services.meeting_propose(meeting=meeting, start=soon(),
                                     user=request.getfixturevalue(persona))
    assert callbacks == [] and mail.outbox == []


def test_it_sends_nothing_for_a_date_outside_the_term(meeting, la_officer,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ApplicationError, match="in the future"):
            services.meeting_propose(meeting=meeting, start=soon(-3), user=la_officer)
    assert callbacks == [] and mail.outbox == []


@pytest.mark.parametrize("persona", ["la_officer", "manager"])
def test_it_sends_nothing_when_a_confirmation_is_refused(
        request, proposed, persona, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ApplicationError, match="attendance lead at Hilltop Primary"):
            services.meeting_confirm(meeting=proposed, user=request.getfixturevalue(persona))
    assert callbacks == [] and mail.outbox == []
    assert TargetingSupportMeeting.objects.get(pk=proposed.pk).status == "proposed"


def test_it_sends_nothing_when_the_change_is_rolled_back(
        meeting, la_officer, school_lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.meeting_propose(meeting=meeting, start=soon(), user=la_officer)
            raise RuntimeError("the request failed after the proposal")
    assert mail.outbox == []


def test_it_sends_only_the_latest_date_when_the_officer_proposes_twice(
        meeting, la_officer, school_lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.meeting_propose(meeting=meeting, start=soon(5), user=la_officer)
        services.meeting_propose(meeting=meeting, start=soon(8), user=la_officer)
    for callback in callbacks:  # as a worker would run them, after both commits
        callback()
    assert sent_to() == [LEAD]
    meeting.refresh_from_db()
    assert f"{timezone.localtime(meeting.proposed_start):%A %-d %B %Y}" in mail.outbox[0].body


def test_it_skips_inactive_people_and_people_without_an_address(
        proposed, school_lead, la_officer, django_capture_on_commit_callbacks):
    UserFactory(is_school_lead=True, school=proposed.school, email="gone@x.sch.uk",
                is_active=False)
    la_officer.is_active = False
    la_officer.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_confirm(meeting=proposed, user=school_lead)
    assert sent_to() == [LEAD]


def test_the_task_calls_the_service(proposed, la_officer, school_lead):
    from tsm.tasks import send_booking_emails

    assert send_booking_emails(proposed.pk, "proposed", proposed.sequence) == 1
    assert send_booking_emails(proposed.pk, "proposed", proposed.sequence - 1) == 0  # stale
    assert send_booking_emails(proposed.pk, "confirmed", proposed.sequence) == 0  # not yet
    assert sent_to() == [LEAD]

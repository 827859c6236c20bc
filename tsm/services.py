"""Changes to TSMs: opening a round, booking, holding, recording, carrying actions forward,
booking emails and reminders. Every refusal is an ApplicationError that says what is wrong and
who can do it; a refusal because of who is acting is a ``NotPermitted`` (the API's 403)."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mass_mail
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from attendance_portal.errors import ApplicationError
from schools.models import School, Term
from tsm.ics import meeting_ics
from tsm.models import (
    DEFAULT_AGENDA,
    Action,
    ActionStatus,
    AgendaItem,
    MeetingStatus,
    PupilNote,
    TargetingSupportMeeting,
    TsmRound,
)

REMINDER_DAYS = 2


class NotPermitted(ApplicationError):
    """The user sees the meeting but their role does not allow this change (the API's 403)."""


# --- who may ---------------------------------------------------------------------------------

def _is_link_officer(meeting: TargetingSupportMeeting, user) -> bool:
    return bool(user.is_la_officer and meeting.school.link_officer_id == user.pk)


def _is_school_lead(meeting: TargetingSupportMeeting, user) -> bool:
    return bool(user.is_school_lead and user.school_id == meeting.school_id)


def _officer_name(meeting: TargetingSupportMeeting) -> str:
    officer = meeting.school.link_officer
    return officer.full_name if officer else "the school's link officer"


def _require_link_officer(meeting, user, doing: str) -> None:
    if not _is_link_officer(meeting, user):
        raise NotPermitted(
            f"Only {meeting.school.name}'s link officer ({_officer_name(meeting)}) can {doing}."
        )


def _require_school_lead(meeting, user, doing: str) -> None:
    if not _is_school_lead(meeting, user):
        raise NotPermitted(
            f"Only an attendance lead at {meeting.school.name} can {doing}."
        )


def _require_party(meeting, user, doing: str) -> None:
    """The link officer or one of the school's attendance leads."""
    if not (_is_link_officer(meeting, user) or _is_school_lead(meeting, user)):
        raise NotPermitted(
            f"Only {meeting.school.name}'s link officer or its attendance leads can {doing}."
        )


def _require_status(meeting, allowed: set[str], doing: str) -> None:
    if meeting.status not in allowed:
        wanted = " or ".join(MeetingStatus(s).label.lower() for s in sorted(allowed))
        raise ApplicationError(
            f"You cannot {doing}: this meeting is {meeting.get_status_display().lower()} "
            f"(it must be {wanted})."
        )


def _require_recordable(meeting) -> None:
    if meeting.status not in (MeetingStatus.CONFIRMED, MeetingStatus.HELD):
        raise ApplicationError(
            "Notes and actions are recorded once the date is confirmed: this meeting is "
            f"{meeting.get_status_display().lower()}."
        )


def _lock(meeting: TargetingSupportMeeting) -> TargetingSupportMeeting:
    """Re-read the meeting under a row lock so two people acting at once cannot both win."""
    return (
        TargetingSupportMeeting.objects.select_for_update(of=("self",))
        .select_related("school", "school__link_officer", "round__term")
        .get(pk=meeting.pk)
    )


# --- rounds ----------------------------------------------------------------------------------

@transaction.atomic
def tsm_round_open(*, term: Term, theme: str, user, agenda_items: list[str] | None = None
                   ) -> tuple[TsmRound, int, list[School]]:
    """Open (or top up) the term's round: one meeting per open school with its link officer.

    Idempotent: running it again creates meetings only for schools that have none yet (a school
    given a link officer since), and never touches a meeting already there. Returns the round,
    how many meetings were created, and the open schools left out because they have no link
    officer.
    """
    if not (user.is_manager or user.is_superuser):
        raise NotPermitted("Only a manager can open a round of Targeting Support Meetings.")
    theme = theme.strip()
    if not theme:
        raise ApplicationError("Enter the term's theme, so schools know what to prepare.")
    items = [i.strip() for i in (agenda_items if agenda_items is not None else DEFAULT_AGENDA)
             if i.strip()]
    if not items:
        raise ApplicationError("Enter at least one agenda item.")
    tsm_round, created = TsmRound.objects.get_or_create(
        term=term, defaults={"theme": theme, "agenda_template": items, "opened_by": user}
    )
    if not created and (tsm_round.theme != theme or tsm_round.agenda_template != items):
        tsm_round.theme = theme
        tsm_round.agenda_template = items
        tsm_round.full_clean()
        tsm_round.save(update_fields=["theme", "agenda_template"])
    open_schools = School.objects.filter(status__istartswith="open")
    have = set(tsm_round.meetings.values_list("school_id", flat=True))
    made = 0
    for school in open_schools.filter(link_officer__isnull=False).exclude(pk__in=have):
        meeting = TargetingSupportMeeting(school=school, round=tsm_round,
                                          link_officer_id=school.link_officer_id)
        meeting.full_clean()
        meeting.save()
        AgendaItem.objects.bulk_create(
            AgendaItem(meeting=meeting, order=n, title=title[:200])
            for n, title in enumerate(tsm_round.agenda_template, start=1)
        )
        actions_carry_forward(meeting=meeting)
        made += 1
    missing = list(open_schools.filter(link_officer__isnull=True).exclude(pk__in=have))
    return tsm_round, made, missing


# --- booking ---------------------------------------------------------------------------------

def _check_start(start: datetime, meeting: TargetingSupportMeeting) -> None:
    if timezone.is_naive(start):
        raise ApplicationError("The start time needs a time zone.")
    if start < timezone.now() - timedelta(minutes=5):
        raise ApplicationError("The meeting must start in the future: choose a later date.")
    term = meeting.round.term
    day = timezone.localtime(start).date()
    if not (term.start_date <= day <= term.end_date + timedelta(days=7)):
        raise ApplicationError(
            f"Choose a date in the {term} term ({term.start_date:%-d %B %Y} to "
            f"{term.end_date:%-d %B %Y})."
        )


def _set_proposal(meeting, *, start, user, location, duration_minutes) -> None:
    _check_start(start, meeting)
    meeting.status = MeetingStatus.PROPOSED
    meeting.proposed_start = start
    meeting.proposed_by = user
    meeting.proposed_at = timezone.now()
    meeting.location = (location or "").strip()[:200]
    if duration_minutes:
        meeting.duration_minutes = duration_minutes
    meeting.confirmed_by = None
    meeting.confirmed_at = None
    meeting.cancelled_by = None
    meeting.cancelled_at = None
    meeting.cancellation_reason = ""
    meeting.reminded_at = None
    meeting.sequence += 1
    meeting.full_clean()
    meeting.save()


@transaction.atomic
def meeting_propose(*, meeting: TargetingSupportMeeting, start: datetime, user,
                    location: str = "", duration_minutes: int | None = None
                    ) -> TargetingSupportMeeting:
    """The link officer proposes a date (again, to rebook a confirmed or cancelled meeting)."""
    meeting = _lock(meeting)
    _require_link_officer(meeting, user, "propose a date for this meeting")
    _require_status(meeting, {MeetingStatus.TO_BOOK, MeetingStatus.PROPOSED,
                              MeetingStatus.CONFIRMED, MeetingStatus.CANCELLED},
                    "propose a date")
    meeting.link_officer = user
    _set_proposal(meeting, start=start, user=user, location=location,
                  duration_minutes=duration_minutes)
    _queue_booking_emails(meeting, BookingEmail.PROPOSED)
    return meeting


@transaction.atomic
def meeting_propose_another(*, meeting: TargetingSupportMeeting, start: datetime, user,
                            location: str | None = None, duration_minutes: int | None = None
                            ) -> TargetingSupportMeeting:
    """The school lead cannot make the officer's date and offers another; the officer confirms."""
    meeting = _lock(meeting)
    _require_school_lead(meeting, user, "propose another date")
    if meeting.status in (MeetingStatus.TO_BOOK, MeetingStatus.CANCELLED):
        raise ApplicationError(
            f"{meeting.school.name}'s link officer ({_officer_name(meeting)}) proposes the date "
            "first: you can then confirm it or propose another."
        )
    _require_status(meeting, {MeetingStatus.PROPOSED, MeetingStatus.CONFIRMED},
                    "propose another date")
    _set_proposal(meeting, start=start, user=user,
                  location=meeting.location if location is None else location,
                  duration_minutes=duration_minutes)
    _queue_booking_emails(meeting, BookingEmail.PROPOSED)
    return meeting


@transaction.atomic
def meeting_confirm(*, meeting: TargetingSupportMeeting, user) -> TargetingSupportMeeting:
    """The other party confirms the proposed date: the school lead confirms the officer's
    proposal, the link officer confirms a date the school proposed."""
    meeting = _lock(meeting)
    _require_status(meeting, {MeetingStatus.PROPOSED}, "confirm the date")
    proposed_by_school = meeting.proposed_by_id != meeting.school.link_officer_id and (
        meeting.proposed_by.is_school_lead and meeting.proposed_by.school_id == meeting.school_id
    )
    if proposed_by_school:
        _require_link_officer(meeting, user, "confirm a date the school proposed")
    else:
        _require_school_lead(meeting, user, "confirm the date the link officer proposed")
    if meeting.proposed_start < timezone.now() - timedelta(hours=12):
        raise ApplicationError("The proposed date has passed: propose another date instead.")
    meeting.status = MeetingStatus.CONFIRMED
    meeting.confirmed_by = user
    meeting.confirmed_at = timezone.now()
    meeting.full_clean()
    meeting.save()
    _queue_booking_emails(meeting, BookingEmail.CONFIRMED)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: TargetingSupportMeeting, user, reason: str
                   ) -> TargetingSupportMeeting:
    """The link officer or a manager cancels a meeting not yet held, saying why."""
    meeting = _lock(meeting)
    if not (_is_link_officer(meeting, user) or user.is_manager or user.is_superuser):
        raise NotPermitted(
            f"Only {meeting.school.name}'s link officer ({_officer_name(meeting)}) or a manager "
            "can cancel this meeting. A school lead can propose another date instead."
        )
    _require_status(meeting, {MeetingStatus.TO_BOOK, MeetingStatus.PROPOSED,
                              MeetingStatus.CONFIRMED}, "cancel this meeting")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Enter why the meeting is cancelled.")
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancellation_reason = reason
    meeting.cancelled_by = user
    meeting.cancelled_at = timezone.now()
    meeting.full_clean()
    meeting.save()
    if meeting.proposed_start is not None:
        _queue_booking_emails(meeting, BookingEmail.CANCELLED)
    return meeting


@transaction.atomic
def meeting_hold(*, meeting: TargetingSupportMeeting, user) -> TargetingSupportMeeting:
    """The link officer marks the confirmed meeting as held: the pack is frozen as it is now.

    From then on the pack page shows the snapshot, whatever later imports and nightly runs do.
    """
    from tsm.selectors import meeting_pack_live

    meeting = _lock(meeting)
    _require_link_officer(meeting, user, "hold this meeting")
    _require_status(meeting, {MeetingStatus.CONFIRMED}, "hold this meeting")
    actions_carry_forward(meeting=meeting)
    meeting.snapshot = meeting_pack_live(meeting=meeting, cached=False)
    meeting.status = MeetingStatus.HELD
    meeting.held_at = timezone.now()
    meeting.held_by = user
    meeting.link_officer = user
    meeting.full_clean()
    meeting.save()
    return meeting


# --- recording -------------------------------------------------------------------------------

@transaction.atomic
def agenda_item_add(*, meeting: TargetingSupportMeeting, title: str, user) -> AgendaItem:
    meeting = _lock(meeting)
    _require_party(meeting, user, "add to the agenda")
    _require_status(meeting, {MeetingStatus.TO_BOOK, MeetingStatus.PROPOSED,
                              MeetingStatus.CONFIRMED, MeetingStatus.HELD}, "add to the agenda")
    title = (title or "").strip()
    if not title:
        raise ApplicationError("Enter the agenda item's title.")
    last = meeting.agenda_items.order_by("-order").values_list("order", flat=True).first() or 0
    item = AgendaItem(meeting=meeting, order=last + 1, title=title[:200], updated_by=user)
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def agenda_item_notes_set(*, item: AgendaItem, notes: str, user) -> AgendaItem:
    _require_party(item.meeting, user, "write the meeting's notes")
    _require_recordable(item.meeting)
    item.notes = notes or ""
    item.updated_by = user
    item.full_clean()
    item.save(update_fields=["notes", "updated_by", "updated_at"])
    return item


def _require_pupil_of_school(meeting, pupil) -> None:
    from pupils.models import Enrolment

    year_start = meeting.round.term.academic_year.start_date
    on_roll = Enrolment.objects.filter(pupil=pupil, school_id=meeting.school_id).exclude(
        end_date__lt=year_start).exists()
    if not on_roll:
        raise ApplicationError(
            f"UPN {pupil.upn} is not on {meeting.school.name}'s roll this school year."
        )


@transaction.atomic
def pupil_note_save(*, meeting: TargetingSupportMeeting, pupil, note: str, user) -> PupilNote:
    """Write (or rewrite) the note about one pupil at this meeting."""
    _require_party(meeting, user, "write notes about pupils")
    _require_recordable(meeting)
    _require_pupil_of_school(meeting, pupil)
    pupil_note, _ = PupilNote.objects.get_or_create(meeting=meeting, pupil=pupil)
    pupil_note.note = note or ""
    pupil_note.updated_by = user
    pupil_note.full_clean()
    pupil_note.save()
    return pupil_note


def _check_owner(meeting, owner) -> None:
    from tsm.selectors import action_owner_choices

    if not action_owner_choices(meeting=meeting).filter(pk=owner.pk).exists():
        raise ApplicationError(
            f"{owner} cannot own this action: choose the link officer or one of "
            f"{meeting.school.name}'s attendance leads."
        )


@transaction.atomic
def action_create(*, meeting: TargetingSupportMeeting, description: str, owner, due_date: date,
                  user, pupil=None) -> Action:
    _require_party(meeting, user, "record actions")
    _require_recordable(meeting)
    description = (description or "").strip()
    if not description:
        raise ApplicationError("Describe the action.")
    _check_owner(meeting, owner)
    if pupil is not None:
        _require_pupil_of_school(meeting, pupil)
    action = Action(meeting=meeting, description=description, owner=owner, due_date=due_date,
                    pupil=pupil, created_by=user)
    action.full_clean()
    action.save()
    return action


def _require_action_editor(action: Action, user) -> None:
    meeting = action.meeting
    if not (_is_link_officer(meeting, user) or _is_school_lead(meeting, user)
            or action.owner_id == user.pk):
        raise NotPermitted(
            "Only the action's owner, the link officer or the school's attendance leads can "
            "change this action."
        )


@transaction.atomic
def action_update(*, action: Action, user, description: str | None = None, owner=None,
                  due_date: date | None = None, pupil=None, clear_pupil: bool = False) -> Action:
    _require_action_editor(action, user)
    if action.status == ActionStatus.CARRIED:
        raise ApplicationError(
            "This action was carried forward to the next meeting: change it there.")
    if description is not None:
        if not description.strip():
            raise ApplicationError("Describe the action.")
        action.description = description.strip()
    if owner is not None:
        _check_owner(action.meeting, owner)
        action.owner = owner
    if due_date is not None:
        action.due_date = due_date
    if clear_pupil:
        action.pupil = None
    elif pupil is not None:
        _require_pupil_of_school(action.meeting, pupil)
        action.pupil = pupil
    action.full_clean()
    action.save()
    return action


@transaction.atomic
def action_set_status(*, action: Action, status: str, user) -> Action:
    """Mark an action done or dropped, or reopen it."""
    _require_action_editor(action, user)
    if status not in (ActionStatus.OPEN, ActionStatus.DONE, ActionStatus.DROPPED):
        raise ApplicationError("An action can be open, done or dropped.")
    if action.status == ActionStatus.CARRIED:
        raise ApplicationError(
            "This action was carried forward to the next meeting: change it there.")
    action.status = status
    action.completed_at = timezone.now() if status == ActionStatus.DONE else None
    action.full_clean()
    action.save(update_fields=["status", "completed_at"])
    return action


def action_complete(*, action: Action, user) -> Action:
    return action_set_status(action=action, status=ActionStatus.DONE, user=user)


@transaction.atomic
def actions_carry_forward(*, meeting: TargetingSupportMeeting) -> int:
    """Copy the school's actions still open at earlier meetings onto this meeting.

    Each copy points at its original (``carried_from``) and the original becomes "carried
    forward", so an action is open in one place only. Running it twice copies nothing more.
    """
    earlier_open = (
        Action.objects.select_for_update()
        .filter(meeting__school_id=meeting.school_id, status=ActionStatus.OPEN,
                meeting__round__term__start_date__lt=meeting.round.term.start_date)
        .order_by("due_date", "pk")
    )
    copies = 0
    for original in earlier_open:
        Action.objects.create(
            meeting=meeting, description=original.description, owner_id=original.owner_id,
            due_date=original.due_date, pupil_id=original.pupil_id, carried_from=original,
            created_by_id=original.created_by_id,
        )
        original.status = ActionStatus.CARRIED
        original.save(update_fields=["status"])
        copies += 1
    return copies


# --- emails ----------------------------------------------------------------------------------

def _meeting_url(meeting) -> str:
    base = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/")
    return f"{base}{reverse('tsm:detail', args=[meeting.pk])}"


class BookingEmail(models.TextChoices):
    PROPOSED = "proposed", "A date is proposed"
    CONFIRMED = "confirmed", "The date is confirmed"
    CANCELLED = "cancelled", "The meeting is cancelled"


def _queue_booking_emails(meeting: TargetingSupportMeeting, event: str) -> None:
    """Send the booking emails once the change is committed (a refused or rolled-back change
    sends nothing). ``robust``: if the queue is down the booking still stands."""
    from tsm.tasks import send_booking_emails

    meeting_id, sequence = meeting.pk, meeting.sequence
    transaction.on_commit(lambda: send_booking_emails.delay(meeting_id, str(event), sequence),
                          robust=True)


def _school_leads(meeting) -> list:
    from accounts.models import User

    return list(User.objects.filter(is_active=True, is_school_lead=True,
                                    school_id=meeting.school_id).exclude(email="")
                .order_by("full_name", "pk"))


def _when(meeting) -> str:
    start = timezone.localtime(meeting.proposed_start)
    end = timezone.localtime(meeting.end)
    return (f"{start:%A %-d %B %Y}, {start:%H:%M} to {end:%H:%M}"
            + (f", {meeting.location}" if meeting.location else ""))


def _booking_message(meeting, event: str, person, url: str) -> EmailMessage:
    """One booking email. It names the school, the date and who acted, never a pupil."""
    school, term = meeting.school.name, meeting.round.term
    start = timezone.localtime(meeting.proposed_start)
    hello = f"Hello {person.full_name or person.email},\n\n"
    details = (f"{_when(meeting)}\n\nTheme for the term: {meeting.round.theme}\n\n")
    if event == BookingEmail.PROPOSED:
        by = meeting.proposed_by
        by_school = _proposed_by_school(meeting)
        subject = (f"Targeting Support Meeting proposed: {school}, "
                   f"{start:%A %-d %B at %H:%M}")
        body = (hello + f"{by.full_name or by.email} ("
                + (f"attendance lead at {school}" if by_school else "link officer")
                + f") has proposed a date for the {term} Targeting Support Meeting for "
                f"{school}:\n\n" + details
                + ("Confirm it, or propose another date, in the portal: " if not by_school
                   else "Confirm it, or propose a new date, in the portal: ") + f"{url}\n")
        return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email])
    if event == BookingEmail.CONFIRMED:
        by = meeting.confirmed_by
        subject = (f"Targeting Support Meeting confirmed: {school}, "
                   f"{start:%A %-d %B at %H:%M}")
        body = (hello + f"The {term} Targeting Support Meeting for {school} is confirmed "
                f"(by {by.full_name or by.email}):\n\n" + details
                + "The calendar invitation is attached. The meeting pack and agenda: "
                f"{url}\n")
    else:
        by = meeting.cancelled_by
        subject = f"Targeting Support Meeting cancelled: {school}, {start:%A %-d %B at %H:%M}"
        body = (hello + f"The {term} Targeting Support Meeting for {school} on "
                f"{_when(meeting)} has been cancelled by {by.full_name or by.email}. "
                f"The reason and the next steps are on the meeting's page: {url}\n")
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email])
    message.attach(f"tsm-{meeting.school.urn}.ics", meeting_ics(meeting=meeting, url=url),
                   "text/calendar")
    return message


def _proposed_by_school(meeting) -> bool:
    """The date was proposed by one of the school's leads (so the link officer confirms)."""
    by = meeting.proposed_by
    return bool(by and by.pk != meeting.school.link_officer_id and by.is_school_lead
                and by.school_id == meeting.school_id)


def meeting_booking_emails_send(*, meeting_id: int, event: str, sequence: int) -> int:
    """Email the booking change to whoever acts next.

    A proposal goes to the other side (the school's attendance leads for the link officer's
    date, the link officer for a date the school proposed), with the date and a link; a
    confirmation and a cancellation go to both sides with the .ics attached. Nothing is sent
    if the meeting has moved on since (another date, another state): the later change has its
    own email. Returns how many emails were sent.
    """
    meeting = (
        TargetingSupportMeeting.objects.filter(pk=meeting_id)
        .select_related("school", "school__link_officer", "link_officer", "round__term",
                        "proposed_by", "confirmed_by", "cancelled_by")
        .first()
    )
    wanted_status = {BookingEmail.PROPOSED: MeetingStatus.PROPOSED,
                     BookingEmail.CONFIRMED: MeetingStatus.CONFIRMED,
                     BookingEmail.CANCELLED: MeetingStatus.CANCELLED}[event]
    if (meeting is None or meeting.sequence != sequence or meeting.status != wanted_status
            or meeting.proposed_start is None):
        return 0
    officer = meeting.school.link_officer or meeting.link_officer
    officers = [officer] if officer and officer.is_active and officer.email else []
    if event == BookingEmail.PROPOSED:
        people = officers if _proposed_by_school(meeting) else _school_leads(meeting)
    else:
        people = officers + [lead for lead in _school_leads(meeting)
                             if lead.pk not in {o.pk for o in officers}]
    url = _meeting_url(meeting)
    messages = [_booking_message(meeting, event, person, url) for person in people]
    if messages:
        get_connection(fail_silently=False).send_messages(messages)
    return len(messages)


# --- reminders -------------------------------------------------------------------------------


def meeting_reminders_send(*, now: datetime | None = None) -> int:
    """Email both parties of each confirmed meeting starting in the next two days, once.

    A meeting is claimed by setting ``reminded_at`` where it is still empty, so two workers
    never send the same reminder; if sending fails the claim is released for the retry.
    Rebooking a meeting clears ``reminded_at``, so the new date is reminded too.
    """
    from accounts.models import User

    now = now or timezone.now()
    due = TargetingSupportMeeting.objects.filter(
        status=MeetingStatus.CONFIRMED, reminded_at__isnull=True,
        proposed_start__gt=now, proposed_start__lte=now + timedelta(days=REMINDER_DAYS),
    ).select_related("school", "link_officer", "round__term")
    sent = 0
    for meeting in due:
        claimed = TargetingSupportMeeting.objects.filter(
            pk=meeting.pk, reminded_at__isnull=True).update(reminded_at=now)
        if not claimed:
            continue
        leads = User.objects.filter(is_active=True, is_school_lead=True, school=meeting.school)
        people = [meeting.link_officer, *leads]
        when = timezone.localtime(meeting.proposed_start)
        messages = [
            (
                f"Reminder: Targeting Support Meeting, {meeting.school.name}, "
                f"{when:%A %-d %B at %H:%M}",
                f"Hello {person.full_name},\n\nThis is a reminder of the {meeting.round.term} "
                f"Targeting Support Meeting for {meeting.school.name} on {when:%A %-d %B %Y} "
                f"at {when:%H:%M}"
                + (f" ({meeting.location})" if meeting.location else "")
                + f".\n\nTheme: {meeting.round.theme}\n\nThe meeting pack and agenda: "
                f"{_meeting_url(meeting)}\n",
                settings.DEFAULT_FROM_EMAIL,
                [person.email],
            )
            for person in people if person.is_active and person.email
        ]
        try:
            send_mass_mail(messages, fail_silently=False)
        except Exception:
            TargetingSupportMeeting.objects.filter(pk=meeting.pk, reminded_at=now).update(
                reminded_at=None)
            raise
        sent += 1
    return sent

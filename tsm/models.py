"""Targeting Support Meetings: a termly round, one meeting per school, its agenda, notes and
actions.

Invariants live in the database (check and unique constraints); the rules about who may move a
meeting from one state to the next live in ``tsm/services.py``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# Lincolnshire's TSM template (002 seed) and the DfE good-practice agenda (004 seed).
DEFAULT_AGENDA = [
    "Actions from the last meeting",
    "School attendance priorities",
    "Local authority attendance priorities",
    "Pupils in the five attendance bands",
    "Severely absent pupils (discussed first, by name)",
    "Cohorts: FSM, SEN support, EHCP, CIN / CP / CLA, year groups, ethnicity",
    "Successes and areas for improvement",
    "Agreed actions",
]


class TsmRound(models.Model):
    """A term's round of TSMs, opened by a manager with the term's theme and agenda.

    The academic year is the term's (``term.academic_year``), so the two can never disagree.
    """

    term = models.OneToOneField("schools.Term", on_delete=models.PROTECT, related_name="tsm_round")
    theme = models.CharField(max_length=200, help_text="The term's theme, shared in advance")
    agenda_template = models.JSONField(
        default=list, blank=True,
        help_text="Agenda item titles copied onto every meeting of the round, in order",
    )
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-term__start_date"]
        verbose_name = "TSM round"

    def __str__(self):
        return f"TSMs {self.term}: {self.theme}"

    @property
    def academic_year(self):
        return self.term.academic_year


class MeetingStatus(models.TextChoices):
    TO_BOOK = "to_book", "Not booked yet"
    PROPOSED = "proposed", "Date proposed"
    CONFIRMED = "confirmed", "Confirmed"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class TargetingSupportMeeting(models.Model):
    """One school's TSM in one round. Overdue (the term ended and it was not held) is computed."""

    Status = MeetingStatus

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="tsms")
    round = models.ForeignKey(TsmRound, on_delete=models.PROTECT, related_name="meetings")
    link_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tsm_meetings",
        help_text="The school's link officer when the round opened (kept up to date until held)",
    )
    status = models.CharField(max_length=10, choices=MeetingStatus.choices,
                              default=MeetingStatus.TO_BOOK)
    proposed_start = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    location = models.CharField(max_length=200, blank=True,
                                help_text="A room, an address or 'Microsoft Teams'")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    held_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    snapshot = models.JSONField(null=True, blank=True,
                                help_text="The meeting pack as it was when the meeting was held")
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True, default="")
    reminded_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When the reminder email went to both parties")
    sequence = models.PositiveIntegerField(
        default=0, help_text="iCalendar SEQUENCE: goes up each time the date changes")

    class Meta:
        ordering = ["round", "school__name"]
        verbose_name = "targeting support meeting"
        constraints = [
            models.UniqueConstraint(fields=["school", "round"], name="one_tsm_per_school_round"),
            models.CheckConstraint(
                condition=Q(status__in=MeetingStatus.values), name="tsm_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=MeetingStatus.CANCELLED) & ~Q(cancellation_reason="")
                           & Q(cancelled_at__isnull=False))
                | (~Q(status=MeetingStatus.CANCELLED) & Q(cancellation_reason="")),
                name="tsm_cancelled_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[MeetingStatus.TO_BOOK, MeetingStatus.CANCELLED])
                | (Q(proposed_start__isnull=False) & Q(proposed_by__isnull=False)),
                name="tsm_booked_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[MeetingStatus.CONFIRMED, MeetingStatus.HELD])
                | (Q(confirmed_by__isnull=False) & Q(confirmed_at__isnull=False)),
                name="tsm_confirmed_by_someone",
            ),
            models.CheckConstraint(
                condition=(Q(status=MeetingStatus.HELD) & Q(held_at__isnull=False)
                           & Q(snapshot__isnull=False))
                | (~Q(status=MeetingStatus.HELD) & Q(held_at__isnull=True)
                   & Q(snapshot__isnull=True)),
                name="tsm_held_has_snapshot",
            ),
            models.CheckConstraint(condition=Q(duration_minutes__gte=15)
                                   & Q(duration_minutes__lte=480),
                                   name="tsm_duration_sensible"),
        ]
        indexes = [models.Index(fields=["status", "proposed_start"], name="tsm_status_start")]

    def __str__(self):
        return f"TSM {self.school.name}, {self.round.term}"

    @property
    def term(self):
        return self.round.term

    @property
    def end(self):
        if self.proposed_start is None:
            return None
        return self.proposed_start + timezone.timedelta(minutes=self.duration_minutes)

    def is_overdue(self, today=None) -> bool:
        """The term has ended and the meeting was not held (cancelled ones count too)."""
        today = today or timezone.localdate()
        return self.status != MeetingStatus.HELD and self.round.term.end_date < today


class AgendaItem(models.Model):
    meeting = models.ForeignKey(TargetingSupportMeeting, on_delete=models.CASCADE,
                                related_name="agenda_items")
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["meeting", "order"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "order"], name="one_agenda_item_per_place"),
            models.CheckConstraint(condition=~Q(title=""), name="agenda_item_has_title"),
        ]

    def __str__(self):
        return f"{self.order}. {self.title}"


class PupilNote(models.Model):
    """What was said about one pupil at one meeting (one note per pupil per meeting)."""

    meeting = models.ForeignKey(TargetingSupportMeeting, on_delete=models.CASCADE,
                                related_name="pupil_notes")
    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.CASCADE, related_name="tsm_notes")
    note = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["meeting", "pupil__surname", "pupil__forename"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "pupil"], name="one_note_per_pupil_meeting"),
        ]

    def __str__(self):
        return f"Note on {self.pupil_id} at meeting {self.meeting_id}"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"
    CARRIED = "carried", "Carried forward"


class Action(models.Model):
    """An action agreed at a meeting, with an owner and a due date.

    An action still open when the school's next meeting is created is carried forward: a copy
    on the next meeting points back at it (``carried_from``) and the original becomes
    "carried forward", so an action is open in one place only.
    """

    Status = ActionStatus

    meeting = models.ForeignKey(TargetingSupportMeeting, on_delete=models.CASCADE,
                                related_name="actions")
    description = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="tsm_actions")
    due_date = models.DateField()
    pupil = models.ForeignKey("pupils.Pupil", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="tsm_actions")
    status = models.CharField(max_length=10, choices=ActionStatus.choices,
                              default=ActionStatus.OPEN)
    carried_from = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="carried_to")
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["meeting", "due_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ActionStatus.values),
                                   name="tsm_action_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=ActionStatus.DONE) & Q(completed_at__isnull=False))
                | (~Q(status=ActionStatus.DONE) & Q(completed_at__isnull=True)),
                name="tsm_action_done_has_date",
            ),
            models.CheckConstraint(condition=~Q(description=""), name="tsm_action_described"),
        ]
        indexes = [models.Index(fields=["owner", "status"], name="tsm_action_owner_status")]

    def __str__(self):
        return self.description[:60]

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.status == ActionStatus.OPEN and self.due_date < today

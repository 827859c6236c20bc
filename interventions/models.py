"""Casework: the graduated response, the chronology and the legal route (DOMAIN.md).

Everything that records a decision keeps who made it and when. The chronology and the legal
records are append-only: a database trigger (migration 0002) refuses UPDATE and DELETE on them,
so a court-ready chronology can never be rewritten; a mistake is corrected by a new entry.
Penalty notices follow the National Framework (from 19 August 2024): the three-year rule is
decided in ``services.penalty_notice_record`` and backed here by checks, a partial unique index
and a trigger (see docs/legal-route.md).
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

FIRST_NOTICE_AMOUNT = Decimal("160.00")
FIRST_NOTICE_REDUCED = Decimal("80.00")
SECOND_NOTICE_AMOUNT = Decimal("160.00")
FRAMEWORK_START = date(2024, 8, 19)


class Stage(models.TextChoices):
    """The DfE ladder (Working together to improve school attendance, 2024)."""

    EXPECT = "expect", "Expect"
    MONITOR = "monitor", "Monitor"
    LISTEN = "listen_and_understand", "Listen and understand"
    FACILITATE = "facilitate_support", "Facilitate support"
    FORMALISE = "formalise_support", "Formalise support"
    ENFORCE = "enforce", "Enforce"


STAGE_ORDER = list(Stage.values)


class Family(models.Model):
    """Links siblings, who may be at different schools, for whole-family work."""

    reference = models.CharField(max_length=100, help_text="e.g. a surname and postcode area")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "families"

    def __str__(self):
        return self.reference


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ON_HOLD = "on_hold", "On hold"
        CLOSED = "closed", "Closed"

    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.PROTECT, related_name="cases")
    family = models.ForeignKey(Family, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="cases")
    stage = models.CharField(max_length=30, choices=Stage.choices, default=Stage.MONITOR)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    on_hold_review_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="owned_cases")
    reason = models.TextField(help_text="Why the case was opened")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["pupil"], condition=~Q(status="closed"),
                                    name="one_live_case_per_pupil"),
            models.CheckConstraint(
                condition=Q(status="on_hold", on_hold_review_date__isnull=False)
                | (~Q(status="on_hold") & Q(on_hold_review_date__isnull=True)),
                name="on_hold_has_review_date",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False, closed_by__isnull=False)
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="closed_has_who_and_when",
            ),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="case_stage_valid"),
        ]

    def __str__(self):
        return f"Case {self.pk}: {self.pupil}"


class InterventionType(models.TextChoices):
    EARLY_HELP = "early_help_assessment", "Early help assessment"
    TAC = "team_around_the_child", "Team around the child (TAC)"
    WHOLE_FAMILY = "whole_family_support", "Whole-family support"
    ATTENDANCE_CONTRACT = "attendance_contract", "Attendance contract (formerly parenting contract)"
    PART_TIME = "part_time_timetable", "Reduced or part-time timetable (C2)"
    AP = "alternative_provision", "Alternative provision placement"
    ESO = "education_supervision_order", "Education supervision order"
    NOTICE_TO_IMPROVE = "notice_to_improve", "Notice to improve"
    PENALTY_NOTICE = "penalty_notice", "Penalty notice"
    PROSECUTION = "prosecution", "Prosecution (s444 Education Act 1996)"
    OTHER = "other", "Other"


class Intervention(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="interventions")
    type = models.CharField(max_length=30, choices=InterventionType.choices)
    description = models.CharField(max_length=200, blank=True,
                                   help_text="What, in a line (required for 'Other')")
    start_date = models.DateField()
    review_date = models.DateField(null=True, blank=True)
    planned_end_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="owned_interventions")
    outcome = models.TextField(blank=True)
    provider_name = models.CharField("provider", max_length=200, blank=True)
    provider_school = models.ForeignKey(
        "schools.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="When the alternative provision is a school on the LA's list",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(type__in=InterventionType.values),
                                   name="intervention_type_valid"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="intervention_end_after_start"),
            models.CheckConstraint(
                condition=Q(planned_end_date__isnull=True)
                | Q(planned_end_date__gte=F("start_date")),
                name="intervention_planned_end_after_start"),
            models.CheckConstraint(
                condition=Q(review_date__isnull=True) | Q(review_date__gte=F("start_date")),
                name="intervention_review_after_start"),
            # A part-time timetable must be time-limited and reviewed (DfE guidance).
            models.CheckConstraint(
                condition=~Q(type="part_time_timetable")
                | Q(planned_end_date__isnull=False, review_date__isnull=False),
                name="part_time_is_time_limited"),
            models.CheckConstraint(
                condition=~Q(type="alternative_provision") | ~Q(provider_name="")
                | Q(provider_school__isnull=False),
                name="ap_names_provider"),
            models.CheckConstraint(condition=~Q(type="other") | ~Q(description=""),
                                   name="other_is_described"),
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(ended_by__isnull=False),
                                   name="intervention_ended_by_someone"),
        ]
        indexes = [models.Index(fields=["type", "end_date"])]

    def __str__(self):
        return f"{self.get_type_display()} from {self.start_date}"

    @property
    def is_current(self) -> bool:
        return self.end_date is None


class InterventionReview(models.Model):
    """A review of an intervention (a part-time timetable must be reviewed): who recorded it,
    when it was held, what it found and decided, and when the next review is due. The latest
    review's ``next_review_date`` replaces the intervention's ``review_date`` as the date the
    next review is due (the oversight list's "Review overdue"). Append-only (migration 0003)."""

    intervention = models.ForeignKey(Intervention, on_delete=models.PROTECT,
                                     related_name="reviews")
    reviewed_on = models.DateField()
    note = models.TextField()
    next_review_date = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reviewed_on", "recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="review_note_required"),
            models.CheckConstraint(
                condition=Q(next_review_date__isnull=True)
                | Q(next_review_date__gt=F("reviewed_on")),
                name="review_next_after_review"),
        ]

    def __str__(self):
        return f"Review on {self.reviewed_on}"


class ChronologyEntry(models.Model):
    """One dated event in the case. Append-only (database trigger)."""

    class Kind(models.TextChoices):
        CONTACT = "contact", "Contact"
        VISIT = "visit", "Home or school visit"
        LETTER = "letter", "Letter"
        MEETING = "meeting", "Meeting"
        DECISION = "decision", "Decision"
        NOTE = "note", "Note"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="chronology")
    occurred_on = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    note = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="corrections",
                                 help_text="The earlier entry this one corrects")

    class Meta:
        ordering = ["occurred_on", "recorded_at", "pk"]
        verbose_name_plural = "chronology entries"
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="chronology_note_required"),
            models.CheckConstraint(condition=Q(kind__in=["contact", "visit", "letter", "meeting",
                                                         "decision", "note"]),
                                   name="chronology_kind_valid"),
        ]

    def __str__(self):
        return f"{self.occurred_on} {self.get_kind_display()}"


# --- Legal gates (002 seed: joint decision making on enforcement) ----------------------------

class OfficerConsultation(models.Model):
    """Gate 1: the school discussed the child with its named attendance officer."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consultations")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+", limit_choices_to={"is_la_officer": True})
    consulted_on = models.DateField()
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consulted_on", "pk"]

    def __str__(self):
        return f"Case {self.case_id}: attendance officer consulted on {self.consulted_on}"


class AlternativesConsidered(models.Model):
    """Gate 2: other approaches and support were considered, and what was decided."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="alternatives")
    alternatives = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name_plural = "alternatives considered"
        constraints = [
            models.CheckConstraint(condition=~Q(alternatives=""), name="alternatives_written"),
        ]

    def __str__(self):
        return f"Case {self.case_id}: alternatives considered"


class SocialWorkerDecision(models.Model):
    """Gate 3: for a CIN or CP child, the allocated social worker agrees (or declines)."""

    class Decision(models.TextChoices):
        AGREED = "agreed", "Agreed"
        DECLINED = "declined", "Declined"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="social_worker_decisions")
    social_worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    note = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(decision__in=["agreed", "declined"]),
                                   name="sw_decision_valid"),
            models.CheckConstraint(condition=Q(decision="agreed") | ~Q(note=""),
                                   name="sw_decline_has_reason"),
        ]

    def __str__(self):
        return f"Case {self.case_id}: social worker {self.get_decision_display().lower()}"


class CaseHold(models.Model):
    """Gate 4: a legal approach put on hold gets a case review in the agreed timescale."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="holds")
    reason = models.TextField()
    started_on = models.DateField()
    review_due = models.DateField()
    put_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    put_at = models.DateTimeField(auto_now_add=True)
    reviewed_on = models.DateField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["started_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(reviewed_on__isnull=True),
                                    name="one_open_hold_per_case"),
            models.CheckConstraint(condition=Q(review_due__gte=F("started_on")),
                                   name="hold_review_after_start"),
            models.CheckConstraint(
                condition=Q(reviewed_on__isnull=True, reviewed_by__isnull=True)
                | Q(reviewed_on__isnull=False, reviewed_by__isnull=False),
                name="hold_review_who_and_when"),
        ]

    def __str__(self):
        return f"Case {self.case_id}: on hold from {self.started_on}, review by {self.review_due}"


class LegalDecision(models.Model):
    """A decision on the legal route: who, when, what. Append-only."""

    class Kind(models.TextChoices):
        PROSECUTION_STARTED = "prosecution_started", "Case proceeds as prosecution (s444)"
        PUT_ON_HOLD = "put_on_hold", "Legal approach put on hold"
        HOLD_REVIEWED = "hold_reviewed", "Case reviewed after hold"
        NO_LEGAL_ACTION = "no_legal_action", "No legal action"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="legal_decisions")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "pk"]

    def __str__(self):
        return f"Case {self.case_id}: {self.get_kind_display()}"


# --- Penalty notices (National Framework, from 19 August 2024) --------------------------------

class PenaltyNotice(models.Model):
    """A notice issued by the school or LA, recorded here. The portal never issues one itself.

    ``sequence`` is 1 for the first notice to this parent for this child in a three-year period
    (starting at ``period_start``, the first notice's issue date), 2 for the second. There is no
    third: the service refuses it, and the database trigger refuses a live first notice whose
    three-year period overlaps another's.
    """

    class Status(models.TextChoices):
        UNPAID = "unpaid", "Unpaid"
        PAID = "paid", "Paid"
        WITHDRAWN = "withdrawn", "Withdrawn"

    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.PROTECT,
                              related_name="penalty_notices")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="penalty_notices")
    parent_name = models.CharField(max_length=150)
    parent_key = models.CharField(max_length=150, help_text="The name, normalised for matching")
    issued_on = models.DateField()
    sequence = models.PositiveSmallIntegerField()
    period_start = models.DateField()
    amount = models.DecimalField(max_digits=6, decimal_places=2)
    reduced_amount = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    reduced_by = models.DateField(null=True, blank=True, help_text="Pay by this day for the "
                                  "reduced amount (21 days)")
    pay_by = models.DateField(help_text="28 days from issue")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNPAID)
    paid_on = models.DateField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(sequence__in=[1, 2]), name="pn_first_or_second"),
            models.CheckConstraint(
                condition=Q(sequence=1, period_start=F("issued_on"), amount=FIRST_NOTICE_AMOUNT,
                            reduced_amount=FIRST_NOTICE_REDUCED, reduced_by__isnull=False)
                | Q(sequence=2, period_start__lt=F("issued_on"), amount=SECOND_NOTICE_AMOUNT,
                    reduced_amount__isnull=True, reduced_by__isnull=True),
                name="pn_amounts_follow_sequence"),
            models.CheckConstraint(condition=Q(issued_on__gte=FRAMEWORK_START),
                                   name="pn_under_national_framework"),
            models.CheckConstraint(condition=Q(pay_by__gt=F("issued_on")), name="pn_pay_by"),
            models.CheckConstraint(condition=Q(status="paid", paid_on__isnull=False)
                                   | (~Q(status="paid") & Q(paid_on__isnull=True)),
                                   name="pn_paid_has_date"),
            models.CheckConstraint(condition=Q(status__in=["unpaid", "paid", "withdrawn"]),
                                   name="pn_status_valid"),
            models.UniqueConstraint(fields=["pupil", "parent_key", "period_start", "sequence"],
                                    condition=~Q(status="withdrawn"),
                                    name="pn_one_first_and_one_second_per_period"),
        ]
        indexes = [models.Index(fields=["pupil", "parent_key", "issued_on"])]

    def __str__(self):
        return f"Penalty notice to {self.parent_name} on {self.issued_on}"

    @property
    def counts(self) -> bool:
        return self.status != self.Status.WITHDRAWN

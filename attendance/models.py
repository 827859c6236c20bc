"""Attendance codes, session marks, register imports and summary rows.

SessionMark is the big table (≈ 7.6 M rows a year for a city): one row per pupil, school and
date with the AM and PM codes. It is written only by ``attendance.loading`` (COPY into a staging
table, then one INSERT … ON CONFLICT), never by ``save()`` in a loop.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

# The academic year (named by its first calendar year) from which the 2024 code set applies:
# the School Attendance (Pupil Registration) (England) Regulations 2024 came into force on
# 19 August 2024, before the 2024/25 year began.
CODES_2024_FIRST_YEAR = 2024


class CodeCategory(models.TextChoices):
    PRESENT = "present", "Present"
    APPROVED_ACTIVITY = "approved_activity", "Attending an approved educational activity"
    AUTHORISED = "authorised", "Authorised absence"
    UNAUTHORISED = "unauthorised", "Unauthorised absence"
    NOT_POSSIBLE = "not_possible", "Not a possible session"


class AttendanceCode(models.Model):
    """A register code and how it counts. Filled by migration 0002 (DfE 2024 set + legacy).

    ``first_year``/``last_year`` bound the academic years (start years) in which the code may be
    used; null means open-ended. A code used outside its years is an import error.
    """

    code = models.CharField(max_length=2, unique=True)
    meaning = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=CodeCategory.choices)
    counts_as_possible = models.BooleanField()
    counts_as_attended = models.BooleanField()
    first_year = models.PositiveSmallIntegerField(null=True, blank=True)
    last_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(counts_as_attended=False) | Q(counts_as_possible=True),
                name="attended_implies_possible",
            ),
            models.CheckConstraint(
                condition=Q(first_year__isnull=True) | Q(last_year__isnull=True)
                | Q(last_year__gte=F("first_year")),
                name="code_years_order",
            ),
        ]

    def __str__(self):
        return f"{self.code}: {self.meaning}"


class LegacyCodeMapping(models.Model):
    """How a code written before the 2024 regulations is read, by academic year.

    Explicit and listed in the import report whenever used; nothing is recoded silently. A legacy
    code is stored as written (``stored_as`` is the AttendanceCode row that gives its counts for
    those years), so historic ``J`` stays attended for its own year.
    """

    code = models.CharField(max_length=2)
    first_year = models.PositiveSmallIntegerField(null=True, blank=True)
    last_year = models.PositiveSmallIntegerField()
    stored_as = models.CharField(max_length=2)
    meaning_then = models.CharField(max_length=200)
    note = models.CharField(max_length=300)

    class Meta:
        ordering = ["code", "last_year"]
        constraints = [
            models.UniqueConstraint(fields=["code", "last_year"], name="one_legacy_mapping"),
        ]

    def __str__(self):
        return f"{self.code} (to {self.last_year}/{(self.last_year + 1) % 100:02d}) → {self.stored_as}"


class SessionMark(models.Model):
    """One pupil, one school, one date: the AM and PM codes (null: no mark for that session).

    The primary key is the natural key (pupil, date, school) (migration 0007; there is no
    surrogate id): it serves "this pupil, this year" and is the ON CONFLICT target; (school,
    date) serves "this school, this date range". The FK columns are plain integers in the table
    (pupil_id, school_id) so COPY writes them directly; their own single-column indexes are left
    out because the two composite indexes lead with them.
    """

    pk = models.CompositePrimaryKey("pupil", "date", "school")
    pupil = models.ForeignKey(
        "pupils.Pupil", on_delete=models.PROTECT, related_name="session_marks", db_index=False
    )
    school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="session_marks", db_index=False
    )
    date = models.DateField()
    am = models.CharField(max_length=2, null=True, blank=True)
    pm = models.CharField(max_length=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(am__isnull=False) | Q(pm__isnull=False), name="mark_row_not_empty"
            ),
        ]
        indexes = [models.Index(fields=["school", "date"], name="sessionmark_school_date")]

    def __str__(self):
        return f"{self.pupil_id} {self.school_id} {self.date}: {self.am or '-'}{self.pm or '-'}"


class ImportRun(models.Model):
    """One register import: the stored file, what was found in it, and what was written."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to start"
        RUNNING = "running", "Running"
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
        APPLY_VALID = "apply_valid", "Apply valid rows, list the rejected ones"

    MAX_STORED_ERRORS = 1000

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="import_runs",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    school = models.ForeignKey(
        "schools.School", null=True, blank=True, on_delete=models.PROTECT,
        related_name="import_runs", help_text="Empty when the file names its own school(s).",
    )
    original_filename = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    format_detected = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)

    rows = models.PositiveIntegerField(default=0, help_text="Data rows (or pupils, for CTF) read")
    marks = models.PositiveIntegerField(default=0, help_text="Session marks read")
    inserted = models.PositiveIntegerField(default=0, help_text="Marks newly recorded")
    updated = models.PositiveIntegerField(default=0, help_text="Marks whose code changed")
    unchanged = models.PositiveIntegerField(default=0, help_text="Marks already held as given")
    rejected = models.PositiveIntegerField(default=0, help_text="Marks (or rows) with an error")
    duration = models.DurationField(null=True, blank=True)

    errors = models.JSONField(default=list, blank=True,
                              help_text="First errors: {file, line, column, value, message}")
    error_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    legacy_code_mappings = models.JSONField(default=list, blank=True)
    school_urns = models.JSONField(default=list, blank=True, help_text="Schools the file wrote to")
    message = models.TextField(blank=True, help_text="One-paragraph outcome for the user")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["school", "-created_at"]), models.Index(fields=["sha256"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(started_at__isnull=False),
                name="import_finished_after_start",
            ),
        ]

    def __str__(self):
        return f"Import {self.pk} {self.original_filename} ({self.status})"


class SummaryRecord(models.Model):
    """Session counts for a pupil over a period, from a summary-rows file. Kept apart from marks:
    a summary can never be turned back into marks, and marks always win where both exist."""

    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.PROTECT,
                              related_name="summary_records")
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT,
                               related_name="summary_records", db_index=False)
    date_from = models.DateField()
    date_to = models.DateField()
    possible = models.PositiveIntegerField()
    attended = models.PositiveIntegerField()
    authorised = models.PositiveIntegerField()
    unauthorised = models.PositiveIntegerField()
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="summary_records")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pupil", "school", "date_from", "date_to"],
                                    name="one_summary_per_period"),
            models.CheckConstraint(condition=Q(date_to__gte=F("date_from")),
                                   name="summary_period_order"),
            models.CheckConstraint(
                condition=Q(possible=F("attended") + F("authorised") + F("unauthorised")),
                name="summary_sessions_add_up",
            ),
        ]
        indexes = [models.Index(fields=["school", "date_from"])]

    def __str__(self):
        return f"{self.pupil_id} {self.date_from}–{self.date_to}: {self.attended}/{self.possible}"


# Summaries, bands and band history (the nightly job): see attendance/classification.py.
from attendance.summary_models import (  # noqa: E402,F401
    BandHistory,
    MarkCount,
    MarkSpan,
    PupilSummary,
    ReclassificationRun,
    WeeklyAttendance,
)

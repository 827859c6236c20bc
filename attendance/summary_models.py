"""Pupil summaries and band history: what the nightly job writes and every page reads.

Imported by attendance/models.py so Django sees them as models of the attendance app.
"""

from django.db import models
from django.db.models import F, Q

from attendance.bands import Band, rate_tenths


class PupilSummary(models.Model):
    """A pupil's figures for one academic year up to ``as_of``, at one school or (school empty)
    city-wide, combining all their schools. Written only by ``attendance.classification``."""

    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.CASCADE,
                              related_name="summaries", db_index=False)
    # No index of its own: summary_school_band leads with the school.
    school = models.ForeignKey("schools.School", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="pupil_summaries", db_index=False)
    academic_year = models.PositiveSmallIntegerField(
        help_text="First calendar year: 2025 = 2025/26")
    as_of = models.DateField()
    possible = models.PositiveIntegerField()
    attended = models.PositiveIntegerField()
    authorised = models.PositiveIntegerField()
    unauthorised = models.PositiveIntegerField()
    code_counts = models.JSONField(default=dict)
    first_marked = models.DateField(null=True, blank=True)
    last_marked = models.DateField(null=True, blank=True)
    from_summary_rows = models.BooleanField(
        default=False, help_text="Figures come from a school's totals, not from marks"
    )
    band = models.PositiveSmallIntegerField(choices=Band.choices, null=True, blank=True)
    recent_possible = models.PositiveIntegerField(default=0)
    recent_attended = models.PositiveIntegerField(default=0)
    recent_band = models.PositiveSmallIntegerField(choices=Band.choices, null=True, blank=True)
    projected_band = models.PositiveSmallIntegerField(choices=Band.choices, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pupil", "academic_year", "school"],
                                    name="one_summary_per_pupil_year_school",
                                    nulls_distinct=False),
            models.CheckConstraint(condition=Q(attended__lte=F("possible")),
                                   name="attended_within_possible"),
            models.CheckConstraint(
                condition=Q(possible=0, band__isnull=True) | Q(possible__gt=0, band__isnull=False),
                name="band_iff_possible",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "academic_year", "band"], name="summary_school_band"),
            models.Index(fields=["academic_year", "band"], name="summary_year_band",
                         condition=Q(school__isnull=True)),
        ]

    def __str__(self):
        return f"{self.pupil_id} {self.academic_year} {self.school_id or 'city'}: {self.band}"

    @property
    def rate(self) -> float | None:
        """Per cent to one decimal, never contradicting the band (attendance.bands.rate_tenths)."""
        tenths = rate_tenths(attended=self.attended, possible=self.possible)
        return None if tenths is None else tenths / 10

    @property
    def recent_rate(self) -> float | None:
        tenths = rate_tenths(attended=self.recent_attended, possible=self.recent_possible)
        return None if tenths is None else tenths / 10


class WeeklyAttendance(models.Model):
    """A pupil's sessions at one school in one week (Monday start), from marks only. A week
    that straddles 1 September has a row in each academic year; a week whose marks are all
    not possible sessions (X, Z …) has a row of zeros.

    Kept equal to the marks held by the triggers on attendance_sessionmark (see MarkCount), so
    it is current as soon as an import commits; the week-by-week trends and sparklines read it,
    so no page groups raw marks by week. Summary rows (totals-only schools) have no weeks."""

    pk = models.CompositePrimaryKey("pupil", "school", "academic_year", "week_start")
    # No foreign-key constraints, as for MarkCount: the marks counted hold them.
    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.DO_NOTHING, db_constraint=False,
                              db_index=False, related_name="+")
    school = models.ForeignKey("schools.School", on_delete=models.DO_NOTHING,
                               db_constraint=False, db_index=False, related_name="+")
    academic_year = models.PositiveSmallIntegerField()
    week_start = models.DateField(help_text="The Monday of the week")
    possible = models.PositiveIntegerField()
    attended = models.PositiveIntegerField()
    authorised = models.PositiveIntegerField()
    unauthorised = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(attended__lte=F("possible")),
                                   name="weekly_attended_within_possible"),
            models.CheckConstraint(condition=Q(week_start__week_day=2),
                                   name="weekly_starts_on_monday"),
        ]
        indexes = [models.Index(fields=["academic_year", "week_start"],
                                name="weekly_year_week"),
                   models.Index(fields=["school", "academic_year", "week_start"],
                                name="weekly_school_year_week")]

    def __str__(self):
        return f"{self.pupil_id} {self.school_id} {self.week_start}: " \
            f"{self.attended}/{self.possible}"


class MarkCount(models.Model):
    """How many sessions of each code a pupil has at a school in one academic year: the marks,
    counted. With WeeklyAttendance (the same marks per week), kept exact by PostgreSQL
    statement-level triggers on attendance_sessionmark (migration 0006_markcount): every INSERT,
    UPDATE, DELETE and TRUNCATE, whoever writes (the importer's COPY + upsert, the demo,
    bulk_create, queryset update and delete), adds or subtracts what it changed, set-based from
    the statement's transition tables. The nightly job reads these ≈ 350,000 rows a year instead
    of ≈ 15 M session values. ``attendance.classification.mark_counts_rebuild`` recounts the
    tables (and MarkSpan) from the marks. Never written by Django code."""

    pk = models.CompositePrimaryKey("academic_year", "pupil", "school", "code")
    academic_year = models.PositiveSmallIntegerField()
    # No foreign-key constraints: the marks counted hold them already, and a per-row check
    # would cost every import.
    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.DO_NOTHING, db_constraint=False,
                              db_index=False, related_name="+")
    school = models.ForeignKey("schools.School", on_delete=models.DO_NOTHING,
                               db_constraint=False, db_index=False, related_name="+")
    code = models.CharField(max_length=2)
    sessions = models.PositiveIntegerField()

    def __str__(self):
        return f"{self.pupil_id} {self.school_id} {self.academic_year} {self.code}: {self.sessions}"


class MarkSpan(models.Model):
    """The first and last date a pupil has a mark at a school in an academic year: kept exact
    by the same triggers as MarkCount (migration 0011), so the nightly job reads a row here
    instead of two index descents into the marks per pupil and school. An insert widens the
    span; a delete or update that removes the first or last marked day looks the new one up."""

    pk = models.CompositePrimaryKey("pupil", "school", "academic_year")
    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.DO_NOTHING, db_constraint=False,
                              db_index=False, related_name="+")
    school = models.ForeignKey("schools.School", on_delete=models.DO_NOTHING,
                               db_constraint=False, db_index=False, related_name="+")
    academic_year = models.PositiveSmallIntegerField()
    first_marked = models.DateField()
    last_marked = models.DateField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(first_marked__lte=F("last_marked")),
                                   name="mark_span_in_order"),
        ]

    def __str__(self):
        return (f"{self.pupil_id} {self.school_id} {self.academic_year}: "
                f"{self.first_marked} to {self.last_marked}")


class BandHistory(models.Model):
    """One row per pupil per change of their city-wide band (from/to, when, the figures)."""

    # No index of its own: one_band_change_per_pupil_day leads with the pupil.
    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.CASCADE,
                              related_name="band_history", db_index=False)
    academic_year = models.PositiveSmallIntegerField()
    changed_on = models.DateField()
    from_band = models.PositiveSmallIntegerField(choices=Band.choices, null=True, blank=True)
    to_band = models.PositiveSmallIntegerField(choices=Band.choices, null=True, blank=True)
    possible = models.PositiveIntegerField()
    attended = models.PositiveIntegerField()

    class Meta:
        ordering = ["pupil", "-changed_on"]
        constraints = [
            models.UniqueConstraint(fields=["pupil", "academic_year", "changed_on"],
                                    name="one_band_change_per_pupil_day"),
        ]
        indexes = [models.Index(fields=["academic_year", "changed_on"])]
        verbose_name_plural = "band history"

    def __str__(self):
        return f"{self.pupil_id} {self.changed_on}: {self.from_band} → {self.to_band}"


class ReclassificationRun(models.Model):
    """A record of each nightly (or per-school) run: when, for what date, what changed."""

    started_at = models.DateTimeField(auto_now_add=True)
    as_of = models.DateField()
    school_ids = models.JSONField(null=True, blank=True, help_text="Empty: the whole city")
    pupils = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    alerts_raised = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Reclassification as of {self.as_of}"

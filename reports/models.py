"""Reference figures the dashboards compare the city with. Reports never write anything else."""

from django.db import models


class BenchmarkFigure(models.Model):
    """A published national or statistical-neighbour figure for one measure and one group.

    ``breakdown`` names the group the way the dashboard does: ``all``, ``phase:primary``,
    ``fsm:yes``, ``sen_support:yes``, ``ehcp:yes``, ``sex:F``, ``year_group:7``,
    ``ethnicity:white_british`` … Pre-filled from the Plymouth attendance strategy (seed 000) by
    migration 0002 and with the children's social care figures of seed 001 (CINO, CLA, CPPO,
    2022/23, England and the South West) by 0004; editable in the admin when the DfE publishes
    new figures.
    """

    class Measure(models.TextChoices):
        ABSENCE = "absence", "Overall absence rate"
        PA = "pa", "Persistent absence rate"
        SA = "sa", "Severe absence rate"
        UNAUTHORISED = "unauthorised", "Unauthorised absence rate"

    class Area(models.TextChoices):
        NATIONAL = "national", "National (England)"
        STATISTICAL_NEIGHBOUR = "statistical_neighbour", "Statistical neighbours"
        REGION = "region", "Region (South West)"

    class Period(models.TextChoices):
        FULL_YEAR = "full_year", "Full academic year"
        AUTUMN_TERM = "autumn_term", "Autumn term"

    measure = models.CharField(max_length=12, choices=Measure.choices)
    breakdown = models.CharField(max_length=60, help_text="all, phase:primary, fsm:yes …")
    area = models.CharField(max_length=30, choices=Area.choices)
    academic_year = models.CharField(max_length=7, help_text="Label, e.g. 2020/21")
    period = models.CharField(max_length=12, choices=Period.choices, default=Period.FULL_YEAR)
    value = models.DecimalField("value (%)", max_digits=5, decimal_places=1)
    source = models.TextField()

    class Meta:
        ordering = ["measure", "breakdown", "area", "-academic_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "breakdown", "area", "academic_year", "period"],
                name="one_benchmark_figure",
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=0) & models.Q(value__lte=100),
                name="benchmark_is_percentage",
            ),
        ]

    def __str__(self):
        return (f"{self.get_measure_display()} {self.breakdown} {self.get_area_display()} "
                f"{self.academic_year}: {self.value}%")


class TermSummary(models.Model):
    """A pupil's city-wide figures for one term (all their schools), for the quarterly report.

    Written only by ``reports.services.term_summaries_refresh`` (one set-based statement over the
    term's marks) after each city-wide nightly run; pages read it, never the marks. ``band`` is
    the term's own band (attendance.bands rule on the term's sessions).
    """

    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.CASCADE,
                              related_name="term_summaries", db_index=False)
    academic_year = models.PositiveSmallIntegerField(help_text="First calendar year")
    term = models.CharField(max_length=10, choices=[("autumn", "Autumn"), ("spring", "Spring"),
                                                    ("summer", "Summer")])
    as_of = models.DateField(help_text="Marks up to this day are counted")
    possible = models.PositiveIntegerField()
    attended = models.PositiveIntegerField()
    authorised = models.PositiveIntegerField()
    unauthorised = models.PositiveIntegerField()
    band = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pupil", "academic_year", "term"],
                                    name="one_term_summary_per_pupil"),
            models.CheckConstraint(condition=models.Q(attended__lte=models.F("possible")),
                                   name="term_attended_within_possible"),
        ]
        indexes = [models.Index(fields=["academic_year", "term"], name="term_summary_year_term")]

    def __str__(self):
        return f"{self.pupil_id} {self.academic_year} {self.term}: {self.attended}/{self.possible}"


class MonthlyReport(models.Model):
    """One row per month the managers' report was sent: the guard against sending it twice."""

    month = models.DateField(unique=True, help_text="First day of the month reported on")
    created_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(condition=models.Q(month__day=1), name="report_month_first_day"),
        ]

    def __str__(self):
        return f"Monthly report {self.month:%B %Y}"

"""Reference figures the dashboards compare the city with. Reports never write anything else."""

from django.db import models


class BenchmarkFigure(models.Model):
    """A published national or statistical-neighbour figure for one measure and one group.

    ``breakdown`` names the group the way the dashboard does: ``all``, ``phase:primary``,
    ``fsm:yes``, ``sen_support:yes``, ``ehcp:yes``, ``sex:F``, ``year_group:7``,
    ``ethnicity:white_british`` … Pre-filled from the Plymouth attendance strategy (seed 000) by
    migration 0002; editable in the admin when the DfE publishes new figures.
    """

    class Measure(models.TextChoices):
        ABSENCE = "absence", "Overall absence rate"
        PA = "pa", "Persistent absence rate"
        SA = "sa", "Severe absence rate"

    class Area(models.TextChoices):
        NATIONAL = "national", "National (England)"
        STATISTICAL_NEIGHBOUR = "statistical_neighbour", "Statistical neighbours"

    class Period(models.TextChoices):
        FULL_YEAR = "full_year", "Full academic year"
        AUTUMN_TERM = "autumn_term", "Autumn term"

    measure = models.CharField(max_length=10, choices=Measure.choices)
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

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Phase(models.TextChoices):
    NURSERY = "nursery", "Nursery"
    INFANT = "infant", "Infant"
    JUNIOR = "junior", "Junior"
    PRIMARY = "primary", "Primary"
    MIDDLE = "middle", "Middle"
    SECONDARY = "secondary", "Secondary"
    ALL_THROUGH = "all_through", "All-through"
    SPECIAL = "special", "Special"
    AP = "ap", "Alternative provision"
    PRU = "pru", "Pupil referral unit"


class Locality(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "localities"

    def __str__(self):
        return self.name


class School(models.Model):
    urn = models.CharField("URN", max_length=6, unique=True)
    la_code = models.CharField("LA code", max_length=3)
    establishment_number = models.CharField(max_length=4)
    name = models.CharField(max_length=200)
    phase = models.CharField(max_length=20, choices=Phase.choices)
    school_type = models.CharField("type of establishment", max_length=120, blank=True)
    status = models.CharField(max_length=60, default="Open")
    statutory_low_age = models.PositiveSmallIntegerField(null=True, blank=True)
    statutory_high_age = models.PositiveSmallIntegerField(null=True, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    locality = models.ForeignKey(
        Locality, null=True, blank=True, on_delete=models.SET_NULL, related_name="schools"
    )
    link_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="linked_schools",
        limit_choices_to={"is_la_officer": True},
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            # Academy converters usually keep their closed predecessor's DfE number, so the
            # number is unique among schools that are not closed (URN is the real key).
            models.UniqueConstraint(
                fields=["la_code", "establishment_number"], condition=~Q(status="Closed"),
                name="unique_open_dfe_number",
            ),
            models.CheckConstraint(condition=Q(urn__regex=r"^[0-9]{6}$"), name="urn_six_digits"),
            models.CheckConstraint(condition=Q(la_code__regex=r"^[0-9]{3}$"), name="la_code_3"),
            models.CheckConstraint(
                condition=Q(establishment_number__regex=r"^[0-9]{4}$"), name="estab_4"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.urn})"

    @property
    def dfe_number(self) -> str:
        return f"{self.la_code}/{self.establishment_number}"

    @property
    def is_open(self) -> bool:
        return self.status.lower().startswith("open")


class AcademicYear(models.Model):
    """1 September to 31 August; named by its first calendar year (2025 = 2025/26)."""

    start_year = models.PositiveSmallIntegerField(unique=True)
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["-start_year"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="ay_order"),
        ]

    def __str__(self):
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @staticmethod
    def start_year_for(day: date) -> int:
        return day.year if day.month >= 9 else day.year - 1


class Term(models.Model):
    class Name(models.TextChoices):
        AUTUMN = "autumn", "Autumn"
        SPRING = "spring", "Spring"
        SUMMER = "summer", "Summer"

    academic_year = models.ForeignKey(AcademicYear, on_delete=models.CASCADE, related_name="terms")
    name = models.CharField(max_length=10, choices=Name.choices)
    start_date = models.DateField()
    end_date = models.DateField()
    half_term_start = models.DateField(null=True, blank=True)
    half_term_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.UniqueConstraint(fields=["academic_year", "name"], name="one_term_per_name"),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="term_order"),
        ]

    def __str__(self):
        return f"{self.get_name_display()} {self.academic_year}"

    def school_days(self):
        """Weekdays in term, outside half term (closure days are removed by the caller)."""
        day = self.start_date
        while day <= self.end_date:
            in_half_term = (
                self.half_term_start is not None
                and self.half_term_start <= day <= self.half_term_end
            )
            if day.weekday() < 5 and not in_half_term:
                yield day
            day += timedelta(days=1)


class ClosureDay(models.Model):
    """A weekday in term with no sessions: bank holiday or INSET (school null = all schools)."""

    date = models.DateField()
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.CASCADE, related_name="closure_days"
    )
    reason = models.CharField(max_length=120)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "school"], name="one_closure_per_day",
                nulls_distinct=False,
            ),
        ]

    def __str__(self):
        return f"{self.date:%d/%m/%Y} {self.reason}"

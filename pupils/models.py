from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import upn as upn_checker


def validate_upn(value: str) -> None:
    """A UPN is 13 characters: check letter, LA (3), establishment (4), year (2), serial (3)."""
    try:
        upn_checker.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            f"'{value}' is not a valid UPN: {exc.message}. A UPN is 13 characters, a check letter "
            "then 12 digits (the last may be a letter for a temporary UPN); check it against "
            "the MIS.",
            code="invalid_upn",
        ) from exc


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"


class Pupil(models.Model):
    """The LA's record of a child: it follows the child between schools."""

    upn = models.CharField("UPN", max_length=13, unique=True, validators=[validate_upn])
    surname = models.CharField(max_length=100)
    forename = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)

    class Meta:
        ordering = ["surname", "forename"]
        constraints = [
            models.CheckConstraint(condition=Q(upn__regex=r"^[A-Z][0-9]{11}[0-9A-Z]$"),
                                   name="upn_shape"),
        ]

    def __str__(self):
        return f"{self.forename} {self.surname}"

    @property
    def full_name(self) -> str:
        return f"{self.forename} {self.surname}"


class Enrolment(models.Model):
    """A pupil on a school's roll over a period. Dual registration: two open enrolments."""

    class Registration(models.TextChoices):
        SINGLE = "C", "Single registration"
        MAIN_DUAL = "M", "Dual registration (main)"
        SUBSIDIARY_DUAL = "S", "Dual registration (subsidiary)"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="enrolments")
    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="enrolments")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    registration = models.CharField(
        max_length=1, choices=Registration.choices, default=Registration.SINGLE
    )

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["pupil", "school", "start_date"], name="one_enrolment"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="enrolment_order",
            ),
        ]
        indexes = [models.Index(fields=["school", "end_date"])]

    def __str__(self):
        return f"{self.pupil_id} at {self.school_id} from {self.start_date}"


class SEN(models.TextChoices):
    NONE = "N", "No SEN"
    SUPPORT = "K", "SEN support"
    EHCP = "E", "EHC plan"


class YearGroup(models.TextChoices):
    N1 = "N1", "Nursery 1"
    N2 = "N2", "Nursery 2"
    R = "R", "Reception"
    Y1 = "1", "Year 1"
    Y2 = "2", "Year 2"
    Y3 = "3", "Year 3"
    Y4 = "4", "Year 4"
    Y5 = "5", "Year 5"
    Y6 = "6", "Year 6"
    Y7 = "7", "Year 7"
    Y8 = "8", "Year 8"
    Y9 = "9", "Year 9"
    Y10 = "10", "Year 10"
    Y11 = "11", "Year 11"
    Y12 = "12", "Year 12"
    Y13 = "13", "Year 13"
    Y14 = "14", "Year 14"


class Characteristics(models.Model):
    """A census-style snapshot: what was true of the pupil from effective_date on."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="characteristics")
    effective_date = models.DateField()
    year_group = models.CharField(max_length=2, choices=YearGroup.choices)
    fsm = models.BooleanField("FSM eligible", default=False)
    sen = models.CharField("SEN status", max_length=1, choices=SEN.choices, default=SEN.NONE)
    eal = models.BooleanField("EAL", default=False)
    ethnicity = models.CharField(max_length=4, blank=True, help_text="DfE ethnicity code, e.g. WBRI")
    cin = models.BooleanField("child in need", default=False)
    cp = models.BooleanField("child protection plan", default=False)
    cla = models.BooleanField("child looked after", default=False)
    young_carer = models.BooleanField(default=False)
    postcode_area = models.CharField(max_length=5, blank=True)

    class Meta:
        ordering = ["-effective_date"]
        verbose_name_plural = "characteristics"
        constraints = [
            models.UniqueConstraint(fields=["pupil", "effective_date"], name="one_snapshot_per_day"),
        ]

    def __str__(self):
        return f"{self.pupil_id} from {self.effective_date}"


class SocialWorkerAllocation(models.Model):
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="allocations")
    social_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="caseload_allocations",
        limit_choices_to={"is_social_worker": True},
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "social_worker", "start_date"], name="one_allocation"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="allocation_order",
            ),
        ]

    def __str__(self):
        return f"{self.pupil_id} → {self.social_worker_id}"

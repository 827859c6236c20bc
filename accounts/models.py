from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, is_administrator=True)
        return self._create_user(email, password, **extra)


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", "Administrator"
    MANAGER = "manager", "Manager"
    LA_OFFICER = "la_officer", "LA attendance officer"
    SCHOOL_LEAD = "school_lead", "School attendance lead"
    SOCIAL_WORKER = "social_worker", "Social worker"


class User(AbstractUser):
    """A person who signs in with their email address. A user may hold more than one role."""

    username = None
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    job_title = models.CharField(max_length=150, blank=True)

    is_administrator = models.BooleanField(default=False)
    is_manager = models.BooleanField(default=False)
    is_la_officer = models.BooleanField("is LA attendance officer", default=False)
    is_school_lead = models.BooleanField("is school attendance lead", default=False)
    is_social_worker = models.BooleanField(default=False)
    school = models.ForeignKey(
        "schools.School",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attendance_leads",
        help_text="The one school a school attendance lead works for.",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]
    objects = UserManager()

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_school_lead=False) | Q(school__isnull=False),
                name="school_lead_has_school",
            ),
        ]

    def __str__(self):
        return self.full_name or self.email

    @property
    def roles(self) -> list[str]:
        flags = {
            Role.ADMINISTRATOR: self.is_administrator,
            Role.MANAGER: self.is_manager,
            Role.LA_OFFICER: self.is_la_officer,
            Role.SCHOOL_LEAD: self.is_school_lead,
            Role.SOCIAL_WORKER: self.is_social_worker,
        }
        return [role for role, held in flags.items() if held]

    @property
    def role_labels(self) -> list[str]:
        return [Role(role).label for role in self.roles]

    @property
    def sees_everything(self) -> bool:
        return self.is_administrator or self.is_manager or self.is_superuser

from django.conf import settings
from django.db import models
from django.db.models import Q


class Rule(models.TextChoices):
    WORSE_BAND = "worse_band", "Moved into a worse band"
    ENTERED_PA = "entered_pa", "Entered persistent absence"
    ENTERED_SA = "entered_sa", "Entered severe absence"
    UNEXPLAINED_RUN = "unexplained_run", "Consecutive unexplained absences"
    STALE_N = "stale_n", "N code not replaced within five school days"
    SCHOOL_SILENT = "school_silent", "School sent no marks for five school days"
    PENALTY_THRESHOLD = "penalty_threshold", "Reached the penalty notice threshold"
    MISSING_FROM_DATA = "missing_from_data", "Missing from school registers"


# Evidence in reading order: PostgreSQL's jsonb keeps keys shortest first ("window to" before
# "window from"), so the page orders them by this list; a key not listed comes last.
EVIDENCE_ORDER = [
    "attendance", "sessions attended", "possible sessions", "band before", "band now", "as of",
    "sessions in a row", "from", "to", "days with an N mark", "oldest", "last marks received",
    "last marked", "school", "school marks received up to", "school days without a mark",
    "unauthorised sessions", "window from", "window to", "latest window sessions", "threshold",
    "note",
]


class Alert(models.Model):
    """One event for one recipient. ``dedup_key`` makes a rerun of the nightly job a no-op."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    pupil = models.ForeignKey(
        "pupils.Pupil", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    school = models.ForeignKey(
        "schools.School", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    rule = models.CharField(max_length=30, choices=Rule.choices)
    summary = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict, blank=True,
                                help_text="The numbers behind the alert")
    dedup_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledgement_note = models.TextField(blank=True, db_default="")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedup_key"], name="one_alert_per_event"),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(acknowledged_by__isnull=False),
                name="acknowledged_by_someone",
            ),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return f"{self.get_rule_display()}: {self.summary}"

    def evidence_items(self) -> list[tuple[str, object]]:
        place = {key: n for n, key in enumerate(EVIDENCE_ORDER)}
        return sorted(self.evidence.items(), key=lambda item: place.get(item[0], len(place)))


class AlertPreference(models.Model):
    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", "An email for each alert"
        DIGEST = "digest", "One email a day with all new alerts"
        NONE = "none", "No email: the inbox only"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference"
    )
    delivery = models.CharField(max_length=10, choices=Delivery.choices,
                                default=Delivery.IMMEDIATE)

    def __str__(self):
        return f"{self.user}: {self.get_delivery_display()}"

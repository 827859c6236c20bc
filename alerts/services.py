"""Raising, reading, acknowledging and emailing alerts."""

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, AlertPreference
from attendance_portal.errors import ApplicationError

ALERT_COLUMNS = "recipient_id, pupil_id, school_id, rule, summary, evidence, dedup_key"


def alerts_insert_from_select(*, select_sql: str, params: list | dict | None = None) -> list[int]:
    """Insert the alerts a SELECT yields (columns: ALERT_COLUMNS, in order), skipping any whose
    (recipient, dedup_key) exists already. Returns the ids of the alerts that are new."""
    sql = (
        f"INSERT INTO alerts_alert ({ALERT_COLUMNS}, created_at) "
        f"SELECT {ALERT_COLUMNS}, now() FROM ({select_sql}) AS candidate({ALERT_COLUMNS}) "
        "ON CONFLICT (recipient_id, dedup_key) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


@transaction.atomic
def alert_mark_read(*, alert: Alert, user) -> Alert:
    if alert.recipient_id == user.pk and alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])
    return alert


@transaction.atomic
def alert_acknowledge(*, alert: Alert, user, note: str = "") -> Alert:
    """Acknowledge an alert: its recipient, or the link officer of the pupil's school."""
    from alerts.selectors import alert_may_acknowledge

    if not alert_may_acknowledge(alert=alert, user=user):
        raise ApplicationError(
            "Only the person this alert was sent to, or the school's link officer, can "
            "acknowledge it.")
    if alert.acknowledged_at is not None:
        raise ApplicationError(
            f"This alert was already acknowledged by {alert.acknowledged_by} on "
            f"{timezone.localtime(alert.acknowledged_at):%d/%m/%Y at %H:%M}."
        )
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = user
    alert.acknowledgement_note = note.strip()
    if alert.read_at is None and alert.recipient_id == user.pk:
        alert.read_at = alert.acknowledged_at
    alert.full_clean()
    alert.save()
    return alert


def _delivery(user) -> str:
    try:
        return user.alert_preference.delivery
    except AlertPreference.DoesNotExist:
        return AlertPreference.Delivery.IMMEDIATE


@transaction.atomic
def alert_preference_set(*, user, delivery: str) -> AlertPreference:
    preference, _ = AlertPreference.objects.get_or_create(user=user)
    preference.delivery = delivery
    preference.full_clean()
    preference.save()
    return preference


def _inbox_url() -> str:
    base = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/")
    return f"{base}{reverse('alerts:inbox')}"


def alerts_email_immediate(*, alert_ids: list[int]) -> int:
    """Email each new alert to recipients who asked for immediate emails.

    The email names no child: it says an alert is waiting and links to the inbox, so personal
    data stays inside the portal.
    """
    alerts = (
        Alert.objects.filter(pk__in=alert_ids, emailed_at__isnull=True)
        .select_related("recipient", "recipient__alert_preference")
    )
    messages, sent_ids = [], []
    for alert in alerts:
        if _delivery(alert.recipient) != AlertPreference.Delivery.IMMEDIATE:
            continue
        messages.append((
            f"New attendance alert: {alert.get_rule_display()}",
            f"Hello {alert.recipient.full_name},\n\nA new attendance alert is waiting for you: "
            f"{alert.get_rule_display()}.\n\nRead and acknowledge it in the portal: "
            f"{_inbox_url()}\n",
            settings.DEFAULT_FROM_EMAIL,
            [alert.recipient.email],
        ))
        sent_ids.append(alert.pk)
    if messages:
        send_mass_mail(messages, fail_silently=False)
        Alert.objects.filter(pk__in=sent_ids).update(emailed_at=timezone.now())
    return len(messages)


def alerts_send_digest(*, now: datetime | None = None) -> int:
    """One email per digest user listing how many new alerts of each kind wait for them."""
    now = now or timezone.now()
    pending = (
        Alert.objects.filter(emailed_at__isnull=True, recipient__alert_preference__delivery=
                             AlertPreference.Delivery.DIGEST)
        .select_related("recipient")
        .order_by("recipient_id")
    )
    by_user: dict = {}
    for alert in pending:
        by_user.setdefault(alert.recipient, []).append(alert)
    messages = []
    for user, alerts in by_user.items():
        counts: dict[str, int] = {}
        for alert in alerts:
            counts[alert.get_rule_display()] = counts.get(alert.get_rule_display(), 0) + 1
        lines = "\n".join(f"- {label}: {n}" for label, n in sorted(counts.items()))
        messages.append((
            f"Attendance alerts: {len(alerts)} new",
            f"Hello {user.full_name},\n\nNew alerts since your last digest:\n{lines}\n\n"
            f"Read them in the portal: {_inbox_url()}\n",
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        ))
    if messages:
        send_mass_mail(messages, fail_silently=False)
        pending.update(emailed_at=now)
    return len(messages)

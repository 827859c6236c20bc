"""Reads of alerts, scoped to the requesting user."""

from django.db.models import Q, QuerySet

from alerts.models import Alert
from schools.selectors import school_list


def alert_list(*, user) -> QuerySet[Alert]:
    """Alerts the user may see: their own, plus (for a link officer) every alert raised about a
    pupil or school in their linked schools. Managers see all."""
    if not user.is_authenticated or not user.is_active:
        return Alert.objects.none()
    if user.sees_everything:
        return Alert.objects.all()
    condition = Q(recipient=user)
    if user.is_la_officer:
        linked = school_list(user=user).filter(link_officer=user)
        condition |= Q(school__in=linked) | Q(pupil__enrolments__school__in=linked)
    return Alert.objects.filter(condition).distinct()


def alert_may_acknowledge(*, alert: Alert, user) -> bool:
    """DOMAIN.md: the person it was sent to, or the link officer of the pupil's or school's
    school. Managers and administrators see every alert but do not act on them."""
    if alert.recipient_id == user.pk:
        return True
    return bool(user.is_la_officer and alert_list(user=user).filter(pk=alert.pk).exists())


def alert_get(*, user, pk: int) -> Alert:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(alert_list(user=user), pk=pk)


def unread_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    return Alert.objects.filter(recipient=user, read_at__isnull=True).count()

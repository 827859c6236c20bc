"""Reads of schools, scoped to the requesting user. Every page and endpoint comes through here."""

from django.db.models import Q, QuerySet

from schools.models import School


def school_list(*, user) -> QuerySet[School]:
    """Schools the user may see in detail.

    Administrators and managers: every school. LA officers: the schools they are the link
    officer for. School leads: their own school. Social workers: none (they see pupils, not
    schools). A user holding several roles sees the union.
    """
    if not user.is_authenticated or not user.is_active:
        return School.objects.none()
    if user.sees_everything:
        return School.objects.all()
    condition = Q(pk__in=[])
    if user.is_la_officer:
        condition |= Q(link_officer=user)
    if user.is_school_lead and user.school_id:
        condition |= Q(pk=user.school_id)
    return School.objects.filter(condition)


def school_get(*, user, urn: str) -> School:
    """The school with this URN if the user may see it; Http404 otherwise (never 403)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(school_list(user=user), urn=urn)

"""Reads of pupils, scoped to the requesting user: the one place the who-sees-what rule lives."""

from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from pupils.models import Enrolment, Pupil, SocialWorkerAllocation
from schools.models import AcademicYear
from schools.selectors import school_list


def _year_start(today: date) -> date:
    return date(AcademicYear.start_year_for(today), 9, 1)


def pupil_list(*, user, today: date | None = None) -> QuerySet[Pupil]:
    """Pupils the user may see.

    Administrators and managers: every pupil. Officers and school leads: pupils on the roll of a
    school they can see at any time this academic year (a leaver stays visible to the school
    for the year). Social workers: pupils currently allocated to them (their caseload).
    """
    if not user.is_authenticated or not user.is_active:
        return Pupil.objects.none()
    if user.sees_everything:
        return Pupil.objects.all()
    today = today or timezone.localdate()
    condition = Q(pk__in=[])
    if user.is_la_officer or user.is_school_lead:
        on_roll = Enrolment.objects.filter(
            pupil=OuterRef("pk"), school__in=school_list(user=user)
        ).filter(Q(end_date__isnull=True) | Q(end_date__gte=_year_start(today)))
        condition |= Q(Exists(on_roll))
    if user.is_social_worker:
        condition |= Q(Exists(caseload_allocations(user=user, today=today).filter(pupil=OuterRef("pk"))))
    return Pupil.objects.filter(condition)


def caseload_allocations(*, user, today: date | None = None) -> QuerySet[SocialWorkerAllocation]:
    today = today or timezone.localdate()
    return SocialWorkerAllocation.objects.filter(social_worker=user, start_date__lte=today).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)
    )


def pupil_get(*, user, upn: str) -> Pupil:
    """The pupil with this UPN if the user may see them; Http404 otherwise (never 403)."""
    return get_object_or_404(pupil_list(user=user), upn=upn)

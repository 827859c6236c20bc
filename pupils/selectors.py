"""Reads of pupils, scoped to the requesting user: the one place the who-sees-what rule lives."""

from datetime import date

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.utils import timezone

from pupils.models import Characteristics, Enrolment, Pupil, SocialWorkerAllocation
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


def _current(queryset: QuerySet, today: date) -> QuerySet:
    """Rows of an enrolment/allocation-shaped queryset that are open on ``today``."""
    return queryset.filter(start_date__lte=today).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)
    )


def pupils_on_roll(*, user, school, today: date | None = None) -> QuerySet[Pupil]:
    """Pupils the user may see who are on ``school``'s roll today (single or dual registered).

    ``school`` should come from ``school_get`` so the caller has already checked the user may see
    it; the result is still intersected with ``pupil_list`` so it can never widen access.
    """
    today = today or timezone.localdate()
    on_roll = _current(Enrolment.objects.filter(pupil=OuterRef("pk"), school=school), today)
    return pupil_list(user=user, today=today).filter(Exists(on_roll))


_YEAR_ORDER = Case(
    When(year_group="N1", then=Value(-2)),
    When(year_group="N2", then=Value(-1)),
    When(year_group="R", then=Value(0)),
    When(year_group__regex=r"^[0-9]+$", then=Cast("year_group", IntegerField())),
    default=Value(None),
    output_field=IntegerField(),
)


def pupil_table(*, user, school=None, today: date | None = None) -> QuerySet[Pupil]:
    """``pupil_list`` (or ``pupils_on_roll`` for one school) with the columns a list shows.

    Adds ``current_school_name`` / ``current_school_urn`` (the open enrolment, main registration
    first), ``year_group`` and ``year_order`` (from the latest characteristics snapshot on or
    before today; N1 < N2 < R < 1 … 14, for sorting).
    """
    today = today or timezone.localdate()
    pupils = (
        pupils_on_roll(user=user, school=school, today=today)
        if school is not None
        else pupil_list(user=user, today=today)
    )
    current = _current(Enrolment.objects.filter(pupil=OuterRef("pk")), today).annotate(
        main=Case(When(registration=Enrolment.Registration.SUBSIDIARY_DUAL, then=Value(1)),
                  default=Value(0), output_field=IntegerField())
    ).order_by("main", "-start_date")
    snapshot = Characteristics.objects.filter(
        pupil=OuterRef("pk"), effective_date__lte=today
    ).order_by("-effective_date")
    return pupils.annotate(
        current_school_name=Subquery(current.values("school__name")[:1]),
        current_school_urn=Subquery(current.values("school__urn")[:1]),
        year_group=Subquery(snapshot.values("year_group")[:1]),
        year_order=Subquery(
            snapshot.annotate(order=_YEAR_ORDER).values("order")[:1], output_field=IntegerField()
        ),
    )


def pupil_record(*, user, upn: str, today: date | None = None) -> dict:
    """Everything the pupil page shows, for a pupil the user may see (Http404 otherwise)."""
    today = today or timezone.localdate()
    pupil = pupil_get(user=user, upn=upn)
    enrolments = list(pupil.enrolments.select_related("school").order_by("-start_date"))
    for enrolment in enrolments:
        enrolment.is_current = enrolment.start_date <= today and (
            enrolment.end_date is None or enrolment.end_date >= today
        )
    return {
        "pupil": pupil,
        "enrolments": enrolments,
        "characteristics": pupil.characteristics.filter(effective_date__lte=today).first(),
        "allocations": list(
            _current(pupil.allocations.all(), today).select_related("social_worker")
        ),
        "today": today,
    }

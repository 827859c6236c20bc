"""Reads of attendance figures. Pages and the API pass the requesting user; the LA data team's
export runs as the system and sees everything."""

from collections.abc import Iterator
from datetime import date

from attendance.summary_models import BandHistory, PupilSummary
from pupils.selectors import pupil_get
from schools.models import AcademicYear, School


def band_export_rows(*, as_of: date, school_urn: str | None = None) -> Iterator[tuple]:
    """Per pupil and school: figures and bands for the academic year containing as_of."""
    year = AcademicYear.start_year_for(as_of)
    summaries = PupilSummary.objects.filter(academic_year=year, school__isnull=False)
    if school_urn:
        if not School.objects.filter(urn=school_urn).exists():
            raise LookupError(f"No school with URN {school_urn}.")
        summaries = summaries.filter(school__urn=school_urn)
    for s in summaries.order_by("school__urn", "pupil__upn").values_list(
        "pupil__upn", "school__urn", "academic_year", "as_of", "possible", "attended",
        "authorised", "unauthorised", "band", "recent_band", "projected_band",
    ).iterator(chunk_size=5000):
        upn, urn, ay, day, possible, attended, auth, unauth, band, recent, projected = s
        rate = f"{100 * attended / possible:.1f}" if possible else ""
        yield (upn, urn, ay, day.isoformat(), possible, attended, auth, unauth, rate,
               band or "", recent or "", projected or "")


def pupil_attendance(*, user, upn: str, as_of: date) -> dict:
    """A visible pupil's summaries (city-wide and per school) and band history for the year."""
    pupil = pupil_get(user=user, upn=upn)
    year = AcademicYear.start_year_for(as_of)
    summaries = list(
        PupilSummary.objects.filter(pupil=pupil, academic_year=year).select_related("school")
        .order_by("school_id")
    )
    return {
        "pupil": pupil,
        "city": next((s for s in summaries if s.school_id is None), None),
        "by_school": [s for s in summaries if s.school_id is not None],
        "history": list(BandHistory.objects.filter(pupil=pupil, academic_year=year)
                        .order_by("changed_on")),
    }


def import_run_list(*, user):
    """Register imports the user may see: those for schools they can see, and their own uploads.

    Administrators and managers see every run (including multi-school runs, which have no one
    school); everyone else sees runs for their schools (school_list) and the runs they started.
    """
    from django.db.models import Q

    from attendance.models import ImportRun
    from schools.selectors import school_list

    if not user.is_authenticated or not user.is_active:
        return ImportRun.objects.none()
    runs = ImportRun.objects.select_related("school", "user")
    if user.sees_everything:
        return runs
    return runs.filter(Q(school__in=school_list(user=user)) | Q(user=user))


def import_run_get(*, user, run_id: int):
    """One run the user may see; Http404 otherwise (never 403)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(import_run_list(user=user), pk=run_id)


def user_can_import_registers(*, user) -> bool:
    """Who may upload register exports: administrators, LA officers (for their linked schools)
    and school attendance leads (for their own school). Managers work in aggregate and social
    workers see pupils, not registers: neither imports."""
    return bool(user.is_authenticated and user.is_active and (
        user.is_superuser or user.is_administrator or user.is_la_officer or user.is_school_lead))

from django.contrib.auth.decorators import login_required
from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from attendance.bands import Band
from attendance.selectors import (
    CALENDAR_CATEGORIES,
    caseload_table,
    current_academic_year,
    pupil_attendance,
    pupil_band_history,
    pupil_open_alerts,
    pupil_register_calendar,
    pupil_table_with_attendance,
    pupils_latest_marks,
)
from portal_ui.tables import sorted_paginated
from pupils.selectors import pupil_record
from pupils.services import pupil_view_record
from schools.selectors import school_get

# Band 1 -> 5 (worse), then the higher rate first, so "-band" lists the worst attendance first.
BAND_SORT = (F("att_band").asc(nulls_last=True), F("att_rate").desc(nulls_last=True),
             "surname", "forename")

PUPIL_SORTS = {
    "name": ("surname", "forename"),
    "upn": "upn",
    "dob": "date_of_birth",
    "school": (F("current_school_name").asc(nulls_last=True), "surname", "forename"),
    "year": (F("year_order").asc(nulls_last=True), "surname", "forename"),
    "rate": (F("att_rate").asc(nulls_last=True), "surname", "forename"),
    "band": BAND_SORT,
}

CASELOAD_SORTS = {
    "name": ("surname", "forename"),
    "school": (F("current_school_name").asc(nulls_last=True), "surname", "forename"),
    "year": (F("year_order").asc(nulls_last=True), "surname", "forename"),
    "rate": (F("att_rate").asc(nulls_last=True), "surname", "forename"),
    "band": BAND_SORT,
    "alerts": (F("open_alerts").asc(), "surname", "forename"),
}


def _band_param(request) -> int | None:
    """?band=1..5, anything else means no band filter."""
    value = request.GET.get("band", "").strip()
    return int(value) if value in {str(b.value) for b in Band} else None


@login_required
def pupil_list_view(request):
    urn = request.GET.get("school", "").strip()
    # A URN the user may not see is a 404, exactly as on the school page.
    school = school_get(user=request.user, urn=urn) if urn else None
    band = _band_param(request)
    pupils = pupil_table_with_attendance(user=request.user, school=school, band=band)
    query = request.GET.get("q", "").strip()
    if query:
        pupils = pupils.filter(
            Q(upn=query.upper()) | Q(surname__icontains=query) | Q(forename__icontains=query)
        )
    page, sort = sorted_paginated(request, pupils, sorts=PUPIL_SORTS, default="name")
    return render(request, "pupils/list.html", {
        "page": page, "sort": sort, "query": query, "school_filter": school,
        "band_filter": Band(band) if band else None, "academic_year": current_academic_year(),
    })


@login_required
def caseload_view(request):
    """A social worker's own caseload: figures, bands, trend, latest marks and open alerts."""
    if not request.user.is_social_worker:
        raise Http404("Only social workers have a caseload.")
    today = timezone.localdate()
    pupils = caseload_table(user=request.user, today=today)
    page, sort = sorted_paginated(request, pupils, sorts=CASELOAD_SORTS, default="-band")
    dates, latest = pupils_latest_marks(user=request.user, pupil_ids=[p.pk for p in page],
                                        today=today)
    for pupil in page:
        pupil.latest_marks = latest.get(pupil.pk, [])
    return render(request, "pupils/caseload.html", {
        "page": page, "sort": sort, "latest_dates": dates, "today": today,
        "academic_year": current_academic_year(today), "categories": CALENDAR_CATEGORIES,
    })


@login_required
def pupil_detail_view(request, upn):
    record = pupil_record(user=request.user, upn=upn)
    pupil_view_record(pupil=record["pupil"], user=request.user)
    today = record["today"]
    year = current_academic_year(today)
    attendance = pupil_attendance(user=request.user, upn=upn, as_of=today)
    band = attendance["city"].band if attendance["city"] else None
    return render(request, "pupils/detail.html", {
        **record,
        "academic_year": year,
        "attendance": attendance,
        "history": pupil_band_history(user=request.user, upn=upn, academic_year=year),
        "calendar": pupil_register_calendar(user=request.user, upn=upn, academic_year=year,
                                            today=today),
        "open_alerts": pupil_open_alerts(user=request.user, upn=upn),
        "band": Band(band) if band else None,
    })

from django.contrib.auth.decorators import login_required
from django.db.models import F, Q
from django.shortcuts import render

from portal_ui.tables import sorted_paginated
from pupils.selectors import pupil_record, pupil_table
from pupils.services import pupil_view_record
from schools.selectors import school_get

PUPIL_SORTS = {
    "name": ("surname", "forename"),
    "upn": "upn",
    "dob": "date_of_birth",
    "school": (F("current_school_name").asc(nulls_last=True), "surname", "forename"),
    "year": (F("year_order").asc(nulls_last=True), "surname", "forename"),
}


@login_required
def pupil_list_view(request):
    urn = request.GET.get("school", "").strip()
    # A URN the user may not see is a 404, exactly as on the school page.
    school = school_get(user=request.user, urn=urn) if urn else None
    pupils = pupil_table(user=request.user, school=school)
    query = request.GET.get("q", "").strip()
    if query:
        pupils = pupils.filter(
            Q(upn=query.upper()) | Q(surname__icontains=query) | Q(forename__icontains=query)
        )
    page, sort = sorted_paginated(request, pupils, sorts=PUPIL_SORTS, default="name")
    return render(request, "pupils/list.html", {
        "page": page, "sort": sort, "query": query, "school_filter": school,
    })


@login_required
def pupil_detail_view(request, upn):
    record = pupil_record(user=request.user, upn=upn)
    pupil_view_record(pupil=record["pupil"], user=request.user)
    return render(request, "pupils/detail.html", record)

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render

from portal_ui.tables import sorted_paginated
from pupils.selectors import pupil_get, pupil_list
from pupils.services import pupil_view_record


@login_required
def pupil_list_view(request):
    pupils = pupil_list(user=request.user)
    query = request.GET.get("q", "").strip()
    if query:
        pupils = pupils.filter(
            Q(upn=query.upper()) | Q(surname__icontains=query) | Q(forename__icontains=query)
        )
    page, sort = sorted_paginated(
        request, pupils,
        sorts={"name": ("surname", "forename"), "upn": "upn", "dob": "date_of_birth"},
        default="name",
    )
    return render(request, "pupils/list.html", {"page": page, "sort": sort, "query": query})


@login_required
def pupil_detail_view(request, upn):
    pupil = pupil_get(user=request.user, upn=upn)
    pupil_view_record(pupil=pupil, user=request.user)
    context = {
        "pupil": pupil,
        "enrolments": pupil.enrolments.select_related("school"),
        "characteristics": pupil.characteristics.first(),
    }
    return render(request, "pupils/detail.html", context)

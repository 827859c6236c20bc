from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from attendance.selectors import school_band_counts
from portal_ui.tables import sorted_paginated
from pupils.selectors import pupils_on_roll
from schools.selectors import school_get, school_list


def _school_search(query: str) -> Q:
    """Name contains the words, or the exact URN, or the DfE number (879/2001 or 8792001)."""
    condition = Q(name__icontains=query) | Q(urn=query)
    digits = query.replace("/", "")
    if len(digits) == 7 and digits.isdigit():
        condition |= Q(la_code=digits[:3], establishment_number=digits[3:])
    return condition


@login_required
def school_list_view(request):
    schools = school_list(user=request.user).select_related("locality", "link_officer")
    query = request.GET.get("q", "").strip()
    if query:
        schools = schools.filter(_school_search(query))
    page, sort = sorted_paginated(
        request, schools,
        sorts={"name": "name", "urn": "urn", "phase": "phase", "locality": "locality__name"},
        default="name",
    )
    return render(request, "schools/list.html", {"page": page, "sort": sort, "query": query})


@login_required
def school_detail_view(request, urn):
    school = school_get(user=request.user, urn=urn)
    today = timezone.localdate()
    on_roll = pupils_on_roll(user=request.user, school=school, today=today).count()
    return render(request, "schools/detail.html", {
        "school": school, "on_roll": on_roll, "today": today,
        "bands": school_band_counts(user=request.user, school=school, today=today),
    })

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from portal_ui.tables import sorted_paginated
from schools.selectors import school_get, school_list


@login_required
def school_list_view(request):
    schools = school_list(user=request.user).select_related("locality", "link_officer")
    query = request.GET.get("q", "").strip()
    if query:
        schools = schools.filter(name__icontains=query) | schools.filter(urn=query)
    page, sort = sorted_paginated(
        request, schools,
        sorts={"name": "name", "urn": "urn", "phase": "phase", "locality": "locality__name"},
        default="name",
    )
    return render(request, "schools/list.html", {"page": page, "sort": sort, "query": query})


@login_required
def school_detail_view(request, urn):
    school = school_get(user=request.user, urn=urn)
    return render(request, "schools/detail.html", {"school": school})

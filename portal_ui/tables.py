"""Sorting and pagination shared by every list page (GOV.UK table + pagination patterns)."""

from django.core.paginator import Paginator

PAGE_SIZE = 50


def sorted_paginated(request, queryset, *, sorts: dict, default: str, page_size: int = PAGE_SIZE):
    """Order ``queryset`` by ?sort=key or ?sort=-key (keys from ``sorts``) and paginate it.

    Returns (page, sort) where sort is the key in force, with its minus sign.
    """
    requested = request.GET.get("sort", default)
    key = requested.lstrip("-")
    if key not in sorts:
        requested, key = default, default.lstrip("-")
    fields = sorts[key]
    fields = (fields,) if isinstance(fields, str) else tuple(fields)
    descending = requested.startswith("-")
    ordering = [f"-{f}" if descending else f for f in fields] + ["pk"]
    paginator = Paginator(queryset.order_by(*ordering), page_size)
    page = paginator.get_page(request.GET.get("page"))
    return page, requested

"""Sorting and pagination shared by every list page (GOV.UK table + pagination patterns)."""

from copy import copy

from django.core.paginator import Paginator
from django.db.models import F, OrderBy

PAGE_SIZE = 50


def _ordering(field, descending: bool):
    """A field name or an ordering expression, reversed when ``descending``."""
    if isinstance(field, str):
        return f"-{field}" if descending else field
    expression = field if isinstance(field, OrderBy) else F(field.name).asc()
    if descending:
        expression = copy(expression)
        expression.descending = not expression.descending
    return expression


def sorted_paginated(request, queryset, *, sorts: dict, default: str, page_size: int = PAGE_SIZE):
    """Order ``queryset`` by ?sort=key or ?sort=-key (keys from ``sorts``) and paginate it.

    A sort is a field name, an ordering expression (``F("x").asc(nulls_last=True)``) or a tuple
    of them. Unknown keys fall back to ``default``; ties are broken by primary key so pages are
    stable. Returns (page, sort) where sort is the key in force, with its minus sign.
    """
    ordered, requested = sorted_queryset(request, queryset, sorts=sorts, default=default)
    paginator = Paginator(ordered, page_size)
    page = paginator.get_page(request.GET.get("page"))
    return page, requested


def sorted_queryset(request, queryset, *, sorts: dict, default: str):
    """``queryset`` ordered as ``sorted_paginated`` orders it (for a download of every page).
    Returns (queryset, sort)."""
    requested = request.GET.get("sort", default)
    key = requested.lstrip("-")
    if key not in sorts:
        requested, key = default, default.lstrip("-")
    fields = sorts[key]
    fields = (fields,) if isinstance(fields, str | OrderBy) else tuple(fields)
    descending = requested.startswith("-")
    ordering = [_ordering(f, descending) for f in fields] + ["pk"]
    return queryset.order_by(*ordering), requested

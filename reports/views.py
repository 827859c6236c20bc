import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from attendance.selectors import current_academic_year
from reports import charts
from reports.caching import cache_key, cached_for_latest_run
from reports.exports import dashboard_rows, write_csv
from reports.forms import CityFilterForm
from reports.selectors import city_dashboard, dashboard_allowed, dashboard_years

CHART_MEASURES = [  # (breakdown, measure, title)
    ("phase", "absence", "Overall absence by phase"),
    ("year_group", "pa", "Persistent absence by year group"),
]
CHARACTERISTIC_BREAKDOWNS = ["fsm", "sen_support", "ehcp", "cin", "cp", "cla", "eal"]


def _dashboard(request):
    if not dashboard_allowed(request.user):
        raise Http404("No dashboard for this user")
    years = dashboard_years() or [current_academic_year()]
    form = CityFilterForm(request.GET or None, years=years)
    year = form.year(years[0]) if request.GET else years[0]
    filters = form.filters() if request.GET else {}
    # Cached until the next nightly run or import (reports.caching); the city dashboard's
    # figures do not depend on who asks beyond dashboard_allowed, checked above.
    dashboard = cached_for_latest_run(
        ["city", year, sorted(filters.items())],
        lambda: city_dashboard(user=request.user, academic_year=year, filters=filters))
    return form, dashboard


def _characteristic_cells(dashboard):
    """The 'yes' group of each characteristic, labelled by the characteristic."""
    cells = []
    for breakdown in dashboard["breakdowns"]:
        if breakdown["key"] in CHARACTERISTIC_BREAKDOWNS:
            for cell in breakdown["cells"]:
                if cell.key == "yes":
                    cell.label = breakdown["title"]
                    cells.append(cell)
    return cells


def _figures(dashboard) -> list[dict]:
    by_key = {b["key"]: b for b in dashboard["breakdowns"]}
    figures = []
    headline = dashboard["headline"]
    if headline and headline.pupils:
        figures.append({"id": "chart-bands", "kind": "bands", "title": "Pupils by absence band",
                        "figure": charts.bands_figure(headline)})
        for key, measure, title in CHART_MEASURES:
            cells = by_key[key]["cells"]
            figures.append({"id": f"chart-{key}-{measure}", "kind": "measure", "measure": measure,
                            "title": title, "cells": cells,
                            "figure": charts.measure_figure(title, cells, measure=measure)})
        cells = _characteristic_cells(dashboard)
        title = "Persistent absence by characteristic"
        figures.append({"id": "chart-characteristics-pa", "kind": "measure", "measure": "pa",
                        "title": title, "cells": cells,
                        "figure": charts.measure_figure(title, cells, measure="pa")})
    return figures


@login_required
def city_dashboard_view(request):
    form, dashboard = _dashboard(request)
    query = request.GET.urlencode()
    return render(request, "reports/city.html", {
        "form": form, "dashboard": dashboard, "headline": dashboard["headline"],
        # Built only when the page body is not in the cache (the template calls it).
        "figures": lambda: _figures(dashboard),
        # The rendered figures, charts and tables (no user-specific content) are cached until
        # the next run or import, like the figures themselves.
        "body_cache_key": cache_key(["city-body", dashboard["academic_year"],
                                     sorted(dashboard["filters"].items()), query]),
        "query": query,
    })


@login_required
def city_dashboard_csv(request):
    """The breakdown tables as CSV. ``?external=1``: for outside the council, with groups of
    fewer than five pupils suppressed."""
    _, dashboard = _dashboard(request)
    external = request.GET.get("external") == "1"
    out = io.StringIO()
    write_csv(out, dashboard_rows(dashboard, external=external))
    year = dashboard["academic_year"]
    name = f"city-attendance-{year}-{year + 1}{'-external' if external else ''}.csv"
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

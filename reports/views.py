import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from attendance.selectors import current_academic_year
from reports import charts
from reports.caching import cache_key, cached_for_latest_run, scope_key
from reports.exports import WEEK_HEADER, dashboard_rows, week_rows, write_csv
from reports.forms import CityFilterForm
from reports.selectors import (
    city_dashboard,
    city_weeks_cached,
    dashboard_allowed,
    dashboard_years,
)

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


def _weeks(request, dashboard):
    """The city's weeks under the dashboard's year and filters (cached like the dashboard)."""
    return city_weeks_cached(user=request.user, academic_year=dashboard["academic_year"],
                             filters=dashboard["filters"])


def _figures(dashboard, weeks) -> list[dict]:
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
        if weeks:  # three charts over one table: attendance, absence rates, PA and SA
            figures.append({"id": "chart-weeks", "kind": "weeks",
                            "title": "Attendance week by week",
                            "figure": charts.weekly_figure(weeks, name="City")})
            figures.append({"id": "chart-weeks-absence", "kind": "weeks",
                            "title": "Absence week by week",
                            "figure": charts.weekly_absence_figure(weeks)})
            figures.append({"id": "chart-weeks-pa", "kind": "weeks", "weeks": weeks,
                            "title": "Persistent and severe absence week by week",
                            "figure": charts.weekly_pa_figure(weeks)})
    return figures


@login_required
def city_dashboard_view(request):
    form, dashboard = _dashboard(request)
    query = request.GET.urlencode()
    return render(request, "reports/city.html", {
        "form": form, "dashboard": dashboard, "headline": dashboard["headline"],
        # Built only when the page body is not in the cache (the template calls it).
        "figures": lambda: _figures(dashboard, _weeks(request, dashboard)),
        # The rendered figures, charts and tables (no user-specific content) are cached until
        # the next run or import, like the figures themselves.
        "body_cache_key": cache_key(["city-body", dashboard["academic_year"],
                                     sorted(dashboard["filters"].items()), query]),
        "query": query,
    })


@login_required
def city_dashboard_csv(request):
    """The breakdown tables as CSV, or with ``?table=weeks`` the weeks. ``?external=1``: for
    outside the council, with groups (or weeks) of fewer than five pupils suppressed."""
    _, dashboard = _dashboard(request)
    external = request.GET.get("external") == "1"
    table = request.GET.get("table", "breakdowns")
    out = io.StringIO()
    if table == "weeks":
        write_csv(out, [WEEK_HEADER, *week_rows(_weeks(request, dashboard), external=external)])
    elif table == "breakdowns":
        write_csv(out, dashboard_rows(dashboard, external=external))
    else:
        raise Http404("No such table")
    year = dashboard["academic_year"]
    part = "-weeks" if table == "weeks" else ""
    name = f"city-attendance{part}-{year}-{year + 1}{'-external' if external else ''}.csv"
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- cohort dashboards (reports.cohorts) ------------------------------------------------------

def _cohort_request(request, slug):
    from reports.cohorts import cohort_dashboard_cached, cohort_scope
    from reports.forms import CohortFilterForm

    if cohort_scope(request.user) is None:
        raise Http404("No cohort dashboards for this user")
    years = dashboard_years() or [current_academic_year()]
    form = CohortFilterForm(request.GET or None, years=years)
    year = form.year(years[0]) if request.GET else years[0]
    filters = form.filters() if request.GET else {}
    return form, cohort_dashboard_cached(user=request.user, slug=slug, academic_year=year,
                                         filters=filters)


@login_required
def cohort_index_view(request):
    from reports.cohorts import COHORTS, cohort_scope

    scope = cohort_scope(request.user)
    if scope is None:
        raise Http404("No cohort dashboards for this user")
    return render(request, "reports/cohort_index.html", {
        "cohorts": COHORTS.values(), "scope": scope, "query": request.GET.urlencode()})


@login_required
def cohort_dashboard_view(request, slug):
    from types import SimpleNamespace

    from portal_ui.tables import sorted_paginated
    from pupils.services import pupils_view_record
    from pupils.views import PUPIL_SORTS
    from reports.cohorts import cohort_pupils, cohort_tables, shown

    form, dashboard = _cohort_request(request, slug)
    suppress = dashboard["suppressed"]
    tables = cohort_tables(dashboard, suppress=suppress)
    headline, transition = dashboard["headline"], dashboard["transition"]

    def bands(cell):  # a suppressed band count is not drawn
        return SimpleNamespace(bands=[None if suppress and 0 < n < 5 else n for n in cell.bands])

    def build_figures():  # only when the page body is not in the cache (the template calls it)
        figures = []
        if not (headline and headline.pupils):
            return figures
        figures.append({"id": "chart-bands", "title": "Pupils by absence band" + (
            " this year" if transition else ""), "figure": charts.bands_figure(bands(headline)),
            "table": "bands"})
        cells = ([transition["before"], transition["after"]] if transition
                 else [headline, *dashboard["parts"]]) + (
            [dashboard["city"]] if dashboard["city"] else [])
        cells = [c for c in cells if not (suppress and 0 < c.pupils < 5)]
        for measure, title in (("absence", "Overall absence"), ("pa", "Persistent absence")):
            figures.append({"id": f"chart-{measure}", "title": f"{title} compared",
                            "figure": charts.measure_figure(title, cells, measure=measure,
                                                            name="Rate"),
                            "table": "headline"})
        return figures

    pupils = cohort_pupils(user=request.user, slug=slug, academic_year=dashboard["academic_year"],
                           filters=dashboard["filters"])
    page, sort = sorted_paginated(request, pupils, sorts=PUPIL_SORTS, default="-band")
    # cohort membership is special-category data: audited like a record
    pupils_view_record(pupils=page, user=request.user)
    query = request.GET.copy()
    for key in ("page", "sort", "table", "external"):
        query.pop(key, None)
    return render(request, "reports/cohort.html", {
        "form": form, "dashboard": dashboard, "cohort": dashboard["cohort"],
        "headline": headline, "tables": {t["key"]: t for t in tables}, "table_list": tables,
        "figures": build_figures, "page": page, "sort": sort, "query": query.urlencode(),
        "benchmark_sources": _benchmark_sources(dashboard),
        # Figures, charts and tables: the same for everyone with this scope, until the next run
        # or import (like the figures themselves).
        "body_cache_key": cache_key(["cohort-body", slug, dashboard["academic_year"],
                                     sorted(dashboard["filters"].items()),
                                     scope_key(request.user), suppress, query.urlencode()]),
        "suppress": suppress, "movement": {
            key: shown(transition[key], transition[key], suppress)
            for key in ("improved", "same", "worse")} if transition else None,
    })


def _benchmark_sources(dashboard) -> list[dict]:
    """The published figures on the headline rows, each with its year and source."""
    transition = dashboard["transition"]
    cells = ([transition["before"], transition["after"]] if transition
             else [dashboard["headline"], *dashboard["parts"]]) + (
        [dashboard["city"]] if dashboard["city"] else [])
    return [{"group": cell.label, "figure": figure}
            for cell in cells if cell is not None
            for measure in cell.benchmarks.values() for figure in measure.values()]


@login_required
def cohort_dashboard_csv(request, slug):
    """One table of a cohort dashboard as CSV (``?table=headline|bands|phase|…``);
    ``&external=1`` suppresses groups of fewer than five pupils (always, for school leads)."""
    from reports.cohorts import cohort_tables

    _, dashboard = _cohort_request(request, slug)
    external = request.GET.get("external") == "1"
    tables = {t["key"]: t for t in cohort_tables(
        dashboard, suppress=external or dashboard["suppressed"])}
    table = tables.get(request.GET.get("table", "headline"))
    if table is None:
        raise Http404("No such table")
    out = io.StringIO()
    write_csv(out, [table["header"], *table["rows"]])
    year = dashboard["academic_year"]
    name = (f"cohort-{slug}-{table['key']}-{year}-{year + 1}"
            f"{'-external' if external else ''}.csv")
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def cohort_dashboard_xlsx(request, slug):
    """Every table of a cohort dashboard, a sheet each (the figures only: the pupil list is its
    own CSV). ``&external=1`` suppresses groups of fewer than five pupils, as the CSV does."""
    from reports.cohorts import cohort_sheets
    from reports.xlsx import workbook_bytes

    _, dashboard = _cohort_request(request, slug)
    external = request.GET.get("external") == "1"
    sheets = cohort_sheets(dashboard, suppress=external or dashboard["suppressed"])
    year = dashboard["academic_year"]
    name = f"cohort-{slug}-{year}-{year + 1}{'-external' if external else ''}.xlsx"
    response = HttpResponse(workbook_bytes(sheets), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def cohort_pupils_csv(request, slug):
    """The page's list of pupils, every page, in the page's order, as CSV. Names pupils, so
    never for outside the council (``external=1``: 404), and audited like the list itself."""
    from portal_ui.tables import sorted_queryset
    from pupils.services import pupils_view_record
    from pupils.views import PUPIL_SORTS
    from reports.cohorts import PUPIL_HEADER, cohort_pupils, pupil_rows

    if request.GET.get("external"):
        raise Http404("The pupil list is not for sharing outside the council")
    _, dashboard = _cohort_request(request, slug)
    year = dashboard["academic_year"]
    pupils = cohort_pupils(user=request.user, slug=slug, academic_year=year,
                           filters=dashboard["filters"])
    pupils, _ = sorted_queryset(request, pupils, sorts=PUPIL_SORTS, default="-band")
    pupils = list(pupils)
    pupils_view_record(pupils=pupils, user=request.user)
    out = io.StringIO()
    write_csv(out, [PUPIL_HEADER, *pupil_rows(pupils)])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="cohort-{slug}-pupils-{year}-{year + 1}.csv"')
    response["Cache-Control"] = "no-store"
    return response

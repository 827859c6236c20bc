from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render

from attendance.selectors import current_academic_year
from portal_ui.tables import PAGE_SIZE, sorted_paginated
from reports import charts
from reports.forms import CityFilterForm
from reports.school_exports import (
    school_report_tables,
    schools_table_rows,
    table_csv,
    tables_csv,
    tables_xlsx,
)
from reports.school_report import (
    SORTS,
    pupils_of_concern,
    school_report_cached,
    schools_allowed,
    schools_table_cached,
)
from reports.selectors import CHARACTERISTICS, dashboard_years

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(request):
    if not schools_allowed(request.user):
        raise Http404("No school figures for this user")
    years = dashboard_years() or [current_academic_year()]
    form = CityFilterForm(request.GET or None, years=years)
    year = form.year(years[0]) if request.GET else years[0]
    filters = form.filters() if request.GET else {}
    return form, year, filters


def _query(request, *drop) -> str:
    query = request.GET.copy()
    for key in drop:
        query.pop(key, None)
    return query.urlencode()


def _download(content, *, name: str, kind: str) -> HttpResponse:
    content_type = XLSX if kind == "xlsx" else "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


def _schools_table(request, year, filters):
    """The schools table, cached per scope until the next nightly run or import."""
    return schools_table_cached(user=request.user, academic_year=year, filters=filters)


def _year_label(year: int) -> str:
    return f"{year}-{(year + 1) % 100:02d}"


@login_required
def schools_view(request):
    form, year, filters = _filters(request)
    rows = _schools_table(request, year, filters)
    page, sort = sorted_paginated(request, rows, sorts=SORTS, default="name")
    return render(request, "reports/schools.html", {
        "form": form, "academic_year": year, "filters": filters, "page": page, "sort": sort,
        "total": len(rows), "query": _query(request, "page"),
        "characteristic_label": CHARACTERISTICS.get(filters.get("characteristic"), ("",))[0],
        "filter_query": _query(request, "page", "sort"),
        "report_query": _query(request, "page", "sort", "phase", "locality"),
    })


@login_required
def schools_export(request, kind: str):
    _, year, filters = _filters(request)
    external = request.GET.get("external") == "1"
    rows = _schools_table(request, year, filters)
    _, sort = sorted_paginated(request, rows, sorts=SORTS, default="name")
    ordered = rows.order_by(sort, "pk")
    table = schools_table_rows(ordered, external=external)
    name = f"schools-attendance-{_year_label(year)}{'-external' if external else ''}"
    if kind == "csv":
        return _download(table_csv(table), name=name, kind="csv")
    return _download(tables_xlsx([table]), name=name, kind="xlsx")


def _report(request, urn):
    _, year, filters = _filters(request)
    # Cached per scope: the same URN reached by another scope is computed (and refused) afresh.
    return school_report_cached(user=request.user, urn=urn, academic_year=year, filters=filters)


@login_required
def school_view(request, urn):
    report = _report(request, urn)
    external = request.GET.get("external") == "1"
    tables = school_report_tables(report, external=external)
    headline = report["headline"]
    figures = []
    if headline and headline.pupils:
        figures.append({"id": "chart-bands", "title": "Pupils by absence band",
                        "figure": charts.bands_figure(headline), "table": "bands"})
    if report["weeks"]:
        figures.append({"id": "chart-weeks", "title": "Attendance week by week",
                        "figure": charts.weekly_figure(report["weeks"]), "table": "weeks"})
    years = dashboard_years() or [current_academic_year()]
    form = CityFilterForm(request.GET or None, years=years)
    form.is_valid()
    pupils = None if external else Paginator(pupils_of_concern(
        user=request.user, school=report["school"], academic_year=report["academic_year"]),
        PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reports/school.html", {
        "report": report, "tables": {t.key: t for t in tables},
        "breakdown_tables": [t for t in tables if t.key not in ("headline", "bands", "weeks")],
        "figures": figures, "pupils": pupils, "page": pupils, "external": external, "form": form,
        "query": _query(request, "external"),
    })


@login_required
def school_export(request, urn, kind: str):
    report = _report(request, urn)
    external = request.GET.get("external") == "1"
    tables = school_report_tables(report, external=external)
    name = (f"school-{report['school'].urn}-attendance-{_year_label(report['academic_year'])}"
            f"{'-external' if external else ''}")
    if kind == "csv":
        return _download(tables_csv(tables), name=name, kind="csv")
    return _download(tables_xlsx(tables), name=name, kind="xlsx")

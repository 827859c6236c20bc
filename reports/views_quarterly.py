"""The quarterly city report (print-ready page and XLSX) and the city dashboard's XLSX."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from reports.caching import cached_for_latest_run
from reports.forms import QuarterlyFilterForm
from reports.quarterly import quarterly_report, report_period_default, report_years, year_label
from reports.selectors import dashboard_allowed
from reports.views import _dashboard, _weeks
from reports.xlsx import dashboard_sheets, quarterly_sheets, workbook_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_response(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def city_dashboard_xlsx(request):
    """The city dashboard as a workbook: a sheet per table, then the weeks. ``?external=1``:
    for outside the council, groups (and weeks) of fewer than five pupils suppressed."""
    _, dashboard = _dashboard(request)
    external = request.GET.get("external") == "1"
    year = dashboard["academic_year"]
    name = f"city-attendance-{year}-{year + 1}{'-external' if external else ''}.xlsx"
    sheets = dashboard_sheets(dashboard, external=external, weeks=_weeks(request, dashboard))
    return _xlsx_response(workbook_bytes(sheets), name)


def _report(request):
    if not dashboard_allowed(request.user):
        raise Http404("No report for this user")
    years = report_years()
    if not years:
        raise Http404("No term dates recorded")
    default = report_period_default(day=timezone.localdate())
    if default[0] not in years:
        default = (years[0], "autumn")
    form = QuarterlyFilterForm(request.GET or None, years=years)
    year, term = form.period(default) if request.GET else default
    report = cached_for_latest_run(
        ["quarterly", year, term],
        lambda: quarterly_report(user=request.user, academic_year=year, term=term))
    return form, report


@login_required
def quarterly_view(request):
    form, report = _report(request)
    return render(request, "reports/quarterly.html", {
        "form": form, "report": report, "query": request.GET.urlencode(),
        "year_label": year_label(report["period"].academic_year),
    })


@login_required
def quarterly_xlsx(request):
    _, report = _report(request)
    external = request.GET.get("external") == "1"
    period = report["period"]
    name = (f"quarterly-attendance-{period.academic_year}-{period.term}"
            f"{'-external' if external else ''}.xlsx")
    return _xlsx_response(workbook_bytes(quarterly_sheets(report, external=external)), name)

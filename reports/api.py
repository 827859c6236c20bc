"""The figures behind the city dashboard over the API (read only, aggregates only).

    GET /api/reports/city/headline/               the whole city (or the filtered group)
    GET /api/reports/city/bands/                  pupils per absence band
    GET /api/reports/city/breakdowns/             the breakdowns there are
    GET /api/reports/city/breakdowns/{key}/       one breakdown's groups (phase, fsm, …)
    GET /api/reports/city/weeks/                  the city week by week
    GET /api/reports/schools/                     the schools table's rows (with their weeks)
    GET /api/reports/schools/{urn}/               one school report's figures
    GET /api/reports/cohorts/{slug}/              one cohort dashboard's figures

Query: ``academic_year`` (2025 = 2025/26; default the latest year with summaries), ``phase``,
``locality`` (id), ``characteristic`` (fsm, sen_support, ehcp, cin, cp, cla, eal), as the page
(a school report takes only the year and the characteristic, a cohort the year, phase and
locality); a bad value is a 400. Every endpoint calls the page's selector, which takes the user
and enforces the page's scoping (a school, a caseload outside it: 404), through the page's cache
entry (reports.caching), so the numbers are the page's.
"""

from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from attendance.bands import Band
from attendance.selectors import current_academic_year
from reports.caching import cached_for_latest_run
from reports.cohorts import COHORTS, cohort_dashboard_cached, cohort_scope
from reports.school_report import (
    SORTS,
    school_report_cached,
    schools_allowed,
    schools_table_cached,
)
from reports.selectors import (
    BREAKDOWNS,
    CHARACTERISTICS,
    SUPPRESSION_THRESHOLD,
    city_dashboard,
    city_weeks_cached,
    dashboard_allowed,
    dashboard_years,
)
from schools.models import Phase

PARAMETERS = [
    OpenApiParameter("academic_year", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
                     description="First calendar year (2025 = 2025/26); default the latest "
                                 "year with summaries"),
    OpenApiParameter("phase", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                     enum=Phase.values, description="Only pupils at schools of this phase"),
    OpenApiParameter("locality", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
                     description="Only pupils at schools in this locality (id)"),
    OpenApiParameter("characteristic", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                     enum=list(CHARACTERISTICS), description="Only pupils with this "
                                                            "characteristic"),
]


class BenchmarkSerializer(serializers.Serializer):
    value = serializers.DecimalField(max_digits=5, decimal_places=1, coerce_to_string=False)
    academic_year = serializers.CharField()
    source = serializers.CharField()


class MeasureBenchmarksSerializer(serializers.Serializer):
    national = BenchmarkSerializer(required=False)
    statistical_neighbour = BenchmarkSerializer(required=False)
    region = BenchmarkSerializer(required=False, help_text="South West")


class BenchmarksSerializer(serializers.Serializer):
    absence = MeasureBenchmarksSerializer(required=False)
    pa = MeasureBenchmarksSerializer(required=False)
    sa = MeasureBenchmarksSerializer(required=False)
    unauthorised = MeasureBenchmarksSerializer(required=False)


def _rate(**kwargs):
    return serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False,
                                    allow_null=True, help_text="Per cent, one decimal", **kwargs)


class GroupFiguresSerializer(serializers.Serializer):
    """One group's figures: counts, and rates computed from them (half up, one decimal)."""

    key = serializers.CharField()
    label = serializers.CharField()
    pupils = serializers.IntegerField()
    possible_sessions = serializers.IntegerField(source="possible")
    attended_sessions = serializers.IntegerField(source="attended")
    attendance_rate = _rate()
    absence_rate = _rate()
    authorised_rate = _rate()
    unauthorised_rate = _rate()
    persistent_absence_pupils = serializers.IntegerField(source="pa")
    persistent_absence_rate = _rate(source="pa_rate")
    severe_absence_pupils = serializers.IntegerField(source="sa")
    severe_absence_rate = _rate(source="sa_rate")
    bands = serializers.ListField(child=serializers.IntegerField(allow_null=True),
                                  help_text="Pupils in bands 1 to 5")
    benchmarks = BenchmarksSerializer()


def _count(**kwargs):
    return serializers.IntegerField(allow_null=True, **kwargs)


class ShownFiguresSerializer(GroupFiguresSerializer):
    """A group's figures as the page shows them to this user: for a school lead on a cohort
    dashboard (school-facing), a group of 1 to 4 pupils has every figure null and
    ``suppressed`` true, and band counts of 1 to 4 are null; published benchmarks stay."""

    suppressed = serializers.BooleanField()
    pupils = _count()
    possible_sessions = _count(source="possible")
    attended_sessions = _count(source="attended")
    persistent_absence_pupils = _count(source="pa")
    severe_absence_pupils = _count(source="sa")


class HeadlineSerializer(serializers.Serializer):
    academic_year = serializers.IntegerField()
    filters = serializers.DictField(child=serializers.CharField())
    figures = GroupFiguresSerializer(allow_null=True)


class BandCountSerializer(serializers.Serializer):
    band = serializers.IntegerField()
    name = serializers.CharField()
    pupils = serializers.IntegerField()


class BandsSerializer(serializers.Serializer):
    academic_year = serializers.IntegerField()
    filters = serializers.DictField(child=serializers.CharField())
    pupils = serializers.IntegerField()
    bands = BandCountSerializer(many=True)


class BreakdownSummarySerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    groups = serializers.IntegerField()


class BreakdownListSerializer(serializers.Serializer):
    academic_year = serializers.IntegerField()
    breakdowns = BreakdownSummarySerializer(many=True)


class BreakdownSerializer(serializers.Serializer):
    academic_year = serializers.IntegerField()
    filters = serializers.DictField(child=serializers.CharField())
    key = serializers.CharField()
    title = serializers.CharField()
    groups = GroupFiguresSerializer(many=True)


class WeekSerializer(serializers.Serializer):
    week_start = serializers.DateField(help_text="The Monday")
    pupils = serializers.IntegerField(help_text="Pupils with possible sessions that week")
    possible_sessions = serializers.IntegerField(source="possible")
    attended_sessions = serializers.IntegerField(source="attended")
    authorised_sessions = serializers.IntegerField(source="authorised")
    unauthorised_sessions = serializers.IntegerField(source="unauthorised")
    attendance_rate = _rate()
    absence_rate = _rate()
    authorised_rate = _rate()
    unauthorised_rate = _rate()
    # Of the week's pupils: those whose year to date is in band 3 to 5, and in band 5.
    persistent_absence_rate = _rate(source="pa_rate")
    severe_absence_rate = _rate(source="sa_rate")


class WeeksSerializer(serializers.Serializer):
    academic_year = serializers.IntegerField()
    filters = serializers.DictField(child=serializers.CharField())
    weeks = WeekSerializer(many=True)


def _query(request, *, allowed=("phase", "locality", "characteristic"),
           errors: dict | None = None) -> tuple[int, dict]:
    """The academic year and the filters asked for; a bad value is a 400 naming it (with the
    caller's own ``errors``)."""
    params = request.query_params
    years = dashboard_years() or [current_academic_year()]
    errors, filters = dict(errors or {}), {}
    year = years[0]
    if params.get("academic_year"):
        value = params["academic_year"].strip()
        if not value.isdigit() or not 2000 <= int(value) <= 2100:
            errors["academic_year"] = "Give the first calendar year, e.g. 2025."
        else:
            year = int(value)
    if "phase" in allowed and params.get("phase"):
        if params["phase"] not in Phase.values:
            errors["phase"] = f"One of {', '.join(Phase.values)}."
        else:
            filters["phase"] = params["phase"]
    if "locality" in allowed and params.get("locality"):
        if not params["locality"].isdigit():
            errors["locality"] = "A locality id."
        else:
            filters["locality"] = int(params["locality"])
    if "characteristic" in allowed and params.get("characteristic"):
        if params["characteristic"] not in CHARACTERISTICS:
            errors["characteristic"] = f"One of {', '.join(CHARACTERISTICS)}."
        else:
            filters["characteristic"] = params["characteristic"]
    if errors:
        raise ValidationError(errors)
    return year, filters


def _dashboard(request) -> dict:
    if not dashboard_allowed(request.user):
        raise Http404("No dashboard for this user")
    year, filters = _query(request)
    return cached_for_latest_run(
        ["city", year, sorted(filters.items())],
        lambda: city_dashboard(user=request.user, academic_year=year, filters=filters))


def _filters(dashboard) -> dict:
    return {k: str(v) for k, v in dashboard["filters"].items()}


class CityHeadlineView(APIView):
    @extend_schema(operation_id="reports_city_headline", tags=["reports"], parameters=PARAMETERS,
                   responses=HeadlineSerializer,
                   summary="The city's year-to-date figures (or the filtered group's)")
    def get(self, request):
        dashboard = _dashboard(request)
        return Response(HeadlineSerializer({
            "academic_year": dashboard["academic_year"], "filters": _filters(dashboard),
            "figures": dashboard["headline"],
        }).data)


class CityBandsView(APIView):
    @extend_schema(operation_id="reports_city_bands", tags=["reports"], parameters=PARAMETERS,
                   responses=BandsSerializer, summary="Pupils in each absence band")
    def get(self, request):
        dashboard = _dashboard(request)
        headline = dashboard["headline"]
        counts = headline.bands if headline else [0] * 5
        return Response(BandsSerializer({
            "academic_year": dashboard["academic_year"], "filters": _filters(dashboard),
            "pupils": headline.pupils if headline else 0,
            "bands": [{"band": b.value, "name": b.label, "pupils": n}
                      for b, n in zip(Band, counts, strict=True)],
        }).data)


class CityBreakdownListView(APIView):
    @extend_schema(operation_id="reports_city_breakdowns", tags=["reports"],
                   parameters=PARAMETERS, responses=BreakdownListSerializer,
                   summary="The breakdowns of the city's figures")
    def get(self, request):
        dashboard = _dashboard(request)
        return Response(BreakdownListSerializer({
            "academic_year": dashboard["academic_year"],
            "breakdowns": [{"key": b["key"], "title": b["title"], "groups": len(b["cells"])}
                           for b in dashboard["breakdowns"]],
        }).data)


class CityBreakdownView(APIView):
    @extend_schema(operation_id="reports_city_breakdown", tags=["reports"],
                   parameters=[*PARAMETERS, OpenApiParameter(
                       "key", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(BREAKDOWNS))],
                   responses=BreakdownSerializer,
                   summary="One breakdown of the city's figures (phase, locality, fsm …)")
    def get(self, request, key):
        if key not in BREAKDOWNS:
            raise Http404("No such breakdown")
        dashboard = _dashboard(request)
        breakdown = next(b for b in dashboard["breakdowns"] if b["key"] == key)
        return Response(BreakdownSerializer({
            "academic_year": dashboard["academic_year"], "filters": _filters(dashboard),
            "key": key, "title": breakdown["title"], "groups": breakdown["cells"],
        }).data)


class CityWeeksView(APIView):
    @extend_schema(operation_id="reports_city_weeks", tags=["reports"], parameters=PARAMETERS,
                   responses=WeeksSerializer,
                   summary="The city week by week (the pupils the headline counts)")
    def get(self, request):
        if not dashboard_allowed(request.user):
            raise Http404("No dashboard for this user")
        year, filters = _query(request)
        weeks = city_weeks_cached(user=request.user, academic_year=year, filters=filters)
        return Response(WeeksSerializer({
            "academic_year": year, "filters": {k: str(v) for k, v in filters.items()},
            "weeks": weeks}).data)


# --- schools table and school report (reports.school_report) ---------------------------------

class TrendSerializer(serializers.Serializer):
    """Attendance over the last 4 weeks with possible sessions against the 4 before them."""

    recent = _rate()
    previous = _rate()
    change = serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False,
                                      help_text="Percentage points")
    direction = serializers.ChoiceField(choices=["up", "down", "steady"])
    words = serializers.CharField()


class ReportSchoolSerializer(serializers.Serializer):
    urn = serializers.CharField()
    name = serializers.CharField()
    phase = serializers.CharField()
    locality = serializers.CharField(allow_null=True)


def _school(school) -> dict:
    return {"urn": school.urn, "name": school.name, "phase": school.phase,
            "locality": school.locality.name if school.locality_id else None}


class SchoolRowSerializer(serializers.Serializer):
    school = ReportSchoolSerializer()
    figures = GroupFiguresSerializer()
    trend = TrendSerializer(allow_null=True)
    weeks = WeekSerializer(many=True)


class SchoolsSerializer(serializers.Serializer):
    academic_year = serializers.IntegerField()
    filters = serializers.DictField(child=serializers.CharField())
    sort = serializers.CharField()
    schools = SchoolRowSerializer(many=True)


class GroupsSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    groups = GroupFiguresSerializer(many=True, source="cells")


class SchoolReportSerializer(serializers.Serializer):
    academic_year = serializers.IntegerField()
    filters = serializers.DictField(child=serializers.CharField())
    school = ReportSchoolSerializer()
    figures = GroupFiguresSerializer(allow_null=True, help_text="The school's pupils, at it")
    city_phase = GroupFiguresSerializer(allow_null=True,
                                        help_text="The city's schools of the same phase")
    city = GroupFiguresSerializer(allow_null=True, help_text="Every pupil in the city")
    national_key = serializers.CharField(help_text="The published figures' group: the "
                                                   "characteristic's, the phase's or all")
    national = BenchmarksSerializer()
    trend = TrendSerializer(allow_null=True)
    bands = BandCountSerializer(many=True)
    breakdowns = GroupsSerializer(many=True)
    weeks = WeekSerializer(many=True)


def _band_counts(cell) -> list[dict]:
    counts = cell.bands if cell else [0] * 5
    return [{"band": b.value, "name": b.label, "pupils": n}
            for b, n in zip(Band, counts, strict=True)]


SORT_VALUES = [*SORTS, *(f"-{key}" for key in SORTS)]


class SchoolsView(APIView):
    @extend_schema(operation_id="reports_schools", tags=["reports"], parameters=[
        *PARAMETERS, OpenApiParameter("sort", OpenApiTypes.STR, OpenApiParameter.QUERY,
                                      required=False, enum=SORT_VALUES,
                                      description="As the page (a leading minus: descending); "
                                                  "default name")],
        responses=SchoolsSerializer,
        summary="Every school the user may see, with its figures, trend and weeks")
    def get(self, request):
        if not schools_allowed(request.user):
            raise Http404("No school figures for this user")
        sort = request.query_params.get("sort") or "name"
        year, filters = _query(request, errors={"sort": f"One of {', '.join(SORT_VALUES)}."}
                               if sort not in SORT_VALUES else None)
        rows = schools_table_cached(user=request.user, academic_year=year, filters=filters)
        return Response(SchoolsSerializer({
            "academic_year": year, "filters": {k: str(v) for k, v in filters.items()},
            "sort": sort,
            "schools": [{"school": _school(r.school), "figures": r.cell, "trend": r.trend,
                         "weeks": r.weeks} for r in rows.order_by(sort, "pk")],
        }).data)


class SchoolReportView(APIView):
    @extend_schema(operation_id="reports_school", tags=["reports"], parameters=[
        PARAMETERS[0], PARAMETERS[3],
        OpenApiParameter("urn", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses=SchoolReportSerializer,
        summary="One school report's figures (404 outside the user's schools)")
    def get(self, request, urn):
        if not schools_allowed(request.user):
            raise Http404("No school report for this user")
        year, filters = _query(request, allowed=("characteristic",))
        report = school_report_cached(user=request.user, urn=urn, academic_year=year,
                                      filters=filters)
        return Response(SchoolReportSerializer({
            "academic_year": report["academic_year"],
            "filters": {k: str(v) for k, v in report["filters"].items()},
            "school": _school(report["school"]), "figures": report["headline"],
            "city_phase": report["city_phase"], "city": report["city"],
            "national_key": report["national_key"], "national": report["national"],
            "trend": report["trend"], "bands": _band_counts(report["headline"]),
            "breakdowns": report["breakdowns"], "weeks": report["weeks"],
        }).data)


# --- cohort dashboards (reports.cohorts) -------------------------------------------------------

class _Shown:
    """A Cell as the cohort page shows it to this user (see ShownFiguresSerializer)."""

    PUBLIC = ("key", "label", "benchmarks")

    def __init__(self, cell, suppress: bool):
        self._cell, self._suppress = cell, suppress
        self.suppressed = suppress and 0 < cell.pupils < SUPPRESSION_THRESHOLD

    @property
    def bands(self):
        return [None if self.suppressed or (self._suppress and 0 < n < SUPPRESSION_THRESHOLD)
                else n for n in self._cell.bands]

    def __getattr__(self, name):
        value = getattr(self._cell, name)
        return None if self.suppressed and name not in self.PUBLIC else value


def _shown_count(value: int, suppress: bool):
    return None if suppress and 0 < value < SUPPRESSION_THRESHOLD else value


class CohortInfoSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()


class ShownGroupsSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    groups = ShownFiguresSerializer(many=True)


class TransitionSchoolSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The school's id")
    label = serializers.CharField()
    before = ShownFiguresSerializer(help_text="Last year")
    after = ShownFiguresSerializer(help_text="This year to date")


class MovementSerializer(serializers.Serializer):
    band = serializers.IntegerField(help_text="Band last year")
    name = serializers.CharField()
    counts = serializers.ListField(child=serializers.IntegerField(allow_null=True),
                                   help_text="Pupils now in bands 1 to 5")


class TransitionSerializer(serializers.Serializer):
    before = ShownFiguresSerializer(help_text="Last year (Year 6)")
    after = ShownFiguresSerializer(help_text="This year to date (Year 7)")
    by_from = TransitionSchoolSerializer(many=True, help_text="By the school they left")
    by_to = TransitionSchoolSerializer(many=True, help_text="By the school they joined")
    movement = MovementSerializer(many=True)
    improved = serializers.IntegerField(allow_null=True)
    same = serializers.IntegerField(allow_null=True)
    worse = serializers.IntegerField(allow_null=True)


class CohortDashboardSerializer(serializers.Serializer):
    academic_year = serializers.IntegerField()
    filters = serializers.DictField(child=serializers.CharField())
    cohort = CohortInfoSerializer()
    scope = serializers.ChoiceField(choices=["city", "caseload"], help_text=(
        "city: the city's cohort; caseload: a social worker's caseload only"))
    suppressed = serializers.BooleanField(help_text="Groups of 1 to 4 pupils are hidden "
                                                    "(school leads)")
    figures = ShownFiguresSerializer(allow_null=True, help_text="The cohort (or caseload)")
    parts = ShownFiguresSerializer(many=True, help_text="Its groups on their own (CIN, CP …)")
    city = ShownFiguresSerializer(allow_null=True, help_text="Every pupil in the city under "
                                                             "the same filters; null for a "
                                                             "caseload")
    breakdowns = ShownGroupsSerializer(many=True)
    transition = TransitionSerializer(allow_null=True)


def _transition(transition: dict, suppress: bool) -> dict:
    def schools(rows):
        return [{"key": r["key"], "label": r["label"], "before": _Shown(r["before"], suppress),
                 "after": _Shown(r["after"], suppress)} for r in rows]

    return {
        "before": _Shown(transition["before"], suppress),
        "after": _Shown(transition["after"], suppress),
        "by_from": schools(transition["by_from"]), "by_to": schools(transition["by_to"]),
        "movement": [{"band": r["band"].value, "name": r["band"].label,
                      "counts": [_shown_count(n, suppress) for n in r["counts"]]}
                     for r in transition["movement"]],
        **{key: _shown_count(transition[key], suppress)
           for key in ("improved", "same", "worse")},
    }


class CohortView(APIView):
    @extend_schema(operation_id="reports_cohort", tags=["reports"], parameters=[
        PARAMETERS[0], PARAMETERS[1], PARAMETERS[2],
        OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(COHORTS))],
        responses=CohortDashboardSerializer,
        summary="One cohort dashboard's figures (a social worker: their caseload)")
    def get(self, request, slug):
        if cohort_scope(request.user) is None or slug not in COHORTS:
            raise Http404("No such cohort dashboard for this user")
        year, filters = _query(request, allowed=("phase", "locality"))
        dashboard = cohort_dashboard_cached(user=request.user, slug=slug, academic_year=year,
                                            filters=filters)
        suppress = dashboard["suppressed"]
        cohort = dashboard["cohort"]
        return Response(CohortDashboardSerializer({
            "academic_year": dashboard["academic_year"],
            "filters": {k: str(v) for k, v in dashboard["filters"].items()},
            "cohort": {"slug": cohort.slug, "title": cohort.title, "label": cohort.label,
                       "description": cohort.description},
            "scope": dashboard["scope"], "suppressed": suppress,
            "figures": _Shown(dashboard["headline"], suppress) if dashboard["headline"] else None,
            "parts": [_Shown(c, suppress) for c in dashboard["parts"]],
            "city": _Shown(dashboard["city"], suppress) if dashboard["city"] else None,
            "breakdowns": [{"key": b["key"], "title": b["title"],
                            "groups": [_Shown(c, suppress) for c in b["cells"]]}
                           for b in dashboard["breakdowns"]],
            "transition": _transition(dashboard["transition"], suppress)
            if dashboard["transition"] else None,
        }).data)


report_urls = [
    path("reports/city/headline/", CityHeadlineView.as_view(), name="reports-city-headline"),
    path("reports/city/bands/", CityBandsView.as_view(), name="reports-city-bands"),
    path("reports/city/breakdowns/", CityBreakdownListView.as_view(),
         name="reports-city-breakdowns"),
    path("reports/city/breakdowns/<str:key>/", CityBreakdownView.as_view(),
         name="reports-city-breakdown"),
    path("reports/city/weeks/", CityWeeksView.as_view(), name="reports-city-weeks"),
    path("reports/schools/", SchoolsView.as_view(), name="reports-schools"),
    path("reports/schools/<str:urn>/", SchoolReportView.as_view(), name="reports-school"),
    path("reports/cohorts/<slug:slug>/", CohortView.as_view(), name="reports-cohort"),
]

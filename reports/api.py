"""The figures behind the city dashboard over the API (read only, aggregates only).

    GET /api/reports/city/headline/               the whole city (or the filtered group)
    GET /api/reports/city/bands/                  pupils per absence band
    GET /api/reports/city/breakdowns/             the breakdowns there are
    GET /api/reports/city/breakdowns/{key}/       one breakdown's groups (phase, fsm, …)

Query: ``academic_year`` (2025 = 2025/26; default the latest year with summaries), ``phase``,
``locality`` (id), ``characteristic`` (fsm, sen_support, ehcp, cin, cp, cla, eal), as the page.
Scoping is the page's: ``reports.selectors.dashboard_allowed`` (social workers and anyone else:
404). Same selector and the same cache as the page (reports.caching).
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
from reports.selectors import (
    BREAKDOWNS,
    CHARACTERISTICS,
    city_dashboard,
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


class BenchmarksSerializer(serializers.Serializer):
    absence = MeasureBenchmarksSerializer(required=False)
    pa = MeasureBenchmarksSerializer(required=False)
    sa = MeasureBenchmarksSerializer(required=False)


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
    benchmarks = BenchmarksSerializer()


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


def _dashboard(request) -> dict:
    if not dashboard_allowed(request.user):
        raise Http404("No dashboard for this user")
    params = request.query_params
    years = dashboard_years() or [current_academic_year()]
    errors, filters = {}, {}
    year = years[0]
    if params.get("academic_year"):
        value = params["academic_year"].strip()
        if not value.isdigit() or not 2000 <= int(value) <= 2100:
            errors["academic_year"] = "Give the first calendar year, e.g. 2025."
        else:
            year = int(value)
    if params.get("phase"):
        if params["phase"] not in Phase.values:
            errors["phase"] = f"One of {', '.join(Phase.values)}."
        else:
            filters["phase"] = params["phase"]
    if params.get("locality"):
        if not params["locality"].isdigit():
            errors["locality"] = "A locality id."
        else:
            filters["locality"] = int(params["locality"])
    if params.get("characteristic"):
        if params["characteristic"] not in CHARACTERISTICS:
            errors["characteristic"] = f"One of {', '.join(CHARACTERISTICS)}."
        else:
            filters["characteristic"] = params["characteristic"]
    if errors:
        raise ValidationError(errors)
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


report_urls = [
    path("reports/city/headline/", CityHeadlineView.as_view(), name="reports-city-headline"),
    path("reports/city/bands/", CityBandsView.as_view(), name="reports-city-bands"),
    path("reports/city/breakdowns/", CityBreakdownListView.as_view(),
         name="reports-city-breakdowns"),
    path("reports/city/breakdowns/<str:key>/", CityBreakdownView.as_view(),
         name="reports-city-breakdown"),
]

"""Register imports over the API: upload a file, then poll the run.

    POST /api/imports/       multipart: file, school (URN, optional for a lead), mode
    GET  /api/imports/       the runs the user may see
    GET  /api/imports/{id}/  one run (poll until status is applied, rejected or failed)

Scoping comes from schools.selectors.school_list and attendance.selectors.import_run_list: a
school the user cannot see is a 404, as on every page.
"""

from datetime import date

from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from attendance.bands import RECOMMENDED_ACTIONS, Band
from attendance.models import ImportRun
from attendance.selectors import (
    import_run_list,
    pupil_attendance,
    pupil_band_history,
    user_can_import_registers,
)
from attendance.services import register_import_create
from pupils.selectors import pupil_get
from pupils.services import pupil_view_record
from schools.models import AcademicYear
from schools.selectors import school_get


class CanImportRegisters(permissions.BasePermission):
    message = "Only LA attendance officers, school attendance leads and administrators can " \
              "import registers."

    def has_permission(self, request, view):
        return user_can_import_registers(user=request.user)


class ImportRunSerializer(serializers.ModelSerializer):
    school = serializers.SlugRelatedField(slug_field="urn", read_only=True)
    user = serializers.StringRelatedField()
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = ImportRun
        fields = ["id", "status", "mode", "school", "school_urns", "user", "original_filename",
                  "sha256", "format_detected", "created_at", "started_at", "finished_at",
                  "duration_seconds", "rows", "marks", "inserted", "updated", "unchanged",
                  "rejected", "error_count", "errors", "warnings", "legacy_code_mappings",
                  "message"]
        read_only_fields = fields

    def get_duration_seconds(self, run) -> float | None:
        return round(run.duration.total_seconds(), 3) if run.duration else None


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    school = serializers.CharField(required=False, allow_blank=True,
                                   help_text="URN of the school the file is for")
    mode = serializers.ChoiceField(choices=ImportRun.Mode.choices,
                                   default=ImportRun.Mode.ALL_OR_NOTHING)


class ImportRunViewSet(mixins.CreateModelMixin, mixins.ListModelMixin,
                       mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ImportRunSerializer
    permission_classes = [permissions.IsAuthenticated, CanImportRegisters]
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["status"]

    def get_queryset(self):
        return import_run_list(user=self.request.user)

    def get_serializer_class(self):
        return ImportUploadSerializer if self.action == "create" else ImportRunSerializer

    def create(self, request, *args, **kwargs):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        user = request.user
        urn = (upload.validated_data.get("school") or "").strip()
        if urn:
            school = school_get(user=user, urn=urn)  # 404 for a school the user cannot see
        elif user.is_school_lead and not (user.is_la_officer or user.sees_everything):
            school = user.school
        else:
            school = None  # the file names its schools; each row is checked against the scope
        file = upload.validated_data["file"]
        run = register_import_create(file=file, filename=file.name, school=school, user=user,
                                     mode=upload.validated_data["mode"])
        run.refresh_from_db()
        return Response(ImportRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


# --- Pupil attendance and band history (issue 5) ------------------------------------------------
#
#     GET /api/pupils/{upn}/attendance/    this year's figures, city-wide and per school, bands
#     GET /api/pupils/{upn}/band-history/  changes of the city-wide band, newest first
#
# Both are scoped through pupils.selectors.pupil_get (404 for a pupil outside the user's scope)
# and read the nightly summaries only. ``?academic_year=2025`` picks another year (2025 = 2025/26).


class BandField(serializers.IntegerField):
    """A band as its number (1 expected … 5 severe absence) or null; its name travels beside it.

    An integer rather than a choice field so the schema has one shape for every band column."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, min_value=1, max_value=5, **kwargs)


def _band_name(value) -> str | None:
    return Band(value).label if value else None


class AttendanceSummarySerializer(serializers.Serializer):
    school_urn = serializers.CharField(source="school.urn", allow_null=True, default=None,
                                       help_text="Empty for the city-wide summary (all schools)")
    school_name = serializers.CharField(source="school.name", allow_null=True, default=None)
    as_of = serializers.DateField()
    possible = serializers.IntegerField()
    attended = serializers.IntegerField()
    authorised = serializers.IntegerField()
    unauthorised = serializers.IntegerField()
    rate = serializers.SerializerMethodField(help_text="attended / possible, percent, 1 decimal")
    band = BandField(help_text="1 expected … 5 severe absence; null with no possible sessions")
    band_name = serializers.SerializerMethodField()
    recent_possible = serializers.IntegerField()
    recent_attended = serializers.IntegerField()
    recent_band = BandField(help_text="The band over the last four school weeks")
    recent_band_name = serializers.SerializerMethodField()
    projected_band = BandField(
        help_text="Where the term would leave the pupil if the rest of it went like the last "
                  "four school weeks")
    projected_band_name = serializers.SerializerMethodField()
    code_counts = serializers.DictField(child=serializers.IntegerField(),
                                        help_text="Sessions per register code")
    from_summary_rows = serializers.BooleanField()

    def get_rate(self, summary) -> float | None:
        return None if not summary.possible else round(100 * summary.attended / summary.possible, 1)

    def get_band_name(self, summary) -> str | None:
        return _band_name(summary.band)

    def get_recent_band_name(self, summary) -> str | None:
        return _band_name(summary.recent_band)

    def get_projected_band_name(self, summary) -> str | None:
        return _band_name(summary.projected_band)


class PupilAttendanceSerializer(serializers.Serializer):
    upn = serializers.CharField()
    academic_year = serializers.IntegerField(help_text="First calendar year: 2025 = 2025/26")
    city = AttendanceSummarySerializer(allow_null=True,
                                       help_text="All the pupil's schools together")
    schools = AttendanceSummarySerializer(many=True)
    recommended_actions = serializers.ListField(
        child=serializers.CharField(), help_text="Next steps for the city-wide band")


class BandChangeSerializer(serializers.Serializer):
    changed_on = serializers.DateField()
    academic_year = serializers.IntegerField()
    from_band = BandField(help_text="null for the pupil's first classification")
    from_band_name = serializers.SerializerMethodField()
    to_band = BandField()
    to_band_name = serializers.SerializerMethodField()
    possible = serializers.IntegerField()
    attended = serializers.IntegerField()
    rate = serializers.SerializerMethodField()

    def get_from_band_name(self, row) -> str | None:
        return _band_name(row.from_band)

    def get_to_band_name(self, row) -> str | None:
        return _band_name(row.to_band)

    def get_rate(self, row) -> float | None:
        return None if not row.possible else round(100 * row.attended / row.possible, 1)


class PupilBandHistorySerializer(serializers.Serializer):
    upn = serializers.CharField()
    academic_year = serializers.IntegerField(allow_null=True)
    changes = BandChangeSerializer(many=True)


ACADEMIC_YEAR_PARAMETER = OpenApiParameter(
    "academic_year", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
    description="First calendar year of the academic year (2025 = 2025/26); default this year",
)


def _academic_year(request) -> int:
    value = request.query_params.get("academic_year", "").strip()
    if not value:
        return AcademicYear.start_year_for(timezone.localdate())
    if not value.isdigit() or not 2000 <= int(value) <= 2100:
        raise ValidationError({"academic_year": "Give the first calendar year, e.g. 2025."})
    return int(value)


class PupilAttendanceView(APIView):
    @extend_schema(operation_id="pupil_attendance", tags=["pupils"],
                   parameters=[ACADEMIC_YEAR_PARAMETER], responses=PupilAttendanceSerializer,
                   summary="A pupil's attendance this year, city-wide and per school")
    def get(self, request, upn):
        pupil = pupil_get(user=request.user, upn=upn)  # 404 outside the user's scope
        year = _academic_year(request)
        pupil_view_record(pupil=pupil, user=request.user)
        data = pupil_attendance(user=request.user, upn=upn, as_of=date(year, 9, 1))
        city = data["city"]
        actions = RECOMMENDED_ACTIONS.get(city.band, []) if city and city.band else []
        return Response(PupilAttendanceSerializer({
            "upn": pupil.upn, "academic_year": year, "city": city,
            "schools": data["by_school"], "recommended_actions": actions,
        }).data)


class PupilBandHistoryView(APIView):
    @extend_schema(operation_id="pupil_band_history", tags=["pupils"],
                   parameters=[ACADEMIC_YEAR_PARAMETER], responses=PupilBandHistorySerializer,
                   summary="Changes of a pupil's city-wide band, newest first")
    def get(self, request, upn):
        pupil = pupil_get(user=request.user, upn=upn)
        year = _academic_year(request)
        pupil_view_record(pupil=pupil, user=request.user)
        changes = pupil_band_history(user=request.user, upn=upn, academic_year=year)
        return Response(PupilBandHistorySerializer({
            "upn": pupil.upn, "academic_year": year, "changes": changes,
        }).data)


pupil_attendance_urls = [
    path("pupils/<str:upn>/attendance/", PupilAttendanceView.as_view(),
         name="pupil-attendance"),
    path("pupils/<str:upn>/band-history/", PupilBandHistoryView.as_view(),
         name="pupil-band-history"),
]

"""Register imports over the API: upload a file, then poll the run.

    POST /api/imports/       multipart: file, school (URN, optional for a lead), mode
    GET  /api/imports/       the runs the user may see
    GET  /api/imports/{id}/  one run (poll until status is applied, rejected or failed)

Scoping comes from schools.selectors.school_list and attendance.selectors.import_run_list: a
school the user cannot see is a 404, as on every page.
"""

from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from attendance.models import ImportRun
from attendance.selectors import import_run_list, user_can_import_registers
from attendance.services import register_import_create
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

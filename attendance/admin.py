"""Admin for codes and import history; import-export resource for session marks.

Session marks are never edited one by one in the admin (7.6 M rows a year): register files go
through attendance.services (COPY + one upsert). ``SessionMarkResource`` exists for small
exports and for the benchmark that compares django-import-export's row-by-row import with ours.
"""

from django.contrib import admin
from import_export import fields, resources, widgets

from attendance.models import AttendanceCode, ImportRun, LegacyCodeMapping, SessionMark


class SessionMarkResource(resources.ModelResource):
    pupil = fields.Field(attribute="pupil_id", column_name="pupil")
    school = fields.Field(attribute="school_id", column_name="school")
    date = fields.Field(attribute="date", column_name="date", widget=widgets.DateWidget("%Y-%m-%d"))

    class Meta:
        model = SessionMark
        fields = ["pupil", "school", "date", "am", "pm"]
        import_id_fields = ["pupil", "school", "date"]
        skip_unchanged = True
        use_bulk = False  # the row-by-row path most admin imports use


@admin.register(AttendanceCode)
class AttendanceCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "meaning", "category", "counts_as_possible", "counts_as_attended",
                    "first_year", "last_year"]
    list_filter = ["category", "counts_as_possible", "counts_as_attended"]


@admin.register(LegacyCodeMapping)
class LegacyCodeMappingAdmin(admin.ModelAdmin):
    list_display = ["code", "first_year", "last_year", "stored_as", "meaning_then"]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "original_filename", "school", "user", "status", "mode",
                    "format_detected", "marks", "inserted", "updated", "unchanged", "rejected"]
    list_filter = ["status", "mode", "format_detected"]
    search_fields = ["original_filename", "sha256", "school__urn", "school__name"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_add_permission(self, request):
        return False

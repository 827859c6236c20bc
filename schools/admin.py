import tablib
from django.contrib import admin
from import_export import fields, resources
from import_export.admin import ImportMixin
from import_export.formats import base_formats
from import_export.results import Error, Result, RowResult

from attendance_portal.errors import ApplicationError
from schools.imports import ImportRejected, read_table
from schools.models import AcademicYear, ClosureDay, Locality, School, Term
from schools.services import GIAS_COLUMNS, schools_import_gias

# --- django-import-export, delegating to the import services ---------------------------------
# The admin's upload → preview → confirm flow is django-import-export's; the parsing, validation
# and set-based writing are the services' (the same code as the management commands). The
# resources below hand the uploaded bytes to a service (dry run for the preview) and turn its
# report into import-export's Result.


class _RawUpload:
    """Keep the uploaded bytes next to the tablib Dataset, so the service parses the file itself
    (encoding fallback, XLSX dates, true line numbers)."""

    def create_dataset(self, in_stream, **kwargs):
        frame, _ = read_table(in_stream, filename=f"upload.{self.get_extension()}")
        dataset = tablib.Dataset(*frame.itertuples(index=False, name=None),
                                 headers=list(frame.columns))
        dataset.raw_upload = in_stream
        return dataset

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"


class AnyEncodingCSV(_RawUpload, base_formats.CSV):
    """CSV in UTF-8 (with or without BOM) or Windows-1252."""


class SpreadsheetXLSX(_RawUpload, base_formats.XLSX):
    """XLSX, first sheet."""


class ServiceImportResource(resources.Resource):
    key_label = "key"
    columns: dict[str, list[str]] = {}  # the service's header synonyms, shown on the form

    @classmethod
    def get_display_name(cls):
        return getattr(cls._meta, "name", None) or cls.__name__

    def get_user_visible_fields(self):
        return [fields.Field(column_name=" / ".join(names[:3])) for names in self.columns.values()]

    def run_service(self, *, source, filename, user, dry_run):
        raise NotImplementedError

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None,
                    collect_failed_rows=False, rollback_on_validation_errors=False, **kwargs):
        result = Result()
        result.diff_headers = [self.key_label, "name", "change"]
        source = getattr(dataset, "raw_upload", None) or dataset
        filename = kwargs.get("file_name") or "upload"
        try:
            report = self.run_service(source=source, filename=filename,
                                      user=kwargs.get("user"), dry_run=dry_run)
        except ImportRejected as exc:
            for error in sorted(exc.report.errors, key=lambda e: e.line):
                result.append_base_error(Error(ValueError(str(error))))
            return result
        except ApplicationError as exc:
            result.append_base_error(Error(ValueError(exc.message)))
            return result
        for change in report.changes:
            row = RowResult()
            row.import_type = (RowResult.IMPORT_TYPE_NEW if change["action"] == "new"
                               else RowResult.IMPORT_TYPE_UPDATE)
            row.object_repr = change["name"]
            row.diff = [change.get("urn") or change.get("upn"), change["name"],
                        ", ".join(change.get("fields", [])) or change["action"]]
            result.append_row_result(row)
            result.increment_row_result_total(row)
        unchanged = sum(v for k, v in report.counts.items() if "unchanged" in k or "skipped" in k)
        result.totals[RowResult.IMPORT_TYPE_SKIP] = unchanged
        result.total_rows = report.rows
        return result


class GiasSchoolResource(ServiceImportResource):
    """A Get Information About Schools export (establishment fields), upserted by URN."""

    key_label = "URN"
    columns = GIAS_COLUMNS

    class Meta:
        model = School
        name = "GIAS establishments export"

    def run_service(self, *, source, filename, user, dry_run):
        return schools_import_gias(source=source, filename=filename, user=user, dry_run=dry_run)


class ServiceImportAdminMixin(ImportMixin):
    formats = [AnyEncodingCSV, SpreadsheetXLSX]
    skip_admin_log = True  # the services keep their own audit trail


@admin.register(School)
class SchoolAdmin(ServiceImportAdminMixin, admin.ModelAdmin):
    resource_classes = [GiasSchoolResource]
    list_display = ["name", "urn", "la_code", "establishment_number", "phase", "locality",
                    "link_officer", "status"]
    list_filter = ["phase", "locality", "status"]
    search_fields = ["name", "urn"]
    autocomplete_fields = ["link_officer"]


admin.site.register(Locality, search_fields=["name"])


class TermInline(admin.TabularInline):
    model = Term
    extra = 0


@admin.register(AcademicYear)
class AcademicYearAdmin(admin.ModelAdmin):
    inlines = [TermInline]


@admin.register(ClosureDay)
class ClosureDayAdmin(admin.ModelAdmin):
    list_display = ["date", "school", "reason"]
    list_filter = ["school"]
    date_hierarchy = "date"

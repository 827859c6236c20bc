from django.contrib import admin

from pupils.models import Characteristics, Enrolment, Pupil, SocialWorkerAllocation
from pupils.services import ROSTER_COLUMNS, roster_import
from schools.admin import ServiceImportAdminMixin, ServiceImportResource


class RosterResource(ServiceImportResource):
    """A MIS roster (CSV/XLSX; headers in docs/roster-formats.md); snapshot dated today."""

    key_label = "UPN"
    columns = ROSTER_COLUMNS

    class Meta:
        model = Pupil
        name = "MIS roster"

    def run_service(self, *, source, filename, user, dry_run):
        return roster_import(source=source, filename=filename, user=user, dry_run=dry_run)


class EnrolmentInline(admin.TabularInline):
    model = Enrolment
    extra = 0
    autocomplete_fields = ["school"]


class CharacteristicsInline(admin.TabularInline):
    model = Characteristics
    extra = 0


class AllocationInline(admin.TabularInline):
    model = SocialWorkerAllocation
    extra = 0
    autocomplete_fields = ["social_worker"]


@admin.register(Pupil)
class PupilAdmin(ServiceImportAdminMixin, admin.ModelAdmin):
    resource_classes = [RosterResource]
    list_display = ["upn", "surname", "forename", "date_of_birth", "sex"]
    search_fields = ["upn", "surname", "forename"]
    inlines = [EnrolmentInline, CharacteristicsInline, AllocationInline]

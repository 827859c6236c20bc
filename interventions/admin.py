"""Read-mostly admin for casework: changes go through the pages and services, which keep the
chronology and the legal records (append-only in the database) complete."""

from django.contrib import admin

from interventions.models import Case, ChronologyEntry, Intervention, PenaltyNotice


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["pk", "pupil", "stage", "status", "owner", "opened_at"]
    list_filter = ["stage", "status"]


@admin.register(Intervention)
class InterventionAdmin(ReadOnlyAdmin):
    list_display = ["case", "type", "start_date", "end_date", "owner"]
    list_filter = ["type"]


@admin.register(ChronologyEntry)
class ChronologyEntryAdmin(ReadOnlyAdmin):
    list_display = ["case", "occurred_on", "kind", "recorded_by"]


@admin.register(PenaltyNotice)
class PenaltyNoticeAdmin(ReadOnlyAdmin):
    list_display = ["pupil", "parent_name", "issued_on", "sequence", "amount", "status"]
    list_filter = ["status", "sequence"]

from django.contrib import admin

from tsm.models import Action, AgendaItem, PupilNote, TargetingSupportMeeting, TsmRound


@admin.register(TsmRound)
class TsmRoundAdmin(admin.ModelAdmin):
    list_display = ["term", "theme", "opened_by", "opened_at"]
    raw_id_fields = ["opened_by"]


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    extra = 0
    raw_id_fields = ["updated_by"]


@admin.register(TargetingSupportMeeting)
class MeetingAdmin(admin.ModelAdmin):
    """Read mostly: booking and holding go through the portal's pages (tsm.services)."""

    list_display = ["school", "round", "status", "proposed_start", "link_officer"]
    list_filter = ["status", "round"]
    search_fields = ["school__name", "school__urn"]
    raw_id_fields = ["school", "link_officer", "proposed_by", "confirmed_by", "held_by",
                     "cancelled_by"]
    readonly_fields = ["snapshot"]
    inlines = [AgendaItemInline]


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["description", "meeting", "owner", "due_date", "status"]
    list_filter = ["status"]
    raw_id_fields = ["meeting", "owner", "pupil", "carried_from", "created_by"]


admin.site.register(PupilNote, raw_id_fields=["meeting", "pupil", "updated_by"])

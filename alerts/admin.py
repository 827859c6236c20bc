from django.contrib import admin

from alerts.models import Alert, AlertPreference


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "rule", "recipient", "school", "read_at", "acknowledged_at"]
    list_filter = ["rule"]
    raw_id_fields = ["recipient", "pupil", "school", "acknowledged_by"]
    date_hierarchy = "created_at"


admin.site.register(AlertPreference, raw_id_fields=["user"])

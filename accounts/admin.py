from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_administrator", "is_manager", "is_la_officer",
                    "is_school_lead", "is_social_worker", "school", "is_active"]
    list_filter = ["is_administrator", "is_manager", "is_la_officer", "is_school_lead",
                   "is_social_worker", "is_active"]
    search_fields = ["email", "full_name"]
    autocomplete_fields = ["school"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "job_title"]}),
        ("Roles", {"fields": ["is_administrator", "is_manager", "is_la_officer",
                              "is_school_lead", "school", "is_social_worker"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups",
                               "user_permissions", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "full_name",
                                                             "password1", "password2"]})]

from django.contrib import admin

from schools.models import AcademicYear, ClosureDay, Locality, School, Term


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
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

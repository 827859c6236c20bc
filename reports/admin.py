from django.contrib import admin

from reports.models import BenchmarkFigure


@admin.register(BenchmarkFigure)
class BenchmarkFigureAdmin(admin.ModelAdmin):
    list_display = ["measure", "breakdown", "area", "academic_year", "period", "value"]
    list_filter = ["measure", "area", "academic_year", "period"]
    search_fields = ["breakdown", "source"]
    list_editable = ["value"]

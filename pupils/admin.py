from django.contrib import admin

from pupils.models import Characteristics, Enrolment, Pupil, SocialWorkerAllocation


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
class PupilAdmin(admin.ModelAdmin):
    list_display = ["upn", "surname", "forename", "date_of_birth", "sex"]
    search_fields = ["upn", "surname", "forename"]
    inlines = [EnrolmentInline, CharacteristicsInline, AllocationInline]

from django.urls import path

from tsm import views

app_name = "tsm"
urlpatterns = [
    path("", views.meeting_list_view, name="list"),
    path("rounds/open/", views.round_open_view, name="round-open"),
    path("coverage/", views.coverage_view, name="coverage"),
    path("coverage.csv", views.coverage_export_view, {"fmt": "csv"}, name="coverage-csv"),
    path("coverage.xlsx", views.coverage_export_view, {"fmt": "xlsx"}, name="coverage-xlsx"),
    path("<int:pk>/", views.meeting_detail_view, name="detail"),
    path("<int:pk>/propose/", views.meeting_propose_view, name="propose"),
    path("<int:pk>/confirm/", views.meeting_confirm_view, name="confirm"),
    path("<int:pk>/cancel/", views.meeting_cancel_view, name="cancel"),
    path("<int:pk>/hold/", views.meeting_hold_view, name="hold"),
    path("<int:pk>/invite.ics", views.meeting_ics_view, name="ics"),
    path("<int:pk>/pack/", views.meeting_pack_view, name="pack"),
    path("<int:pk>/record/", views.meeting_record_view, name="record"),
    path("<int:pk>/minutes/", views.meeting_minutes_view, name="minutes"),
    path("<int:pk>/agenda/", views.agenda_add_view, name="agenda-add"),
    path("<int:pk>/agenda/<int:item_pk>/", views.agenda_notes_view, name="agenda-notes"),
    path("<int:pk>/pupil-notes/", views.pupil_note_view, name="pupil-note"),
    path("<int:pk>/actions/", views.action_create_view, name="action-create"),
    path("actions/<int:action_pk>/status/", views.action_status_view, name="action-status"),
    path("actions/<int:action_pk>/description/", views.action_description_view,
         name="action-description"),
]

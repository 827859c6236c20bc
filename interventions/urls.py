from django.urls import path

from interventions import views

app_name = "interventions"
urlpatterns = [
    path("", views.case_list_view, name="list"),
    path("open/<str:upn>/", views.case_open_view, name="open"),
    path("social-worker/", views.social_worker_view, name="social_worker"),
    path("part-time-timetables/", views.part_time_view, name="part_time"),
    path("alternative-provision/", views.alternative_provision_view, name="ap"),
    path("under-20-percent/", views.under_twenty_view, name="under_20"),
    path("possibly-missing-education/", views.missing_view, name="missing"),
    path("penalty-threshold/", views.threshold_view, name="threshold"),
    path("penalty-notices/", views.penalty_notices_view, name="penalty_notices"),
    path("penalty-notices/<int:pk>/", views.penalty_notice_status_view,
         name="penalty_notice_status"),
    path("<int:pk>/", views.case_detail_view, name="detail"),
    path("<int:pk>/chronology/", views.chronology_print_view, name="chronology_print"),
    path("<int:pk>/chronology/add/", views.chronology_add_view, name="chronology_add"),
    path("<int:pk>/stage/", views.case_stage_view, name="stage"),
    path("<int:pk>/close/", views.case_close_view, name="close"),
    path("<int:pk>/family/", views.family_link_view, name="family_link"),
    path("<int:pk>/interventions/add/", views.intervention_add_view, name="intervention_add"),
    path("<int:pk>/interventions/<int:item>/end/", views.intervention_end_view,
         name="intervention_end"),
    path("<int:pk>/interventions/<int:item>/review/", views.intervention_review_view,
         name="intervention_review"),
    path("<int:pk>/legal/consultation/", views.consultation_view, name="consultation"),
    path("<int:pk>/legal/alternatives/", views.alternatives_view, name="alternatives"),
    path("<int:pk>/legal/social-worker/", views.social_worker_decision_view,
         name="sw_decision"),
    path("<int:pk>/legal/hold/", views.case_hold_view, name="hold"),
    path("<int:pk>/legal/hold/review/", views.case_hold_review_view, name="hold_review"),
    path("<int:pk>/legal/prosecution/", views.prosecution_view, name="prosecution"),
    path("<int:pk>/penalty-notices/add/", views.penalty_notice_add_view, name="penalty_add"),
]

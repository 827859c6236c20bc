from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("city/", views.city_dashboard_view, name="city"),
    path("city/export.csv", views.city_dashboard_csv, name="city_csv"),
    path("cohorts/", views.cohort_index_view, name="cohorts"),
    path("cohorts/<slug:slug>/", views.cohort_dashboard_view, name="cohort"),
    path("cohorts/<slug:slug>/export.csv", views.cohort_dashboard_csv, name="cohort_csv"),
]

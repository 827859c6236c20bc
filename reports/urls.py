from django.urls import path

from reports import school_views, views, views_quarterly

app_name = "reports"
urlpatterns = [
    path("city/", views.city_dashboard_view, name="city"),
    path("city/export.csv", views.city_dashboard_csv, name="city_csv"),
    path("schools/", school_views.schools_view, name="schools"),
    path("schools/export.csv", school_views.schools_export, {"kind": "csv"}, name="schools_csv"),
    path("schools/export.xlsx", school_views.schools_export, {"kind": "xlsx"},
         name="schools_xlsx"),
    path("schools/<str:urn>/", school_views.school_view, name="school"),
    path("schools/<str:urn>/export.csv", school_views.school_export, {"kind": "csv"},
         name="school_csv"),
    path("schools/<str:urn>/export.xlsx", school_views.school_export, {"kind": "xlsx"},
         name="school_xlsx"),
    path("cohorts/", views.cohort_index_view, name="cohorts"),
    path("cohorts/<slug:slug>/", views.cohort_dashboard_view, name="cohort"),
    path("cohorts/<slug:slug>/export.csv", views.cohort_dashboard_csv, name="cohort_csv"),
    path("cohorts/<slug:slug>/export.xlsx", views.cohort_dashboard_xlsx, name="cohort_xlsx"),
    path("cohorts/<slug:slug>/pupils.csv", views.cohort_pupils_csv, name="cohort_pupils_csv"),
]

urlpatterns += [
    path("city/export.xlsx", views_quarterly.city_dashboard_xlsx, name="city_xlsx"),
    path("city/quarterly/", views_quarterly.quarterly_view, name="quarterly"),
    path("city/quarterly/export.xlsx", views_quarterly.quarterly_xlsx, name="quarterly_xlsx"),
]

from django.urls import path

from reports import views, views_quarterly

app_name = "reports"
urlpatterns = [
    path("city/", views.city_dashboard_view, name="city"),
    path("city/export.csv", views.city_dashboard_csv, name="city_csv"),
]

urlpatterns += [
    path("city/export.xlsx", views_quarterly.city_dashboard_xlsx, name="city_xlsx"),
    path("city/quarterly/", views_quarterly.quarterly_view, name="quarterly"),
    path("city/quarterly/export.xlsx", views_quarterly.quarterly_xlsx, name="quarterly_xlsx"),
]

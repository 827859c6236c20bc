from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("city/", views.city_dashboard_view, name="city"),
    path("city/export.csv", views.city_dashboard_csv, name="city_csv"),
]

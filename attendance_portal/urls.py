from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import views as account_views

admin.site.site_header = "Attendance portal administration"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("schools/", include("schools.urls")),
    path("pupils/", include("pupils.urls")),
    path("alerts/", include("alerts.urls")),
    path("tsm/", include("tsm.urls")),
    path("cases/", include("interventions.urls")),
    path("reports/", include("reports.urls")),
    path("imports/", include("attendance.urls")),
    path("api/", include("attendance_portal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("healthz", account_views.healthz, name="healthz"),
]

from django.urls import path

from pupils import views

app_name = "pupils"
urlpatterns = [
    path("", views.pupil_list_view, name="list"),
    path("caseload/", views.caseload_view, name="caseload"),
    path("<str:upn>/", views.pupil_detail_view, name="detail"),
]

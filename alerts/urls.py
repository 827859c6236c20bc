from django.urls import path

from alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("preferences/", views.preferences, name="preferences"),
    path("<int:pk>/", views.alert_detail, name="detail"),
]

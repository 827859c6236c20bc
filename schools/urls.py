from django.urls import path

from schools import views

app_name = "schools"
urlpatterns = [
    path("", views.school_list_view, name="list"),
    path("<str:urn>/", views.school_detail_view, name="detail"),
]

from django.urls import path

from attendance import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.import_new, name="new"),
    path("<int:run_id>/", views.import_detail, name="detail"),
    path("<int:run_id>/errors.csv", views.import_errors_csv, name="errors_csv"),
]

from django.urls import path

from . import views

app_name = "gaps"
urlpatterns = [
    path("", views.gap_report, name="report"),
    path("matrix.csv", views.gap_csv, {"table": "matrix"}, name="matrix-csv"),
    path("ranked.csv", views.gap_csv, {"table": "ranked"}, name="ranked-csv"),
]

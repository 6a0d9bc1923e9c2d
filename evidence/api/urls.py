from django.urls import path

from . import views

app_name = "evidence"
urlpatterns = [
    path(
        "elements/<str:code>/evidence/",
        views.ElementEvidenceView.as_view(),
        name="element-evidence",
    ),
    path("evidence/recompute/", views.RecomputeView.as_view(), name="recompute"),
    path("jobs/<uuid:pk>/", views.JobView.as_view(), name="job"),
    path("gaps/", views.GapReportView.as_view(), name="gaps"),
]

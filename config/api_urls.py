"""/api/v1/: each app's API routes under one version prefix."""

from django.urls import include, path

urlpatterns = [
    path("", include("evidence.api.urls")),
]

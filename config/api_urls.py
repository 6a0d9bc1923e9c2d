"""/api/v1/: each app's API routes under one version prefix."""

from django.urls import include, path

from .auth import ObtainTokenView

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include("evidence.api.urls")),
    path("", include("frameworks.api.urls")),
    path("", include("studies.api.urls")),
    path("", include("convenings.api.urls")),
]

"""The researcher's import pages, mounted at /workspace/import/ (the rest of /workspace/ is
routed separately)."""

from django.urls import path

from . import imports as views

app_name = "workspace_import"
urlpatterns = [
    path("", views.import_upload, name="upload"),
    path("confirm/", views.import_confirm, name="confirm"),
    path("cancel/", views.import_cancel, name="cancel"),
]

"""The researcher's import pages, mounted at /workspace/import/ (the rest of /workspace/ is
routed separately)."""

from django.urls import path

from . import imports as views

app_name = "workspace_import"
urlpatterns = [
    path("", views.import_upload, name="upload"),
    path("confirm/", views.import_confirm, name="confirm"),
    path("cancel/", views.import_cancel, name="cancel"),
    path("<uuid:pk>/", views.import_batch, name="batch"),
    path("<uuid:pk>/confirm/", views.import_batch_confirm_view, name="batch-confirm"),
    path("<uuid:pk>/cancel/", views.import_batch_cancel_view, name="batch-cancel"),
]

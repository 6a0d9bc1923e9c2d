"""The workspace at /workspace/ (imports are routed separately, at /workspace/import/)."""

from django.urls import path, re_path

from . import dashboard, effects, review, study_form, tagging

app_name = "workspace"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("studies/", dashboard.study_list, name="studies"),
    re_path(r"^studies/export\.(?P<fmt>ris|bib|csv)$", dashboard.study_list_export, name="export"),
    path("studies/bulk-tag/", tagging.bulk_tag, name="bulk-tag"),
    path("studies/new/", study_form.study_create, name="study-create"),
    path("studies/doi-check/", study_form.doi_check, name="doi-check"),
    path("studies/<int:pk>/", study_form.study_detail, name="study"),
    path("studies/<int:pk>/edit/", study_form.study_edit, name="study-edit"),
    path("studies/<int:pk>/review/<str:action>/", review.study_transition, name="transition"),
    path("studies/<int:pk>/effects/new/", effects.effect_create, name="effect-create"),
    path("studies/<int:pk>/effects/<int:effect_pk>/", effects.effect_edit, name="effect-edit"),
    path(
        "studies/<int:pk>/effects/<int:effect_pk>/delete/",
        effects.effect_delete,
        name="effect-delete",
    ),
    path("studies/<int:pk>/tags/", tagging.study_tags, name="study-tags"),
    path("studies/<int:pk>/tags/<int:tag_pk>/remove/", tagging.tag_remove, name="tag-remove"),
    path("calculator/", effects.effect_preview, name="effect-preview"),
    path("review/", review.review_queue_page, name="review-queue"),
    path("review/<int:pk>/", review.review, name="review"),
    path("review/merge/", review.merge, name="merge"),
]

from django.urls import path, re_path

from . import workspace_views as views

app_name = "workspace"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("studies/", views.study_list, name="studies"),
    re_path(r"^studies/export\.(?P<fmt>ris|bib|csv)$", views.study_list_export, name="export"),
    path("studies/bulk-tag/", views.bulk_tag, name="bulk-tag"),
    path("studies/new/", views.study_create, name="study-create"),
    path("studies/doi-check/", views.doi_check, name="doi-check"),
    path("studies/<int:pk>/", views.study_detail, name="study"),
    path("studies/<int:pk>/edit/", views.study_edit, name="study-edit"),
    path("studies/<int:pk>/review/<str:action>/", views.study_transition, name="transition"),
    path("studies/<int:pk>/effects/new/", views.effect_create, name="effect-create"),
    path("studies/<int:pk>/effects/<int:effect_pk>/", views.effect_edit, name="effect-edit"),
    path(
        "studies/<int:pk>/effects/<int:effect_pk>/delete/",
        views.effect_delete,
        name="effect-delete",
    ),
    path("studies/<int:pk>/tags/", views.study_tags, name="study-tags"),
    path("studies/<int:pk>/tags/<int:tag_pk>/remove/", views.tag_remove, name="tag-remove"),
    path("calculator/", views.effect_preview, name="effect-preview"),
    path("review/", views.review_queue_page, name="review-queue"),
    path("review/<int:pk>/", views.review, name="review"),
    path("review/merge/", views.merge, name="merge"),
]

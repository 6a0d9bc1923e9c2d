from django.urls import path

from . import views

app_name = "convenings"
# Fixed paths first: a convening's slug may never be one of them (services.RESERVED_SLUGS).
urlpatterns = [
    path("", views.convening_list, name="list"),
    path("new/", views.convening_create, name="create"),
    path("findings/", views.finding_list, name="findings"),
    path("findings/<int:pk>/edit/", views.finding_edit, name="finding_edit"),
    path("people/<slug:slug>/", views.person_detail, name="person"),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization"),
    path("<slug:slug>/", views.convening_detail, name="detail"),
    path("<slug:slug>/edit/", views.convening_edit, name="edit"),
    path("<slug:slug>/sessions/new/", views.session_create, name="session_create"),
    path("<slug:slug>/sessions/<int:pk>/", views.session_detail, name="session"),
    path("<slug:slug>/sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("<slug:slug>/sessions/<int:pk>/move/", views.session_move, name="session_move"),
    path(
        "<slug:slug>/sessions/<int:pk>/presenters/new/",
        views.presenter_create,
        name="presenter_create",
    ),
    path(
        "<slug:slug>/sessions/<int:pk>/presenters/<int:presenter_pk>/remove/",
        views.presenter_remove,
        name="presenter_remove",
    ),
    path(
        "<slug:slug>/sessions/<int:pk>/findings/new/",
        views.finding_create,
        name="finding_create",
    ),
]

from django.urls import path

from . import views

app_name = "convenings"
urlpatterns = [
    path("", views.convening_list, name="list"),
    path("<slug:slug>/", views.convening_detail, name="detail"),
    path("<slug:slug>/sessions/<int:pk>/", views.session_detail, name="session"),
    path("people/<slug:slug>/", views.person_detail, name="person"),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization"),
]

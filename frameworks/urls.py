from django.urls import path

from . import views

app_name = "frameworks"
urlpatterns = [
    path("", views.home, name="home"),
    path("components/<str:code>/", views.component_detail, name="component"),
    path("elements/<str:code>/", views.element_detail, name="element"),
    path("about/ratings/", views.about_ratings, name="about-ratings"),
]

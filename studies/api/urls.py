from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.register("studies", views.StudyViewSet, basename="study")
router.register("effects", views.EffectSizeViewSet, basename="effect")
router.register("tags", views.StudyTagViewSet, basename="tag")
urlpatterns = [
    *router.urls,
    path("imports/", views.ImportView.as_view(), name="import"),
]

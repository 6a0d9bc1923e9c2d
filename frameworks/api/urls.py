from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("frameworks", views.FrameworkViewSet, basename="framework")
router.register("components", views.ComponentViewSet, basename="component")
router.register("elements", views.ElementViewSet, basename="element")
urlpatterns = router.urls

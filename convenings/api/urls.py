from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.register("convenings", views.ConveningViewSet, basename="convening")
router.register("sessions", views.SessionViewSet, basename="session")
router.register("presenters", views.PresenterViewSet, basename="presenter")
router.register("findings", views.FindingViewSet, basename="finding")
urlpatterns = router.urls

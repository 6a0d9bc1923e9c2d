from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from studies import views as study_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("studies/", include("studies.urls")),
    path("workspace/import/", include("studies.workspace.import_urls")),
    path("workspace/", include("studies.workspace.urls")),
    path("search/", study_views.search, name="search"),
    path("convenings/", include("convenings.urls")),
    path("gaps/", include("evidence.urls")),
    path("", include("frameworks.urls")),
]

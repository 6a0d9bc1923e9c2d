from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from studies import views as study_views

from .availability import healthz
from .security import ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm

# Both sign-in pages count failures and refuse to check passwords after too many.
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("studies/", include("studies.urls")),
    path("workspace/import/", include("studies.workspace.import_urls")),
    path("workspace/", include("studies.workspace.urls")),
    path("search/", study_views.search, name="search"),
    path("convenings/", include("convenings.urls")),
    path("gaps/", include("evidence.urls")),
    path("", include("frameworks.urls")),
]

from django.urls import path, register_converter

from . import views


class ExportFormat:
    regex = "ris|bib|csv"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ExportFormat, "any_format")

app_name = "studies"
urlpatterns = [
    path("", views.study_list, name="list"),
    path("export.<any_format:fmt>", views.study_list_export, name="list-export"),
    path("<int:pk>/", views.study_detail, name="detail"),
    path("<int:pk>/cite.<any_format:fmt>", views.study_export, name="export"),
]

"""The health check, and 503 with a proper body while the database is unreachable."""

import pytest
from django.db import InterfaceError, OperationalError

from config.availability import RETRY_AFTER
from frameworks import views as framework_views
from studies.api import views as study_api_views

pytestmark = pytest.mark.django_db


def test_the_health_check_answers_ok_without_touching_the_database(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.content == b"ok"


def _unreachable(*args, **kwargs):
    raise OperationalError("terminating connection due to administrator command")


def test_a_page_answers_503_with_a_page_when_the_database_is_unreachable(client, monkeypatch):
    monkeypatch.setattr(framework_views.selectors, "element_by_code", _unreachable)
    response = client.get("/elements/LL.3/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER)
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Unavailable for a moment" in body and "try again" in body
    assert "Traceback" not in body and "administrator command" not in body


def test_the_api_answers_503_with_json_when_the_connection_was_cut(client, monkeypatch):
    def cut(self):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(study_api_views.StudyViewSet, "get_queryset", cut)
    response = client.get("/api/v1/studies/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER)
    assert "try again" in response.json()["detail"]


def test_other_errors_are_not_disguised_as_unavailability(client, monkeypatch):
    def broken(code):
        raise ValueError("a bug")

    monkeypatch.setattr(framework_views.selectors, "element_by_code", broken)
    with pytest.raises(ValueError):
        client.get("/elements/LL.3/")

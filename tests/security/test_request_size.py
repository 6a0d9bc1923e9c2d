"""Oversized request bodies and import files are refused early, with a message, on the API, the
import page and the import_references command, and never read whole into memory."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIClient

from config.security import RequestSizeLimitMiddleware
from studies.models import Study

pytestmark = pytest.mark.django_db

RIS_RECORD = "TY  - JOUR\nTI  - A study of feedback\nPY  - 2020\nER  - \n\n"


@pytest.fixture
def small_limits(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1_000
    settings.IMPORT_MAX_BYTES = 20_000
    return settings


def ris_file(size: int, name: str = "big.ris") -> io.BytesIO:
    body = (RIS_RECORD * (size // len(RIS_RECORD) + 1)).encode()[:size]
    upload = io.BytesIO(body)
    upload.name = name
    return upload


class Unreadable:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


@pytest.mark.parametrize(
    "content_type, size",
    [("application/json", 10_001), ("multipart/form-data; boundary=x", 20_000 + 2**20 + 1)],
)
def test_a_body_over_the_limit_is_refused_from_its_length_without_being_read(
    small_limits, content_type, size
):
    request = RequestFactory().generic(
        "POST", "/api/v1/studies/", content_type=content_type, data=b""
    )
    request.META["CONTENT_LENGTH"] = str(size)
    request.META["wsgi.input"] = Unreadable()
    middleware = RequestSizeLimitMiddleware(lambda r: HttpResponse(r.body))
    response = middleware(request)
    assert response.status_code == 413
    assert "at most" in json.loads(response.content)["detail"]


def test_an_oversized_json_body_gets_a_413_with_a_message(small_limits, researcher):
    client = APIClient()
    client.force_authenticate(researcher)
    body = {"title": "x" * 20_000, "year": 2020}
    response = client.post("/api/v1/studies/", body, format="json")
    assert response.status_code == 413
    assert response.json()["detail"].startswith("The request is ")
    assert not Study.objects.exists()


def test_a_json_body_under_the_limit_is_served(small_limits, researcher):
    client = APIClient()
    client.force_authenticate(researcher)
    response = client.post("/api/v1/studies/", {"title": "x" * 500, "year": 2020}, format="json")
    assert response.status_code == 201


def test_an_oversized_form_post_gets_a_413_page_with_a_message(small_limits, client, researcher):
    client.force_login(researcher)
    response = client.post(
        "/workspace/studies/new/",
        f"title={'x' * 20_000}&year=2020",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "at most" in response.content.decode() and not Study.objects.exists()


def test_the_import_page_refuses_a_file_over_the_limit_with_a_message(
    small_limits, client, researcher
):
    client.force_login(researcher)
    response = client.post("/workspace/import/", {"file": ris_file(25_000)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "files up to" in page and "can be imported" in page
    assert not Study.objects.exists()


def test_the_import_page_refuses_a_huge_upload_before_reading_it(small_limits, client, researcher):
    client.force_login(researcher)
    response = client.post("/workspace/import/", {"file": ris_file(20_000 + 2**20 + 10)})
    assert response.status_code == 413
    assert "Reference files can be imported up to" in response.content.decode()


def test_the_api_import_refuses_a_file_over_the_limit_with_a_field_error(small_limits, researcher):
    client = APIClient()
    client.force_authenticate(researcher)
    response = client.post("/api/v1/imports/", {"file": ris_file(25_000)}, format="multipart")
    assert response.status_code == 400
    assert "can be imported" in response.json()["file"][0]
    huge = client.post(
        "/api/v1/imports/", {"file": ris_file(20_000 + 2**20 + 10)}, format="multipart"
    )
    assert huge.status_code == 413 and "at most" in huge.json()["detail"]


def test_an_upload_over_the_memory_threshold_is_streamed_to_disk(
    small_limits, client, researcher, monkeypatch
):
    """Files over FILE_UPLOAD_MAX_MEMORY_SIZE are spooled to a temporary file, so an upload
    near the limit never sits in memory while it is received."""
    from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler

    kept = []
    for handler in (MemoryFileUploadHandler, TemporaryFileUploadHandler):
        original = handler.file_complete

        def spy(self, size, original=original):
            result = original(self, size)
            if result is not None:
                kept.append(type(result).__name__)
            return result

        monkeypatch.setattr(handler, "file_complete", spy)
    client.force_login(researcher)
    client.post("/workspace/import/", {"file": ris_file(5_000)})
    client.post("/workspace/import/", {"file": ris_file(500)})
    assert kept == ["TemporaryUploadedFile", "InMemoryUploadedFile"]


def test_the_command_refuses_a_file_over_the_limit_without_reading_it(
    small_limits, tmp_path, monkeypatch
):
    path = tmp_path / "big.ris"
    with path.open("wb") as out:
        out.truncate(25_000)  # sparse: nothing to read, only a size
    monkeypatch.setattr("pathlib.Path.read_bytes", lambda self: pytest.fail("the file was read"))
    with pytest.raises(CommandError, match="can be imported"):
        call_command("import_references", str(path), "--dry-run")

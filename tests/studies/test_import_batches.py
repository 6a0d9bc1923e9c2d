"""Large imports in the background: a batch is checked, confirmed and imported by tasks that
record their progress, and the page shows it (htmx polling, or a reload without JavaScript)."""

import zlib

import pytest

from studies import import_batches, imports
from studies.constants import ImportBatchStatus, ReviewStatus
from studies.imports import import_commit
from studies.models import ImportBatch, Study
from tests.factories import StudyFactory, UserFactory
from tests.studies.test_imports import ZOTERO_RIS, page_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def background(settings):
    """Every upload counts as large, so the small samples take the background path."""
    settings.IMPORT_BACKGROUND_BYTES = 100


def upload_large(
    client, django_capture_on_commit_callbacks, content: bytes = b"", name: str = "library.ris"
):
    # Celery is eager in tests, as in the demo: the task runs when the upload's row is committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = page_upload(client, content or ZOTERO_RIS.encode(), name)
    assert response.status_code == 302
    return ImportBatch.objects.get(), response["Location"]


def test_a_large_upload_is_checked_in_the_background_then_previewed_on_its_page(
    client, researcher, background, django_capture_on_commit_callbacks
):
    StudyFactory(doi="10.3102/0013189x19851234", title="Pane et al. 2019")
    client.force_login(researcher)
    batch, location = upload_large(client, django_capture_on_commit_callbacks)
    assert location == f"/workspace/import/{batch.pk}/"
    assert batch.status == ImportBatchStatus.READY and batch.created_by == researcher
    assert (batch.phase, batch.done, batch.total) == ("checking", 3, 3)
    html = client.get(location).content.decode()
    assert "Create 2 draft studies" in html and "duplicate" in html
    assert f'action="/workspace/import/{batch.pk}/confirm/"' in html
    assert not Study.objects.filter(created_by=researcher).exists()
    upload_page = client.get("/workspace/import/").content.decode()
    assert (
        f'href="{location}"' in upload_page and "Checked, waiting for confirmation" in upload_page
    )


def test_confirming_a_batch_imports_its_new_records_as_drafts_and_says_so(
    client, researcher, background, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    batch, location = upload_large(client, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{location}confirm/")
    batch.refresh_from_db()
    assert batch.status == ImportBatchStatus.DONE and batch.created == 3
    assert batch.data == b"" or bytes(batch.data) == b""
    drafts = Study.objects.filter(created_by=researcher, status=ReviewStatus.DRAFT)
    assert drafts.count() == 3
    html = client.get(location).content.decode()
    assert "Created 3 draft studies" in html and "skipped 0 duplicates and 0 records" in html


@pytest.fixture
def checking(researcher):
    return ImportBatch.objects.create(
        created_by=researcher,
        filename="scopus.ris",
        data=zlib.compress(ZOTERO_RIS.encode()),
        size=len(ZOTERO_RIS),
        status=ImportBatchStatus.CHECKING,
        phase="checking",
        done=2500,
        total=10000,
    )


def test_a_running_batch_shows_n_of_n_records_in_a_progress_bar_polled_every_second(
    client, researcher, checking
):
    client.force_login(researcher)
    html = client.get(checking.get_absolute_url()).content.decode()
    assert '<progress max="10000" value="2500"' in html
    assert "Checked 2500 of 10000 records." in html and 'role="status"' in html
    assert 'hx-trigger="every 1s"' in html
    assert "<noscript>" in html and "reload it</a> to see the progress" in html


def test_htmx_polls_get_the_progress_alone_then_a_reload_once_it_is_done(
    client, researcher, checking
):
    client.force_login(researcher)
    polled = client.get(checking.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert b"<html" not in polled.content and b'id="import-progress"' in polled.content
    ImportBatch.objects.filter(pk=checking.pk).update(status=ImportBatchStatus.READY, preview={})
    done = client.get(checking.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_a_batch_is_seen_only_by_the_researcher_who_uploaded_it(client, checking):
    assert client.get(checking.get_absolute_url()).status_code == 302
    other = UserFactory(roles=["researcher"])
    client.force_login(other)
    assert client.get(checking.get_absolute_url()).status_code == 404
    assert client.post(f"{checking.get_absolute_url()}confirm/").status_code == 404


def test_each_step_runs_once_however_often_its_task_is_delivered(researcher):
    batch = ImportBatch.objects.create(
        created_by=researcher, data=zlib.compress(ZOTERO_RIS.encode()), size=len(ZOTERO_RIS)
    )
    assert import_batches.import_batch_preview(batch_id=batch.pk) is True
    assert import_batches.import_batch_preview(batch_id=batch.pk) is False
    batch.refresh_from_db()
    assert import_batches.import_batch_confirm(batch=batch) is True
    assert import_batches.import_batch_confirm(batch=batch) is False
    assert import_batches.import_batch_commit(batch_id=batch.pk) is True
    assert import_batches.import_batch_commit(batch_id=batch.pk) is False
    assert Study.objects.count() == 3


def test_a_cancelled_batch_forgets_its_upload_and_cannot_be_confirmed(
    client, researcher, background, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    batch, location = upload_large(client, django_capture_on_commit_callbacks)
    client.post(f"{location}cancel/")
    batch.refresh_from_db()
    assert batch.status == ImportBatchStatus.CANCELLED and bytes(batch.data) == b""
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{location}confirm/")
    assert not Study.objects.exists()
    assert "nothing was saved" in client.get(location).content.decode()


def test_a_batch_whose_file_cannot_be_read_fails_with_the_reason_on_its_page(
    client, researcher, background, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    batch, location = upload_large(
        client,
        django_capture_on_commit_callbacks,
        content=b"%PDF-1.4 " + b"x" * 200,
        name="report.pdf",
    )
    assert batch.status == ImportBatchStatus.FAILED
    assert "looks like a PDF" in client.get(location).content.decode()


def test_a_batch_that_fails_to_save_creates_nothing_and_says_which_line(researcher, monkeypatch):
    def refused(*args, **kwargs):
        raise imports.ImportFailed(23, "simulated")

    monkeypatch.setattr(import_batches, "import_commit", refused)
    batch = ImportBatch.objects.create(
        created_by=researcher,
        data=zlib.compress(ZOTERO_RIS.encode()),
        size=len(ZOTERO_RIS),
        status=ImportBatchStatus.CONFIRMED,
    )
    assert import_batches.import_batch_commit(batch_id=batch.pk) is False
    batch.refresh_from_db()
    assert batch.status == ImportBatchStatus.FAILED and batch.message.startswith("line 23:")
    assert not Study.objects.exists()


def test_the_import_service_reports_each_phase_with_its_counts(researcher):
    heard = []
    import_commit(
        data=ZOTERO_RIS.encode(),
        user=researcher,
        progress=lambda phase, done, total: heard.append((phase, done, total)),
    )
    assert heard == [
        ("reading", 0, 0),
        ("checking", 0, 3),
        ("checking", 3, 3),
        ("saving", 3, 3),
    ]

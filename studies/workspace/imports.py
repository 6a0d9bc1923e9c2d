"""The researcher's import page: upload a reference file, check every record, confirm.

A small upload is checked while the page waits. It is kept in the session (compressed; one per
session) under a one-time token, so the confirm step imports the very bytes that were previewed,
parsed again on the server: nothing the browser sends back is trusted. The session, unlike a
temporary file, is shared by every web process.

An upload over IMPORT_BACKGROUND_BYTES becomes an ImportBatch checked, then imported, by a
background task (studies.import_batches); its page shows the progress, polled with htmx (or
reloaded by hand without JavaScript). Both paths run the same import service.
"""

import base64
import secrets
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from .. import roles
from ..constants import ImportBatchStatus, ReviewStatus
from ..forms import ImportUploadForm
from ..import_batches import import_batch_cancel, import_batch_confirm, import_batch_start
from ..imports import (
    ImportFailed,
    ImportRefused,
    import_commit,
    import_max_bytes,
    import_preview,
    preview_summary,
)
from ..models import ImportBatch, Study
from .access import importer_required

SESSION_KEY = "studies.import.pending"
RECENT_SHOWN = 20
BATCHES_SHOWN = 5


@importer_required
def import_upload(request):
    """The upload form; a valid upload is previewed record by record, nothing is saved yet."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data, fmt = upload.read(), form.cleaned_data["format"] or None
        try:
            if len(data) > settings.IMPORT_BACKGROUND_BYTES:
                batch = import_batch_start(
                    data=data, filename=upload.name, format=fmt, user=request.user
                )
                return redirect(batch)
            preview = import_preview(data=data, filename=upload.name, format=fmt)
        except ImportRefused as exc:
            form.add_error(exc.field, str(exc))
        else:
            token = _stash(request, data=data, filename=upload.name, format=fmt)
            return _render_preview(request, preview_summary(preview), token=token)
    recent = Study.objects.filter(
        created_by=request.user, source_note__startswith="Imported from"
    ).order_by("-created_at", "-pk")[:RECENT_SHOWN]
    batches = ImportBatch.objects.filter(created_by=request.user).defer("data", "preview")
    return render(
        request,
        "studies/import.html",
        {
            "form": form,
            "max_mb": import_max_bytes() // (1024 * 1024),
            "recent": recent,
            "batches": batches[:BATCHES_SHOWN],
        },
    )


@require_POST
@importer_required
def import_confirm(request):
    """Import the previewed upload: its new records become the user's drafts, all or none."""
    pending = _unstash(request, request.POST.get("token", ""))
    if pending is None:
        messages.error(
            request,
            "That preview is no longer available (it was confirmed, cancelled or replaced by "
            "another upload). Upload the file again.",
        )
        return redirect("workspace_import:upload")
    # One confirm per preview: a second click (or a replayed form) finds nothing to import.
    request.session.pop(SESSION_KEY, None)
    try:
        result = import_commit(
            data=pending.data,
            user=request.user,
            filename=pending.filename,
            format=pending.format,
        )
    except (ImportRefused, ImportFailed) as exc:
        messages.error(request, str(exc))
        return redirect("workspace_import:upload")
    messages.success(
        request,
        f"Created {_count(result.created, 'draft study', 'draft studies')}; skipped "
        f"{_count(result.duplicates, 'duplicate')} and "
        f"{_count(len(result.errors), 'record with errors', 'records with errors')}.",
    )
    return redirect("workspace_import:upload")


@require_POST
@importer_required
def import_cancel(request):
    request.session.pop(SESSION_KEY, None)
    messages.info(request, "Import cancelled; nothing was saved.")
    return redirect("workspace_import:upload")


# --- Large files: a batch checked and imported in the background --------------------------------


@importer_required
def import_batch(request, pk):
    """A batch's page: its progress while a task works on it, then its preview or its result.

    htmx polls the progress every second; once the task is done, it reloads the whole page.
    """
    batch = get_object_or_404(ImportBatch.objects.defer("data"), pk=pk, created_by=request.user)
    if request.htmx and not batch.is_running:
        return HttpResponseClientRefresh()
    if batch.is_running:
        template = "studies/_import_progress.html" if request.htmx else "studies/import_batch.html"
        return render(request, template, {"batch": batch})
    if batch.status == ImportBatchStatus.READY:
        return _render_preview(request, batch.preview, batch=batch)
    return render(request, "studies/import_batch.html", {"batch": batch})


@require_POST
@importer_required
def import_batch_confirm_view(request, pk):
    batch = get_object_or_404(ImportBatch.objects.defer("data"), pk=pk, created_by=request.user)
    if not import_batch_confirm(batch=batch):
        messages.error(request, "That import was already confirmed or cancelled.")
    return redirect(batch)


@require_POST
@importer_required
def import_batch_cancel_view(request, pk):
    batch = get_object_or_404(ImportBatch.objects.defer("data"), pk=pk, created_by=request.user)
    if import_batch_cancel(batch=batch):
        messages.info(request, "Import cancelled; nothing was saved.")
        return redirect("workspace_import:upload")
    messages.error(request, "That import can no longer be cancelled.")
    return redirect(batch)


# --- The preview table ------------------------------------------------------------------------


def _render_preview(request, summary: dict, *, token: str = "", batch: ImportBatch | None = None):
    """The checked records (from preview_summary), from the session's upload or a batch."""
    rows = [
        {**row, "authors": _authors(row["authors"]), "existing": _existing(row, request.user)}
        for row in summary["rows"]
    ]
    return render(
        request,
        "studies/import_preview.html",
        {"summary": summary, "token": token, "batch": batch, "rows": rows},
    )


def _authors(authors: list[str]) -> str:
    if len(authors) > 3:
        return f"{'; '.join(authors[:3])} et al. ({len(authors)} authors)"
    return "; ".join(authors)


def _existing(row: dict, user) -> dict | None:
    """How to show the existing study a record duplicates, without revealing others' drafts."""
    study = row["duplicate_of"]
    if study is None:
        return None
    if study["status"] == ReviewStatus.PUBLISHED:
        url = reverse("studies:detail", args=[study["pk"]])
        return {"pk": study["pk"], "title": study["title"], "year": study["year"], "url": url}
    if roles.is_curator(user) or study["created_by_id"] == user.pk:
        label = ReviewStatus(study["status"]).label.lower()
        title = f"{study['title']} ({label})"
        return {
            "pk": study["pk"],
            "title": title,
            "year": study["year"],
            "url": _workspace_url(study["pk"]),
        }
    return {
        "pk": study["pk"],
        "title": "an unpublished study by another researcher",
        "year": None,
        "url": None,
    }


def _workspace_url(pk: int) -> str | None:
    # The researcher workspace's study page, when that part of the site is installed.
    try:
        return reverse("workspace:study", args=[pk])
    except NoReverseMatch:
        return None


def _count(n: int, singular: str, plural: str = "") -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


# --- The pending upload, kept in the session ----------------------------------------------------


@dataclass(frozen=True)
class PendingUpload:
    data: bytes
    filename: str
    format: str | None


def _stash(request, *, data: bytes, filename: str, format: str | None) -> str:
    """Keep the upload for the confirm step (replacing any earlier one); returns its token."""
    token = secrets.token_urlsafe(16)
    request.session[SESSION_KEY] = {
        "token": token,
        "filename": filename[:255],
        "format": format or "",
        "data": base64.b64encode(zlib.compress(data, 6)).decode("ascii"),
    }
    return token


def _unstash(request, token: str) -> PendingUpload | None:
    pending = request.session.get(SESSION_KEY)
    if not pending or not token or not secrets.compare_digest(pending["token"], token):
        return None
    try:
        data = zlib.decompress(base64.b64decode(pending["data"]))
    except (ValueError, zlib.error):
        return None
    return PendingUpload(data, pending["filename"], pending["format"] or None)

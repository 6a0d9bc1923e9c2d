"""Large imports in the background: the same import service (studies.imports), run by a Celery
task that records its progress on an ImportBatch row for the page to poll.

A batch keeps the upload's bytes on the server, so the confirm step imports exactly what was
previewed (checked again against the database at that moment). Each step claims the batch with a
conditional update, so a task delivered twice does the work once.
"""

import zlib

from django.db import transaction
from django.utils import timezone

from .constants import ImportBatchStatus as Status
from .imports import (
    ImportFailed,
    ImportRefused,
    import_check_size,
    import_commit,
    import_preview,
    preview_summary,
)
from .models import ImportBatch

# A claimed batch is never retried (its claim is spent): a crash or time limit ends it here.
STOPPED = "The import stopped before it finished; nothing was imported. Upload the file again."


def import_batch_start(*, data: bytes, filename: str, format: str | None, user) -> ImportBatch:
    """Keep an upload and check its records in the background; returns the batch to watch."""
    import_check_size(len(data))
    batch = ImportBatch.objects.create(
        created_by=user,
        filename=filename[:255],
        format=format or "",
        data=zlib.compress(data, 6),
        size=len(data),
    )
    # Imported here: tasks import this module.
    from .tasks import import_batch_preview_task

    transaction.on_commit(lambda: import_batch_preview_task.delay(str(batch.pk)))
    return batch


def import_batch_preview(*, batch_id: str) -> bool:
    """Check a queued batch's records (nothing is saved); False if another run took it."""
    if not _claim(batch_id, Status.QUEUED, Status.CHECKING):
        return False
    batch = ImportBatch.objects.get(pk=batch_id)
    try:
        preview = import_preview(
            data=zlib.decompress(batch.data),
            filename=batch.filename,
            format=batch.format or None,
            progress=_reporter(batch_id),
        )
    except ImportRefused as exc:
        return _finish(batch_id, Status.FAILED, message=str(exc), data=b"")
    except BaseException:
        _finish(batch_id, Status.FAILED, message=STOPPED)
        raise
    return _finish(batch_id, Status.READY, preview=preview_summary(preview))


def import_batch_confirm(*, batch: ImportBatch) -> bool:
    """Import a checked batch's new records in the background; False if it was not waiting."""
    if not _claim(batch.pk, Status.READY, Status.CONFIRMED):
        return False
    from .tasks import import_batch_commit_task

    transaction.on_commit(lambda: import_batch_commit_task.delay(str(batch.pk)))
    return True


def import_batch_commit(*, batch_id: str) -> bool:
    """Create a confirmed batch's new records as drafts, all or none; False if already taken."""
    if not _claim(batch_id, Status.CONFIRMED, Status.IMPORTING):
        return False
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    try:
        result = import_commit(
            data=zlib.decompress(batch.data),
            user=batch.created_by,
            filename=batch.filename,
            format=batch.format or None,
            progress=_reporter(batch_id),
        )
    except (ImportRefused, ImportFailed) as exc:
        return _finish(batch_id, Status.FAILED, message=str(exc), data=b"")
    except BaseException:
        # The import's transaction was rolled back: nothing was created.
        _finish(batch_id, Status.FAILED, message=STOPPED)
        raise
    summary = preview_summary(result.preview, new_shown=0)
    return _finish(batch_id, Status.DONE, preview=summary, created=result.created, data=b"")


def import_batch_cancel(*, batch: ImportBatch) -> bool:
    """Forget a checked batch that was not confirmed; False if it had gone further."""
    return _claim(batch.pk, Status.READY, Status.CANCELLED, data=b"", preview={})


def _claim(batch_id, before: str, after: str, **values) -> bool:
    # A compare-and-set: of two runs (or two clicks), exactly one moves the batch on.
    claimed = ImportBatch.objects.filter(pk=batch_id, status=before).update(
        status=after, updated_at=timezone.now(), **values
    )
    return claimed == 1


def _finish(batch_id, status: str, **values) -> bool:
    ImportBatch.objects.filter(pk=batch_id).update(
        status=status, updated_at=timezone.now(), **values
    )
    return status != Status.FAILED


def _reporter(batch_id):
    """A progress callback that writes the phase and counts on the batch row.

    Written outside the import's transaction (reading and checking), the page sees each step;
    the saving steps run inside it, so the page sees that phase start, then the result.
    """

    def report(phase: str, done: int, total: int) -> None:
        ImportBatch.objects.filter(pk=batch_id).update(
            phase=phase, done=min(done, total), total=total, updated_at=timezone.now()
        )

    return report

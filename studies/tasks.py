"""Celery tasks: adapters that take ids and call one service each.

No retries: each service claims its batch once and marks it failed if it stops.
"""

from celery import shared_task

from . import import_batches


@shared_task(acks_late=True)
def import_batch_preview_task(batch_id: str) -> bool:
    return import_batches.import_batch_preview(batch_id=batch_id)


@shared_task(acks_late=True)
def import_batch_commit_task(batch_id: str) -> bool:
    return import_batches.import_batch_commit(batch_id=batch_id)

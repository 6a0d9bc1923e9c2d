"""Celery tasks: adapters that take ids and call one service each."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def recompute_element(element_id: int) -> bool:
    return services.element_evidence_recompute_if_dirty(element_id=element_id)


@shared_task(acks_late=True)
def sweep_dirty_elements() -> int:
    return services.dirty_elements_enqueue()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def recompute_all_elements(job_id: str | None = None) -> int:
    return services.evidence_recompute_all(job_id=job_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def rebuild_gap_facts() -> int:
    from .gaps.facts import gap_facts_rebuild

    return gap_facts_rebuild()


@shared_task(acks_late=True)
def warm_gap_report() -> int:
    from . import gaps

    return gaps.gap_report_warm()

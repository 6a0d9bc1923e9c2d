"""Reads of stored evidence summaries (pages and the API never run a meta-analysis)."""

import uuid

from django.core.cache import cache
from django.db.models import Prefetch

from .models import EvidenceSummary

# In the shared cache: a token every change to the published evidence replaces (services).
EVIDENCE_VERSION_KEY = "evidence.version"


def evidence_version() -> str:
    """The version of the published evidence: a token that changes when any element is marked
    dirty (a published study changed) and when recomputed summaries are stored. Pages cached
    under an older one are never served again; a lost token just starts a new version."""
    version = cache.get(EVIDENCE_VERSION_KEY)
    if version is None:
        cache.add(EVIDENCE_VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(EVIDENCE_VERSION_KEY)
    return version


def element_summaries(element) -> dict:
    """An element's stored summaries: overall, by outcome domain and by population."""
    rows = list(
        EvidenceSummary.objects.filter(element=element)
        .select_related("population")
        .order_by("outcome_domain", "population__order")
    )
    overall = next((s for s in rows if not s.outcome_domain and s.population_id is None), None)
    return {
        "overall": overall,
        "by_domain": [s for s in rows if s.outcome_domain and s.population_id is None],
        "by_population": [s for s in rows if s.population_id is not None],
    }


def overall_summaries_prefetch() -> Prefetch:
    """Prefetch each element's overall summary as ``overall_summaries`` (a list of 0 or 1)."""
    return Prefetch(
        "evidence_summaries",
        queryset=EvidenceSummary.objects.filter(outcome_domain="", population__isnull=True),
        to_attr="overall_summaries",
    )

"""Reads of stored evidence summaries (pages and the API never run a meta-analysis)."""

from django.db.models import Prefetch

from .models import EvidenceSummary


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

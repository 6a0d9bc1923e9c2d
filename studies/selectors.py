"""Reads of studies that carry logic (visibility, prefetching)."""

from django.db.models import F
from django.shortcuts import get_object_or_404

from .models import Study

ELEMENT_FILTERS = ("grade_band", "population", "design", "outcome_domain", "essa_tier")


def element_study_list(element, params, *, per_page: int = 25):
    """One page of the published studies behind an element, filtered by the educator's choices."""
    from django.core.paginator import Paginator

    from .filters import StudyFilterSet

    data = {
        key: params.getlist(key) if key == "design" else params.get(key)
        for key in ELEMENT_FILTERS
        if params.get(key)
    }
    queryset = (
        Study.objects.published()
        .for_element(element)
        .only("id", "title", "authors", "year", "venue", "design", "essa_tier")
        .prefetch_related("grade_bands")
        .order_by(F("essa_tier").asc(nulls_last=True), "-year", "title", "pk")
    )
    study_filter = StudyFilterSet(data, queryset=queryset)
    studies = study_filter.qs if study_filter.is_valid() else queryset.none()
    # Paged: an element can have thousands of studies; the page stays a bounded amount of work.
    return study_filter, Paginator(studies, per_page).get_page(params.get("page"))


def published_study(pk: int) -> Study:
    """One published study with everything its page shows (404 for anything unpublished)."""
    return get_object_or_404(
        Study.objects.published().prefetch_related(
            "effects__population",
            "tags__element",
            "tags__facet",
            "grade_bands",
            "populations",
            "subjects",
            "settings",
        ),
        pk=pk,
    )


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def _history_entries(model_name: str, records) -> list[dict]:
    """Audit entries for one model's historical records, each with its field changes."""
    previous: dict[int, object] = {}
    entries = []
    for record in records:
        before = previous.get(record.id)
        changes = []
        if before is not None and record.history_type == "~":
            delta = record.diff_against(before)
            changes = [
                {"field": c.field, "old": _plain(c.old), "new": _plain(c.new)}
                for c in delta.changes
            ]
        entries.append(
            {
                "at": record.history_date,
                "user": record.history_user.username if record.history_user else None,
                "model": model_name,
                "object_id": record.id,
                "action": _ACTIONS[record.history_type],
                "changes": changes,
            }
        )
        previous[record.id] = record
    return entries


def _plain(value):
    return (
        value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)
    )


def study_history(study: Study) -> list[dict]:
    """Who changed what on a study, its effects and its tags, newest first."""
    from .models import EffectSize, StudyTag

    sources = [
        ("study", Study.history.filter(id=study.pk)),
        ("effect", EffectSize.history.filter(study_id=study.pk)),
        ("tag", StudyTag.history.filter(study_id=study.pk)),
    ]
    entries = []
    for name, records in sources:
        entries += _history_entries(
            name, records.select_related("history_user").order_by("history_date", "history_id")
        )
    return sorted(entries, key=lambda e: e["at"], reverse=True)


def search_studies(query: str, queryset=None):
    """Published studies matching the words, best first: ranked full text on PostgreSQL.

    On PostgreSQL the weighted ``search_vector`` column (title > authors > venue, abstract) is
    matched with ``websearch_to_tsquery`` (quotes, OR and -word work as on the web) and ranked;
    elsewhere every word must appear in the title, abstract, authors or venue.
    """
    from django.db import connection
    from django.db.models import Q
    from django.db.models.expressions import RawSQL

    queryset = Study.objects.published() if queryset is None else queryset
    if not query.strip():
        return queryset.none()
    if connection.vendor == "postgresql":
        tsquery = "websearch_to_tsquery('english', %s)"
        return (
            queryset.annotate(
                rank=RawSQL(f"ts_rank(studies_study.search_vector, {tsquery})", [query])
            )
            .filter(
                pk__in=RawSQL(
                    f"SELECT id FROM studies_study WHERE search_vector @@ {tsquery}", [query]
                )
            )
            .order_by("-rank", "-year")
        )
    for word in query.split()[:10]:
        queryset = queryset.filter(
            Q(title__icontains=word)
            | Q(abstract__icontains=word)
            | Q(venue__icontains=word)
            | Q(authors__icontains=word)
        )
    return queryset.order_by("-year")

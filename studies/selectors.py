"""Reads of studies that carry logic (visibility, prefetching)."""

from django.db.models import Count, Exists, F, OuterRef, Prefetch
from django.shortcuts import get_object_or_404

from frameworks.models import Element

from .constants import ReviewStatus
from .models import EffectSize, GradeBand, Population, Setting, Study, StudyTag, Subject

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


def study_codes_prefetch() -> list:
    """What the API shows of a study's relations, as plain lists (``<relation>_list``): the
    codes of its vocabulary terms and of its tags' elements (see serializers.prefetched)."""
    vocabularies = [
        Prefetch(name, queryset=model.objects.only("code"), to_attr=f"{name}_list")
        for name, model in (
            ("grade_bands", GradeBand),
            ("populations", Population),
            ("subjects", Subject),
            ("settings", Setting),
        )
    ]
    tags = StudyTag.objects.select_related("element").only("study_id", "element__code")
    return [*vocabularies, Prefetch("tags", queryset=tags, to_attr="tags_list")]


def search_studies(query: str, queryset=None):
    """Published studies matching the words (``StudyQuerySet.matching``), best first: ranked by
    the weighted ``search_vector`` column (title > authors > venue, abstract) on PostgreSQL,
    newest first elsewhere.
    """
    from django.db import connection
    from django.db.models.expressions import RawSQL

    queryset = Study.objects.published() if queryset is None else queryset
    if not query.strip():
        return queryset.none()
    matches = queryset.matching(query)
    if connection.vendor == "postgresql":
        rank = "ts_rank(studies_study.search_vector, websearch_to_tsquery('english', %s))"
        return matches.annotate(rank=RawSQL(rank, [query])).order_by("-rank", "-year")
    return matches.order_by("-year")


# --- The researcher's workspace ------------------------------------------------------------------


def workspace_studies(user):
    """The studies a workspace lists: every study for curators, one's own for researchers."""
    from . import roles

    return Study.objects.all() if roles.is_curator(user) else Study.objects.filter(created_by=user)


def with_counts(queryset):
    """Studies annotated with how many effects and tags each has."""
    return queryset.annotate(
        n_effects=Count("effects", distinct=True), n_tags=Count("tags", distinct=True)
    )


def review_queue():
    """Submitted studies, oldest first, saying whether each updates a published version."""
    published_before = Study.history.filter(id=OuterRef("pk"), status=ReviewStatus.PUBLISHED)
    return (
        with_counts(Study.objects.filter(status=ReviewStatus.SUBMITTED))
        .select_related("created_by")
        .annotate(was_published=Exists(published_before))
        .order_by("updated_at", "pk")
    )


def framework_tree(query: str = "") -> list[Element]:
    """The current framework's elements with their facets, narrowed by words if given."""
    elements = list(
        Element.objects.current().select_related("component").prefetch_related("facets")
    )
    words = query.lower().split()
    if not words:
        return elements

    def text(element: Element) -> str:
        facets = " ".join(facet.name for facet in element.facets.all())
        return f"{element.code} {element.title} {element.component.name} {facets}".lower()

    return [element for element in elements if all(word in text(element) for word in words)]


# Bookkeeping that changes with every save or review action: not part of "what changed".
DIFF_IGNORED = [
    "version",
    "updated_at",
    "updated_by",
    "created_at",
    "created_by",
    "status",
    "review_comment",
    "published_at",
    "essa_tier",
    "essa_reason",
]


def _shown(field_name: str, value) -> str:
    field = Study._meta.get_field(field_name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return "" if value is None else str(value)


def changes_since_published(study: Study) -> dict | None:
    """What changed on a study, its effects and tags since its last published version (None if
    it was never published). Read from the simple-history records."""
    records = study.history.order_by("-history_date", "-history_id")
    # The version as last published: the first record of the latest publication (later edits by
    # a curator keep the status but are changes all the same).
    baseline = (
        records.filter(status=ReviewStatus.PUBLISHED)
        .order_by("-published_at", "history_date", "history_id")
        .first()
    )
    if baseline is None:
        return None
    delta = records.first().diff_against(baseline, excluded_fields=DIFF_IGNORED)
    fields = [
        {
            "label": Study._meta.get_field(change.field).verbose_name,
            "old": _shown(change.field, change.old),
            "new": _shown(change.field, change.new),
        }
        for change in delta.changes
    ]
    at = baseline.history_date
    then = {e.pk: e for e in EffectSize.history.as_of(at).filter(study_id=study.pk)}
    now = {e.pk: e for e in study.effects.all()}
    compared = ("outcome_domain", "measure", "input_kind", "reported", "g", "higher_is_better")
    tags_then = {
        (t.element_id, t.facet_id): t
        for t in StudyTag.history.as_of(at).filter(study_id=study.pk).select_related("element")
    }
    tags_now = {(t.element_id, t.facet_id): t for t in study.tags.all()}
    return {
        "published_at": at,
        "fields": fields,
        "effects_added": [now[pk] for pk in now.keys() - then.keys()],
        "effects_removed": [then[pk] for pk in then.keys() - now.keys()],
        "effects_changed": [
            (then[pk], now[pk])
            for pk in now.keys() & then.keys()
            if any(getattr(then[pk], f) != getattr(now[pk], f) for f in compared)
        ],
        "tags_added": [tags_now[key] for key in tags_now.keys() - tags_then.keys()],
        "tags_removed": [tags_then[key] for key in tags_then.keys() - tags_now.keys()],
    }


def possible_duplicates(study: Study, limit: int = 5) -> list[Study]:
    """Studies of the same year whose titles share most words with this one's."""
    words = set(study.title_key.split())
    longest = max(words, key=len, default="")
    candidates = Study.objects.filter(year=study.year, title_key__contains=longest).exclude(
        pk=study.pk
    )[:200]
    scored = [
        (len(words & set(c.title_key.split())) / len(words | set(c.title_key.split())), c)
        for c in candidates
    ]
    return [c for score, c in sorted(scored, key=lambda s: -s[0]) if score >= 0.5][:limit]

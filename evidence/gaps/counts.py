"""The report's aggregate queries: distinct studies, best tier and latest year per element and
column, the stored summaries and the open questions; the counts are cached per evidence version."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Value,
    When,
)
from django.urls import reverse

from convenings.constants import FindingKind
from convenings.models import Finding
from frameworks.models import Element, OpenQuestion
from studies.models import EffectSize, Study, StudyTag

from .. import rules
from ..models import EvidenceSummary
from .data import OpenQuestionRef
from .filters import GapFilters

# The counts are cached while the published evidence is unchanged; an hour bounds any staleness
# from edits that bypass the services (the admin), which the nightly recompute also repairs.
CACHE_SECONDS = 60 * 60


@dataclass
class Agg:
    """Distinct studies, best (lowest) tier and latest year of one cell."""

    n: int = 0
    best: int | None = None
    latest: int | None = None

    def merge(self, other: Agg) -> None:
        """Add another path's studies (the caller removes the ones counted twice)."""
        self.n += other.n
        self.best = min((t for t in (self.best, other.best) if t is not None), default=None)
        self.latest = max((y for y in (self.latest, other.latest) if y is not None), default=None)


NONE = Agg()
CellKey = tuple[int, str]  # (element id, column code; "" for the element's total)


def _tags_in_view(filters: GapFilters, element_ids: list[int]):
    """Tags of the elements in view to the studies that match the filters."""
    tags = StudyTag.objects.filter(element_id__in=element_ids, study__status__in=filters.statuses)
    if filters.year_min:
        tags = tags.filter(study__year__gte=filters.year_min)
    if filters.year_max:
        tags = tags.filter(study__year__lte=filters.year_max)
    if filters.designs:
        tags = tags.filter(study__design__in=filters.designs)
    if filters.grade_band:
        tags = tags.filter(
            Exists(
                Study.grade_bands.through.objects.filter(
                    study_id=OuterRef("study_id"), gradeband__code=filters.grade_band
                )
            )
        )
    if filters.population:
        # A study is on a population through its populations or a subgroup effect for it.
        tags = tags.filter(
            Exists(
                Study.populations.through.objects.filter(
                    study_id=OuterRef("study_id"), population__code=filters.population
                )
            )
            | Exists(
                EffectSize.objects.filter(
                    study_id=OuterRef("study_id"), population__code=filters.population
                )
            )
        )
    return tags.order_by()


def _grouped(tags, key: str | None, best) -> dict[CellKey, Agg]:
    """Distinct studies, best tier and latest year per (element, key): one GROUP BY."""
    grouping = {"key": F(key)} if key else {"key": Value("")}
    rows = (
        tags.values("element_id", **grouping)
        .annotate(n=Count("study_id", distinct=True), best=Min(best), latest=Max("study__year"))
        .values_list("element_id", "key", "n", "best", "latest")
    )
    # Studies not coded for the dimension (key None) count in the element's total only.
    return {(e, k): Agg(n, b, y) for e, k, n, b, y in rows if k is not None}


def _favorable(prefix: str) -> Q:
    return Q(**{f"{prefix}g__gt": 0, f"{prefix}significant": True})


def _domain_cells(tags) -> dict[CellKey, Agg]:
    # A study's tier in a domain is its tier if it has a significant favorable whole-sample
    # effect there: the stored tier is then its design level (rules.study_tier).
    whole_sample = Q(study__effects__population__isnull=True, study__effects__subgroup="")
    best = Case(
        When(study__essa_tier=4, then=Value(4)),
        When(whole_sample & _favorable("study__effects__"), then=F("study__essa_tier")),
        default=None,
        output_field=IntegerField(),
    )
    return _grouped(tags, "study__effects__outcome_domain", best)


def _population_cells(tags) -> dict[CellKey, Agg]:
    """Studies on each population, through the study's populations or a subgroup effect.

    Three GROUP BYs (populations, subgroup effects, both) so a study on both paths counts once.
    """
    via_populations = _grouped(tags, "study__populations__code", F("study__essa_tier"))
    # A favorable subgroup effect earns the study's design level (stored with its tier).
    level = "study__essa_reason__design_level"
    best = Case(
        When(**{level: 4}, then=Value(4)),
        *(When(Q(**{level: n}) & _favorable("study__effects__"), then=Value(n)) for n in (1, 2, 3)),
        default=None,
        output_field=IntegerField(),
    )
    via_subgroups = _grouped(
        tags.filter(study__effects__population__isnull=False),
        "study__effects__population__code",
        best,
    )
    both = (
        tags.filter(study__effects__population=F("study__populations"))
        .values("element_id", key=F("study__effects__population__code"))
        .annotate(n=Count("study_id", distinct=True))
        .values_list("element_id", "key", "n")
    )
    out: dict[CellKey, Agg] = defaultdict(Agg)
    for source in (via_populations, via_subgroups):
        for key, agg in source.items():
            out[key].merge(agg)
    for element_id, code, n in both:
        out[(element_id, code)].n -= n
    return dict(out)


def _dimension_cells(tags, dimension: str) -> dict[CellKey, Agg]:
    if dimension == "outcome_domain":
        return _domain_cells(tags)
    if dimension == "population":
        return _population_cells(tags)
    key = {
        "grade_band": "study__grade_bands__code",
        "setting": "study__settings__code",
        "design": "study__design",
    }[dimension]
    return _grouped(tags, key, F("study__essa_tier"))


@dataclass(frozen=True)
class Counted:
    """The aggregate part of the report: what costs time at scale, and what is cached."""

    totals: dict[CellKey, Agg]
    cells: dict[CellKey, Agg]
    population_cells: dict[CellKey, Agg]
    n_studies: int


def _count(filters: GapFilters, element_ids: list[int]) -> Counted:
    """Seven GROUP BY queries over the tags of the studies in view (six with populations)."""
    tags = _tags_in_view(filters, element_ids)
    population_cells = _population_cells(tags)
    return Counted(
        totals=_grouped(tags, None, F("study__essa_tier")),
        cells=population_cells
        if filters.dimension == "population"
        else _dimension_cells(tags, filters.dimension),
        population_cells=population_cells,
        n_studies=tags.aggregate(n=Count("study_id", distinct=True))["n"] or 0,
    )


def counted(filters: GapFilters, element_ids: list[int]) -> Counted:
    """The counts, from the cache while the published evidence is unchanged.

    Every publish, edit or retraction of published data ends in a recompute that stores new
    summaries, so the newest summary's time is a version of the published evidence: one cheap
    query instead of seven scans of every study. Views with studies under review (a curator's,
    changing without recompute) are always counted afresh.
    """
    if filters.include_under_review:
        return _count(filters, element_ids)
    version = EvidenceSummary.objects.aggregate(at=Max("computed_at"), n=Count("id"))
    if version["at"] is None:
        return _count(filters, element_ids)  # nothing computed yet: no version to trust
    evidence_filters = (
        filters.dimension,
        filters.grade_band,
        filters.population,
        filters.year_min,
        filters.year_max,
        filters.designs,
    )
    key = repr((rules.RULES_VERSION, version["at"].isoformat(), version["n"], evidence_filters))
    # The prefix names the cached classes' shape: a new one never unpickles an old entry.
    cache_key = "evidence.gaps.v2:" + hashlib.sha256(f"{key}{element_ids}".encode()).hexdigest()
    found = cache.get(cache_key)
    if found is None:
        found = _count(filters, element_ids)
        cache.set(cache_key, found, CACHE_SECONDS)
    return found


StoredKey = tuple[int, str, str]  # (element id, outcome domain, population code)


def stored_summaries(element_ids: list[int]) -> dict[StoredKey, tuple[str, dict]]:
    """The stored summaries' rating and next level, by element, outcome domain and population."""
    rows = EvidenceSummary.objects.filter(element_id__in=element_ids).values_list(
        "element_id", "outcome_domain", "population__code", "rating", "next_level"
    )
    return {(e, d, p or ""): (rating, nxt or {}) for e, d, p, rating, nxt in rows}


def open_questions(elements: list[Element]) -> dict[int, tuple[OpenQuestionRef, ...]]:
    """Each element's open questions: from the research snapshot (its own and its component's),
    then those convenings linked to it. Two queries."""
    element_ids = [e.pk for e in elements]
    codes = {e.component_id: e.component.code for e in elements}
    by_component: dict[int, list[OpenQuestionRef]] = defaultdict(list)
    by_element: dict[int, list[OpenQuestionRef]] = defaultdict(list)
    snapshot = (
        OpenQuestion.objects.filter(Q(component_id__in=list(codes)) | Q(element_id__in=element_ids))
        .values_list("component_id", "element_id", "element__component__code", "text", "source")
        .order_by("order", "id")
    )
    for component_id, element_id, element_component, text, source in snapshot:
        code = codes.get(component_id) or element_component
        url = reverse("frameworks:component", args=[code]) if code else ""
        ref = OpenQuestionRef(text, "snapshot", source or "Research snapshot", url)
        (by_element[element_id] if element_id else by_component[component_id]).append(ref)
    findings = (
        Finding.elements.through.objects.filter(
            element_id__in=element_ids, finding__kind=FindingKind.OPEN_QUESTION
        )
        .values_list(
            "element_id",
            "finding__text",
            "finding__source",
            "finding__convening__title",
            "finding__convening__slug",
        )
        .order_by("finding__convening__date", "finding__order", "finding_id")
    )
    for element_id, text, source, title, slug in findings:
        url = reverse("convenings:detail", args=[slug]) if slug else ""
        by_element[element_id].append(
            OpenQuestionRef(text, "convening", title or source or "Convening", url)
        )
    return {
        e.pk: tuple(
            [q for q in by_element[e.pk] if q.origin == "snapshot"]
            + by_component[e.component_id]
            + [q for q in by_element[e.pk] if q.origin == "convening"]
        )
        for e in elements
    }

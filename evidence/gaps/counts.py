"""The report's queries: distinct studies, best tier and latest year per element and column (one
aggregate query over the stored facts, cached per evidence version), the stored summaries and the
open questions."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse

from convenings.constants import FindingKind
from convenings.models import Finding
from frameworks.models import Element, OpenQuestion

from .. import rules
from ..models import EvidenceSummary
from ..selectors import evidence_version
from .data import OpenQuestionRef
from .filters import GapFilters

# The counts are cached while the published evidence is unchanged; an hour bounds any staleness
# from edits that bypass the services (the admin), which the nightly recompute also repairs.
CACHE_SECONDS = 60 * 60


@dataclass(frozen=True)
class Agg:
    """Distinct studies, best (lowest) tier and latest year of one cell."""

    n: int = 0
    best: int | None = None
    latest: int | None = None


NONE = Agg()
CellKey = tuple[int, str]  # (element id, column code; "" for the element's total)


@dataclass(frozen=True)
class Counted:
    """The aggregate part of the report: what costs time at scale, and what is cached."""

    totals: dict[CellKey, Agg]
    cells: dict[CellKey, Agg]
    population_cells: dict[CellKey, Agg]
    n_studies: int


# The counts are one aggregate statement in plain SQL (PostgreSQL and SQLite alike) over the
# stored facts alone (``facts``: a row per tagged study and element, and per code it has in a
# column there, with the study's status, tier, year and design), read from their covering index
# gap_fact_by_dimension: per part (the element totals, the population columns always, for the
# equity gaps, and the chosen dimension's) one GROUP BY over that part's rows of the studies in
# view, and the number of distinct studies in view among the element rows. The facts are unique
# per (study, element, dimension, code), so COUNT(*) counts distinct studies.
_ON_GRADE_BAND = """
    AND f.study_id IN (SELECT sg.study_id FROM studies_study_grade_bands sg
                       JOIN studies_gradeband gb ON gb.id = sg.gradeband_id WHERE gb.code = %s)"""
# A study is on a population through its populations or a subgroup effect for it. One IN over
# both (not two ORed): the planner can then start from these few studies and look their facts up.
_ON_POPULATION = """
    AND f.study_id IN (SELECT sp.study_id FROM studies_study_populations sp
                       JOIN studies_population p ON p.id = sp.population_id WHERE p.code = %s
                       UNION
                       SELECT e.study_id FROM studies_effectsize e
                       JOIN studies_population p ON p.id = e.population_id WHERE p.code = %s)"""
# The design level a study's stored tier reason records (rules.TierDecision): its tier when it has
# one (the engine stores either no tier or the level), else read from the reason, which only the
# few favorable subgroup effects of untiered studies need (CASE evaluates it for those alone).
_LEVEL = "COALESCE(f.tier, (SELECT {json} FROM studies_study ls WHERE ls.id = f.study_id))"
# Per part: which facts, the best tier of a cell, a second best (the population columns' subgroup
# effects), and the column code. Outcome domain: a study's tier there is its tier if it has a
# significant favorable whole-sample effect there (the stored tier is then its design level,
# rules.study_tier); every effect, subgroup ones too, puts the study in the domain's column.
# Population: the study's tier when its populations include the population; for a subgroup effect
# on it, the design level a favorable one earns (any one, for rationale-level work: Tier 4).
# Design: the element rows, by the study's design.
_PARTS = {
    "element": ("element", "MIN(f.tier)", "CAST(NULL AS INTEGER)", "f.code"),
    "outcome_domain": (
        "outcome_domain",
        "MIN(CASE WHEN f.tier = 4 OR f.flags = 1 THEN f.tier END)",
        "NULL",
        "f.code",
    ),
    "population": (
        "population",
        "MIN(CASE WHEN (f.flags & 1) = 1 THEN f.tier END)",
        """MIN(CASE WHEN (f.flags & 2) = 2 AND f.tier = 4 THEN 4
                    WHEN (f.flags & 4) = 4 AND {level} IN (1, 2, 3) THEN {level} END)""",
        "f.code",
    ),
    "grade_band": ("grade_band", "MIN(f.tier)", "NULL", "f.code"),
    "setting": ("setting", "MIN(f.tier)", "NULL", "f.code"),
    "design": ("element", "MIN(f.tier)", "NULL", "f.design"),
}
_PART = """
    SELECT '{part}', f.element_id, {code}, COUNT(*), {best}, {second}, MAX(f.year)
    FROM evidence_gapfact f
    WHERE f.dimension = '{dimension}' AND f.element_id IN ({elements}) AND {where}
    GROUP BY f.element_id, {code}"""
_STUDIES = """
    SELECT 'studies', NULL, '', COUNT(DISTINCT f.study_id), NULL, NULL, NULL
    FROM evidence_gapfact f
    WHERE f.dimension = 'element' AND f.element_id IN ({elements}) AND {where}"""


def _design_level_sql() -> str:
    """The design level the study's stored tier reason records (rules.TierDecision)."""
    if connection.vendor == "postgresql":
        return "(ls.essa_reason ->> 'design_level')::integer"
    return "CAST(json_extract(ls.essa_reason, '$.design_level') AS INTEGER)"


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _count_query(filters: GapFilters, element_ids: list[int]) -> tuple[str, list]:
    """The report's aggregate statement with its parameters."""
    where, view_params = f"f.status IN ({_marks(filters.statuses)})", list(filters.statuses)
    if filters.year_min:
        where += " AND f.year >= %s"
        view_params.append(filters.year_min)
    if filters.year_max:
        where += " AND f.year <= %s"
        view_params.append(filters.year_max)
    if filters.designs:
        where += f" AND f.design IN ({_marks(filters.designs)})"
        view_params += filters.designs
    if filters.grade_band:
        where += _ON_GRADE_BAND
        view_params.append(filters.grade_band)
    if filters.population:
        where += _ON_POPULATION
        view_params += [filters.population, filters.population]
    level = _LEVEL.format(json=_design_level_sql())
    elements = _marks(element_ids)
    # The element rows (totals, first: their columns' types name the result's), the population
    # columns always (the equity gaps), the dimension's; then the number of studies in view.
    parts = []
    for part in dict.fromkeys(["element", "population", filters.dimension]):
        dimension, best, second, code = _PARTS[part]
        parts.append(
            _PART.format(
                part=part,
                dimension=dimension,
                code=code,
                best=best,
                second=second.format(level=level),
                elements=elements,
                where=where,
            )
        )
    parts.append(_STUDIES.format(elements=elements, where=where))
    return "\n    UNION ALL".join(parts), (element_ids + view_params) * len(parts)


def _best(*tiers: int | None) -> int | None:
    return min((t for t in tiers if t is not None), default=None)


def _count(filters: GapFilters, element_ids: list[int]) -> Counted:
    """Every cell's distinct studies, best tier and latest year: one aggregate statement."""
    if not element_ids:
        return Counted({}, {}, {}, 0)
    parts: dict[str, dict[CellKey, Agg]] = defaultdict(dict)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # For this transaction only: hash the pairs and per-study keys (a few rows a study)
            # in memory, not in batches on disk; and no JIT: at 100,000 studies the cost
            # estimates pass jit_above_cost, and compiling costs more than it saves.
            cursor.execute(
                "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)"
            )
        cursor.execute(*_count_query(filters, element_ids))
        for part, element_id, code, n, *best, latest in cursor.fetchall():
            parts[part][(element_id, code)] = Agg(n, _best(*best), latest)
    return Counted(
        totals=parts["element"],
        cells=parts[filters.dimension],
        population_cells=parts["population"],
        n_studies=parts["studies"][(None, "")].n,
    )


def counted(filters: GapFilters, element_ids: list[int]) -> Counted:
    """The counts, from the cache while the published evidence is unchanged.

    The cache key carries the evidence version the element pages are cached under too
    (``evidence.selectors.evidence_version``): every dirty mark (a published study, effect or tag
    changed; the facts already follow it) and every stored recompute replace it after commit.
    Views with studies under review (a curator's, changing without a recompute) are always
    counted afresh.
    """
    if filters.include_under_review:
        return _count(filters, element_ids)
    evidence_filters = (
        filters.dimension,
        filters.grade_band,
        filters.population,
        filters.year_min,
        filters.year_max,
        filters.designs,
    )
    key = repr((rules.RULES_VERSION, evidence_version(), evidence_filters))
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

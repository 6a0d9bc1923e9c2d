"""The published evidence a recompute reads, as numpy columns, in three queries whatever the size.

A recompute rates hundreds of units (element × outcome domain × population) holding thousands of
studies each. Python objects per study and scope made that 45 times slower than reading the rows;
here the database groups each study's effects per scope, and the rest is array arithmetic.

Scopes (EVIDENCE.md §2): the whole sample over all outcomes (``OVERALL``), the whole sample per
outcome domain, and each student population with subgroup effects. A subgroup effect labelled
without a population belongs to none of them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection

from studies.constants import ReviewStatus
from studies.models import EffectSize, Study, StudyTag

from . import rules

# Correlation assumed between a study's different outcomes when forming its composite (§2).
COMPOSITE_RHO = 0.5

# Scope of a summary: (outcome domain or "" for all, population id or None for the whole sample).
Scope = tuple[str, int | None]
OVERALL: Scope = ("", None)

_STUDY = Study._meta.db_table
_EFFECT = EffectSize._meta.db_table
_TAG = StudyTag._meta.db_table

# Per study and scope: how many effects have a variance, their sums for the composite, and
# whether any is significant (favorable, unfavorable, either). Portable SQL (PostgreSQL, SQLite).
_SCOPE_SQL = f"""
SELECT e.study_id,
       CASE WHEN e.population_id IS NULL THEN e.outcome_domain ELSE '' END,
       COALESCE(e.population_id, 0),
       COUNT(e.variance),
       SUM(CASE WHEN e.variance IS NOT NULL THEN e.g END),
       SUM(e.variance),
       SUM(SQRT(e.variance)),
       MAX(CASE WHEN e.significant AND e.g > 0 THEN 1 ELSE 0 END),
       MAX(CASE WHEN e.significant AND e.g < 0 THEN 1 ELSE 0 END),
       MAX(CASE WHEN e.significant THEN 1 ELSE 0 END)
FROM {_EFFECT} e JOIN {_STUDY} s ON s.id = e.study_id
WHERE s.status = %s AND e.g IS NOT NULL AND (e.subgroup = '' OR e.population_id IS NOT NULL)
  {{where}}
GROUP BY 1, 2, 3
"""
_STUDY_SQL = f"""
SELECT s.id, s.design, s.wwc_rating, s.sample_size, s.sample_unit, s.n_sites,
       s.essa_tier, CAST(s.essa_reason AS TEXT)
FROM {_STUDY} s WHERE s.status = %s {{where}} ORDER BY s.id
"""
_TAG_SQL = f"""
SELECT DISTINCT t.element_id, t.study_id
FROM {_TAG} t JOIN {_STUDY} s ON s.id = t.study_id
WHERE s.status = %s {{where}}
"""
_IN_ELEMENTS = f"IN (SELECT study_id FROM {_TAG} WHERE element_id IN ({{ids}}))"


@dataclass(frozen=True)
class Unit:
    """The studies of one element within one scope: positions into the evidence's rows."""

    element_id: int
    scope: Scope
    rows: np.ndarray


@dataclass
class PublishedEvidence:
    """Published studies (sorted by id) and one row per study × scope with its composite effect.

    Study columns are indexed by study position; row columns by row, rows sorted by scope then
    study. ``g``/``v`` are NaN for a study with no effect of known variance in the scope.
    """

    study_ids: np.ndarray
    design: list[str]
    wwc_rating: list[str]
    sample_size: list[int | None]
    sample_unit: list[str]
    n_sites: list[int | None]
    students: np.ndarray  # sample size, 0 where unknown
    synthesis: np.ndarray
    level: np.ndarray
    scopes: list[Scope]
    row_scope: np.ndarray
    row_study: np.ndarray
    g: np.ndarray
    v: np.ndarray
    favorable: np.ndarray
    unfavorable: np.ndarray
    significant: np.ndarray
    has_effects: np.ndarray
    tier: np.ndarray
    tagged: dict[int, np.ndarray]
    # The ESSA tier and reason stored on each study, the reason as JSON text.
    stored_tier: list[int | None]
    stored_reason: list[str]

    def units(self, element_id: int) -> list[Unit]:
        """The element's overall unit first, then one per outcome domain and per population."""
        mask = self.tagged.get(element_id)
        if mask is None:
            return [Unit(element_id, OVERALL, np.empty(0, dtype=np.int64))]
        rows = np.flatnonzero(mask[self.row_study])
        bounds = np.searchsorted(self.row_scope[rows], np.arange(len(self.scopes) + 1))
        return [
            Unit(element_id, scope, rows[bounds[code] : bounds[code + 1]])
            for code, scope in enumerate(self.scopes)
            if code == 0 or bounds[code + 1] > bounds[code]
        ]

    def study_set(self, rows: np.ndarray) -> rules.StudySet:
        studies = self.row_study[rows]
        return rules.StudySet(
            ids=self.study_ids[studies],
            synthesis=self.synthesis[studies],
            tier=self.tier[rows],
            level=self.level[studies],
            favorable=self.favorable[rows],
            unfavorable=self.unfavorable[rows],
            significant=self.significant[rows],
        )

    def stored_tiers(self) -> dict[int, tuple[int | None, str]]:
        return dict(
            zip(
                self.study_ids.tolist(),
                zip(self.stored_tier, self.stored_reason, strict=True),
                strict=True,
            )
        )

    def overall_tier(self, position: int) -> rules.TierDecision:
        """The study's ESSA tier on its whole-sample effects (its OVERALL row is its position)."""
        return rules.tier_decision(
            self.design[position],
            self.wwc_rating[position],
            self.sample_size[position],
            self.sample_unit[position],
            self.n_sites[position],
            bool(self.favorable[position]),
            bool(self.unfavorable[position]),
            bool(self.has_effects[position]),
        )


def _fetch(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _design_level(design: str, wwc: str, size: int | None, unit: str, sites: int | None) -> int:
    level, _ = rules.design_level(
        rules.StudyFacts(0, design, wwc, sample_size=size, sample_unit=unit, n_sites=sites)
    )
    return level or 0


def published_evidence_load(element_ids: Sequence[int] | None = None) -> PublishedEvidence:
    """Read the published studies (of these elements, or all) with their effects and tags."""
    status = ReviewStatus.PUBLISHED.value
    where = where_tag = ""
    if element_ids is not None:
        ids = ",".join(str(int(pk)) for pk in element_ids) or "NULL"
        where = "AND s.id " + _IN_ELEMENTS.format(ids=ids)
        where_tag = f"AND t.element_id IN ({ids})"

    studies = _fetch(_STUDY_SQL.format(where=where), [status])
    n = len(studies)
    study_ids = np.fromiter((row[0] for row in studies), dtype=np.int64, count=n)
    _, design, wwc, size, unit, sites, stored_tier, stored_reason = (
        [list(col) for col in zip(*studies, strict=True)] if n else [[] for _ in range(8)]
    )
    levels: dict[tuple, int] = {}
    level = np.zeros(n, dtype=np.int8)
    for i, key in enumerate(zip(design, wwc, size, unit, sites, strict=True)):
        # Only the few facts of the design matter; most studies share them.
        large = (key[2] or 0) >= rules.MIN_STUDENTS and (key[4] or 0) >= rules.MIN_SITES
        short = (key[0], key[1], key[3] in ("students", ""), large)
        if short not in levels:
            levels[short] = _design_level(*key)
        level[i] = levels[short]
    synthesis = np.fromiter((d in rules.SYNTHESES for d in design), dtype=bool, count=n)

    scope_rows = _fetch(_SCOPE_SQL.format(where=where), [status])
    m = len(scope_rows)
    cols = list(zip(*scope_rows, strict=True)) if m else [()] * 10
    position = np.searchsorted(study_ids, np.fromiter(cols[0], dtype=np.int64, count=m))
    domain, population = cols[1], cols[2]
    count = np.fromiter(cols[3], dtype=np.float64, count=m)
    sum_g, sum_v, sum_sd = (np.array(c, dtype=np.float64).reshape(m) for c in cols[4:7])
    flags = [np.fromiter(c, dtype=bool, count=m) for c in cols[7:10]]

    # OVERALL rows: every study, its whole-sample effects summed over domains.
    whole = np.fromiter((p == 0 for p in population), dtype=bool, count=m)
    at = position[whole]

    def per_study(values: np.ndarray) -> np.ndarray:
        return np.bincount(at, weights=values[whole], minlength=n)

    overall_sums = [per_study(np.nan_to_num(x)) for x in (count, sum_g, sum_v, sum_sd)]
    overall_flags = [per_study(f.astype(np.float64)) > 0 for f in flags]
    has_whole = np.bincount(at, minlength=n) > 0

    scopes = sorted(
        {(d, p or None) for d, p in zip(domain, population, strict=True)},
        key=lambda s: (s[1] is not None, s[0], s[1] or 0),
    )
    scopes.insert(0, OVERALL)
    code_of = {scope: code for code, scope in enumerate(scopes)}
    scope_code = np.fromiter(
        (code_of[(d, p or None)] for d, p in zip(domain, population, strict=True)),
        dtype=np.int32,
        count=m,
    )

    row_scope = np.concatenate([np.zeros(n, dtype=np.int32), scope_code])
    row_study = np.concatenate([np.arange(n), position])
    total = [
        np.concatenate([o, s])
        for o, s in zip(overall_sums, (count, sum_g, sum_v, sum_sd), strict=True)
    ]
    row_flags = [np.concatenate([o, f]) for o, f in zip(overall_flags, flags, strict=True)]
    has_effects = np.concatenate([has_whole, np.ones(m, dtype=bool)])
    g, v = _composite(*total)

    order = np.lexsort((row_study, row_scope))  # scope, then study; OVERALL rows stay first
    row_scope, row_study, g, v, has_effects = (
        x[order] for x in (row_scope, row_study, g, v, has_effects)
    )
    favorable, unfavorable, significant = (f[order] for f in row_flags)
    row_level = level[row_study]
    # §3 per scope: design level 4 is Tier 4 whatever the effects; 1-3 need a favorable effect.
    tier = np.where(row_level == 4, 4, np.where((row_level > 0) & favorable, row_level, 0))

    tags = _fetch(_TAG_SQL.format(where=where_tag), [status])
    tagged: dict[int, np.ndarray] = {}
    if tags:
        element_col, study_col = (np.array(c, dtype=np.int64) for c in zip(*tags, strict=True))
        tag_position = np.searchsorted(study_ids, study_col)
        known = (tag_position < n) & (study_ids[np.minimum(tag_position, n - 1)] == study_col)
        for element_id in np.unique(element_col[known]).tolist():
            mask = np.zeros(n, dtype=bool)
            mask[tag_position[known & (element_col == element_id)]] = True
            tagged[element_id] = mask

    return PublishedEvidence(
        study_ids=study_ids,
        design=design,
        wwc_rating=list(wwc),
        sample_size=list(size),
        sample_unit=list(unit),
        n_sites=list(sites),
        students=np.fromiter((x or 0 for x in size), dtype=np.int64, count=n),
        synthesis=synthesis,
        level=level,
        scopes=scopes,
        row_scope=row_scope,
        row_study=row_study,
        g=g,
        v=v,
        favorable=favorable,
        unfavorable=unfavorable,
        significant=significant,
        has_effects=has_effects,
        tier=tier.astype(np.int8),
        tagged=tagged,
        stored_tier=stored_tier,
        stored_reason=stored_reason,
    )


def _composite(
    count: np.ndarray, sum_g: np.ndarray, sum_v: np.ndarray, sum_sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean g and its variance of each study's effects in a scope, correlated at COMPOSITE_RHO.

    (1/m²)·ΣᵢΣⱼ ρᵢⱼ√(vᵢvⱼ) with a single ρ is (1/m²)·((1−ρ)·Σv + ρ·(Σ√v)²); the same as
    ``stats.meta.composite``, from sums the database computed. One effect is taken as it is.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(count > 0, sum_g / count, np.nan)
        v = ((1 - COMPOSITE_RHO) * sum_v + COMPOSITE_RHO * sum_sd * sum_sd) / (count * count)
    v = np.where(count == 1, sum_v, np.where(count > 1, v, np.nan))
    return g, v

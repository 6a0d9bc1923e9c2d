"""The published evidence a recompute reads, as numpy columns, in three reads whatever the size.

A recompute rates hundreds of units (element × outcome domain × population) holding thousands of
studies each. Python objects per study and scope made that 45 times slower than reading the rows;
here each read hands over its rows as numbers in one packed value (see ``_columns``), and grouping
effects per study and scope, composites and tiers are array arithmetic.

Scopes (EVIDENCE.md §2): the whole sample over all outcomes (``OVERALL``), the whole sample per
outcome domain, and each student population with subgroup effects. A subgroup effect labelled
without a population belongs to none of them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import psycopg
from django.db import connection
from django.db.models import Max

from studies.constants import Design, OutcomeDomain, ReviewStatus, SampleUnit, WWCRating
from studies.models import EffectSize, Population, Study, StudyTag

from . import rules

# Correlation assumed between a study's different outcomes when forming its composite (§2).
COMPOSITE_RHO = 0.5

# Scope of a summary: (outcome domain or "" for all, population id or None for the whole sample).
Scope = tuple[str, int | None]
OVERALL: Scope = ("", None)

_STUDY = Study._meta.db_table
_EFFECT = EffectSize._meta.db_table
_TAG = StudyTag._meta.db_table

# Text columns travel as their position in these lists (see ``_code``): every query returns
# numbers only, so PostgreSQL can hand them over in its binary COPY format, straight into numpy.
DESIGNS = ["", *Design.values]
WWC_RATINGS = ["", *WWCRating.values]
SAMPLE_UNITS = ["", *SampleUnit.values]
DOMAINS = ["", *OutcomeDomain.values]


def _code(column: str, values: list[str]) -> str:
    """SQL for the position of ``column``'s value in ``values`` (-1 if it is not there)."""
    cases = " ".join(f"WHEN '{value}' THEN {i}" for i, value in enumerate(values))
    return f"CAST(CASE {column} {cases} ELSE -1 END AS BIGINT)"


# Every column is BIGINT or DOUBLE PRECISION and never NULL (a sentinel stands for NULL).
_STUDY_SQL = f"""
SELECT CAST(s.id AS BIGINT), {_code("s.design", DESIGNS)}, {_code("s.wwc_rating", WWC_RATINGS)},
       {_code("s.sample_unit", SAMPLE_UNITS)}, CAST(COALESCE(s.sample_size, -1) AS BIGINT),
       CAST(COALESCE(s.n_sites, -1) AS BIGINT), CAST(COALESCE(s.essa_tier, 0) AS BIGINT),
       {{reason_hash}}
FROM {_STUDY} s WHERE s.status = '{{status}}' {{where}}
"""
# A 64-bit hash of each study's stored ESSA reason, so a recompute finds the few studies whose
# tier or reason changed without comparing every stored reason (PostgreSQL; elsewhere 0, and the
# comparison is left to the database, see services._store_tiers).
REASON_HASH = "hashtextextended(CAST({} AS TEXT), 0)"
# The effects that count (whole-sample ones and subgroup effects on a known population), one row
# each: the per-study, per-scope sums are numpy's, which is faster than a GROUP BY here. Effects of
# studies that are not published are dropped when they are matched to the studies, like tags:
# cheaper than joining the studies here. PostgreSQL spends about as much on each column as on the
# rest of the row, so study, population, outcome domain and significance travel in one BIGINT:
# ((study × populations + population) × 16 + domain + 1) × 2 + significant (see _unpack_effect).
# Should ids ever outgrow it, PostgreSQL raises "bigint out of range" rather than wrap.
_EFFECT_SQL = f"""
SELECT ((CAST(e.study_id AS BIGINT) * {{populations}} + COALESCE(e.population_id, 0)) * 16
        + {_code("e.outcome_domain", DOMAINS)} + 1) * 2 + CASE WHEN e.significant THEN 1 ELSE 0 END,
       CAST(e.g AS DOUBLE PRECISION), CAST(COALESCE(e.variance, -1) AS DOUBLE PRECISION)
FROM {_EFFECT} e
WHERE e.g IS NOT NULL AND (e.subgroup = '' OR e.population_id IS NOT NULL) {{where}}
"""
assert len(DOMAINS) < 16


def _unpack_effect(key: np.ndarray, populations: int) -> tuple[np.ndarray, ...]:
    """Study id, outcome domain code, population id (0 for none) and significance of _EFFECT_SQL."""
    key, significant = np.divmod(key, 2)
    key, domain = np.divmod(key, 16)
    study, population = np.divmod(key, populations)
    return study, domain - 1, population, significant


# Tags of studies that are not published are dropped when they are matched to the studies.
_TAG_SQL = f"""
SELECT CAST(t.element_id AS BIGINT), CAST(t.study_id AS BIGINT) FROM {_TAG} t {{where}}
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
    # Each study's ESSA tier on its whole-sample effects: an index into ``tier_decisions``.
    tier_decision_of: np.ndarray
    tier_decisions: list[rules.TierDecision]
    # What each study has stored now: its tier (0 for none) and its reason's hash (see REASON_HASH).
    stored_tier: np.ndarray
    stored_reason_hash: np.ndarray

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


def _columns(sql: str, n_columns: int, floats: Sequence[int] = ()) -> list[np.ndarray]:
    """Run a SELECT of non-NULL BIGINT / DOUBLE PRECISION columns (``floats`` lists the latter).

    On PostgreSQL every row is packed into 8-byte binary fields and the rows concatenated into
    one bytea value, which numpy reads as a whole: no Python object (nor wire message) per row.
    Elsewhere (the SQLite demo) the rows are fetched as usual.
    """
    kinds = ["f8" if i in floats else "i8" for i in range(n_columns)]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
        columns = zip(*rows, strict=True) if rows else [()] * n_columns
        return [
            np.array(column, dtype=kind).reshape(len(rows))
            for column, kind in zip(columns, kinds, strict=True)
        ]
    names = [f"c{i}" for i in range(n_columns)]
    packed = " || ".join(
        f"{'float8send' if kind == 'f8' else 'int8send'}({name})"
        for name, kind in zip(names, kinds, strict=True)
    )
    connection.ensure_connection()
    # A plain (server-binding) cursor: Django's client-side cursors cannot return binary.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"SELECT string_agg({packed}, ''::bytea) FROM ({sql}) AS r({', '.join(names)})",
            binary=True,
        )
        data = cursor.fetchone()[0] or b""
    rows = np.frombuffer(
        data, dtype=[(name, ">" + kind) for name, kind in zip(names, kinds, strict=True)]
    )
    return [rows[name].astype(kind) for name, kind in zip(names, kinds, strict=True)]


def _check_codes(codes: np.ndarray, column: str) -> None:
    if (codes < 0).any():
        raise ValueError(f"a published study has a {column} outside its choices")


def published_evidence_load(element_ids: Sequence[int] | None = None) -> PublishedEvidence:
    """Read the published studies (of these elements, or all) with their effects and tags."""
    status = ReviewStatus.PUBLISHED.value
    where = where_effect = where_tag = ""
    if element_ids is not None:
        ids = ",".join(str(int(pk)) for pk in element_ids) or "NULL"
        where = "AND s.id " + _IN_ELEMENTS.format(ids=ids)
        where_effect = "AND e.study_id " + _IN_ELEMENTS.format(ids=ids)
        where_tag = f"WHERE t.element_id IN ({ids})"

    reason_hash = REASON_HASH.format("s.essa_reason") if connection.vendor == "postgresql" else "0"
    study_id, design, wwc, unit, size, sites, stored_tier, stored_hash = _columns(
        _STUDY_SQL.format(status=status, where=where, reason_hash=reason_hash), 8
    )
    order = np.argsort(study_id, kind="stable")
    study_id, design, wwc, unit, size, sites, stored_tier, stored_hash = (
        x[order] for x in (study_id, design, wwc, unit, size, sites, stored_tier, stored_hash)
    )
    for codes, column in ((design, "design"), (wwc, "WWC rating"), (unit, "sample unit")):
        _check_codes(codes, column)
    n = study_id.size
    synthesis = np.isin(design, [DESIGNS.index(d) for d in rules.SYNTHESES])

    populations = (Population.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    key, g_raw, v_raw = _columns(
        _EFFECT_SQL.format(where=where_effect, populations=populations), 3, floats=(1, 2)
    )
    effect_study, domain, population, significant_raw = _unpack_effect(key, populations)
    position = _positions(study_id, effect_study)
    published = position >= 0
    position, domain, population, g_raw, v_raw, significant_raw = (
        x[published] for x in (position, domain, population, g_raw, v_raw, significant_raw)
    )
    _check_codes(domain, "outcome domain")
    # Per study and scope: the effects with a variance, their sums for the composite, and
    # whether any effect is significant (favorable, unfavorable, either). A population's scope
    # spans every outcome domain.
    domain = np.where(population != 0, 0, domain)
    by_group = np.lexsort((population, domain, position))
    position, domain, population, g_raw, v_raw, significant_raw = (
        x[by_group] for x in (position, domain, population, g_raw, v_raw, significant_raw)
    )
    new_group = np.ones(position.size, dtype=bool)
    new_group[1:] = (
        (position[1:] != position[:-1])
        | (domain[1:] != domain[:-1])
        | (population[1:] != population[:-1])
    )
    starts = np.flatnonzero(new_group)
    known = v_raw > 0
    sig = significant_raw == 1

    def group_sum(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts) if starts.size else np.zeros(0)

    count = group_sum(known.astype(np.float64))
    sum_g = group_sum(np.where(known, g_raw, 0.0))
    sum_v = group_sum(np.where(known, v_raw, 0.0))
    sum_sd = group_sum(np.sqrt(np.where(known, v_raw, 0.0)))
    flags = [
        group_sum(f.astype(np.float64)) > 0 for f in (sig & (g_raw > 0), sig & (g_raw < 0), sig)
    ]
    position, domain, population = position[starts], domain[starts], population[starts]
    m = starts.size

    # OVERALL rows: every study, its whole-sample effects summed over domains.
    whole = population == 0
    at = position[whole]

    def per_study(values: np.ndarray) -> np.ndarray:
        return np.bincount(at, weights=values[whole], minlength=n)

    overall_sums = [per_study(x) for x in (count, sum_g, sum_v, sum_sd)]
    overall_flags = [per_study(f.astype(np.float64)) > 0 for f in flags]
    has_whole = np.bincount(at, minlength=n) > 0

    # Each (population, domain) pair as one number: a 1-D unique is far cheaper than a 2-D one.
    pairs, pair_of = np.unique(population * len(DOMAINS) + domain, return_inverse=True)
    pair_scopes = [
        (DOMAINS[pair % len(DOMAINS)], pair // len(DOMAINS) or None) for pair in pairs.tolist()
    ]
    scopes = sorted(set(pair_scopes), key=lambda s: (s[1] is not None, s[0], s[1] or 0))
    scopes.insert(0, OVERALL)
    code_of = {scope: code for code, scope in enumerate(scopes)}
    scope_code = np.array([code_of[scope] for scope in pair_scopes], dtype=np.int32)[pair_of]

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

    # ESSA: a study's tier depends on a few facts that most studies share, so it is decided once
    # per distinct combination. The sample and sites matter only as "large and multi-site",
    # except where the tier quotes them (rules.tier_decision); the key below keeps at least
    # that much, so it is never coarser than the rules.
    large = (
        np.isin(unit, [SAMPLE_UNITS.index("students"), SAMPLE_UNITS.index("")])
        & (size >= rules.MIN_STUDENTS)
        & (sites >= rules.MIN_SITES)
    )
    quoted = (
        large
        & np.isin(wwc, [WWC_RATINGS.index(r) for r in rules.MEETS_STANDARDS])
        & np.isin(design, [DESIGNS.index(d) for d in rules.RANDOMIZED | rules.QUASI_EXPERIMENTAL])
    )
    key_size = np.where(quoted, size, np.where(large, rules.MIN_STUDENTS, -1))
    key_sites = np.where(quoted, sites, np.where(large, rules.MIN_SITES, -1))
    design_keys, design_of = _distinct(np.stack([design, wwc, unit, key_size, key_sites]))
    levels = np.array(
        [_tier(key, False, False, True).design_level or 0 for key in design_keys.T.tolist()],
        dtype=np.int8,
    )
    level = levels[design_of] if n else np.zeros(0, dtype=np.int8)
    tier_keys, tier_decision_of = _distinct(
        np.stack([design_of, favorable[:n], unfavorable[:n], has_effects[:n]]).astype(np.int64)
    )
    tier_decisions = [
        _tier(design_keys[:, key].tolist(), bool(fav), bool(unfav), bool(has))
        for key, fav, unfav, has in tier_keys.T.tolist()
    ]

    row_level = level[row_study]
    # §3 per scope: design level 4 is Tier 4 whatever the effects; 1-3 need a favorable effect.
    tier = np.where(row_level == 4, 4, np.where((row_level > 0) & favorable, row_level, 0))

    tag_element, tag_study = _columns(_TAG_SQL.format(where=where_tag), 2)
    tagged: dict[int, np.ndarray] = {}
    if n and tag_element.size:
        tag_position = _positions(study_id, tag_study)
        in_view = tag_position >= 0
        tag_element, tag_position = tag_element[in_view], tag_position[in_view]
        by_element = np.argsort(tag_element, kind="stable")
        tag_element, tag_position = tag_element[by_element], tag_position[by_element]
        elements, firsts = np.unique(tag_element, return_index=True)
        for element_id, positions in zip(
            elements.tolist(), np.split(tag_position, firsts[1:]), strict=True
        ):
            mask = np.zeros(n, dtype=bool)
            mask[positions] = True
            tagged[element_id] = mask

    return PublishedEvidence(
        study_ids=study_id,
        students=np.maximum(size, 0),
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
        tier_decision_of=tier_decision_of,
        tier_decisions=tier_decisions,
        stored_tier=stored_tier,
        stored_reason_hash=stored_hash,
    )


def _positions(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Where each of ``ids`` is in ``sorted_ids``, or -1 where it is not there."""
    if not sorted_ids.size:
        return np.full(ids.size, -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
    return np.where(sorted_ids[at] == ids, at, -1)


def _distinct(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct columns of a 2-D array, and for each column the index of its distinct one."""
    n = columns.shape[1]
    if not n:
        return columns, np.zeros(0, dtype=np.int64)
    order = np.lexsort(columns[::-1])
    ordered = columns[:, order]
    first = np.ones(n, dtype=bool)
    first[1:] = (ordered[:, 1:] != ordered[:, :-1]).any(axis=0)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[:, first], inverse


def _tier(design_key: list[int], favorable: bool, unfavorable: bool, has_effects: bool):
    design, wwc, unit, size, sites = design_key
    return rules.tier_decision(
        DESIGNS[design],
        WWC_RATINGS[wwc],
        size if size >= 0 else None,
        SAMPLE_UNITS[unit],
        sites if sites >= 0 else None,
        favorable,
        unfavorable,
        has_effects,
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

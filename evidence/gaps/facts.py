"""The gap report's facts: what each tagged study contributes to it, stored so that a fresh report
is one small GROUP BY instead of joining tags × effects × populations at request time.

A study tagged to an element has one ``GapFact`` row for the element itself (dimension
"element") and one per code it has in a column there: each outcome domain of its effects (flag 1:
a significant favorable whole-sample effect there), each population it is about or has subgroup
effects for (flags 1 about it, 2 a subgroup effect, 4 a favorable one), each grade band and
setting. The rows are derived by one SQL statement from the study's tags, effects and
vocabularies, with a copy of the study's status, tier, year and design (so that a report reads
these rows alone, never the studies), and never edited: ``gap_facts_refresh`` re-derives them for
the studies a service changed (``studies.services`` calls it with every change; the admin and the
bulk loaders too), ``gap_facts_follow_tiers`` copies the tiers the engine stores
(``evidence.services._store_tiers`` calls it), ``gap_facts_rebuild`` re-derives every study's
(the ``rebuild_gap_facts`` command, nightly by beat, repairs what bypassed the services).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from ..models import GapFact

# The distinct (study, element) pairs (a study tagged through several facets has several tags)
# and, per study, its codes in each column with their flags. {only} restricts every part to the
# studies refreshed (empty for a rebuild). Plain SQL that PostgreSQL and SQLite both run.
_PAIRS = "SELECT DISTINCT study_id, element_id FROM studies_studytag {only}"
_KEYS = """
    SELECT study_id, 'outcome_domain' AS dimension, outcome_domain AS code,
           MAX(CASE WHEN population_id IS NULL AND subgroup = '' AND g > 0 AND significant
                    THEN 1 ELSE 0 END) AS flags
    FROM studies_effectsize {only}
    GROUP BY study_id, outcome_domain
    UNION ALL
    SELECT study_id, 'population', code, MAX(direct) + 2 * MAX(subgroup) + 4 * MAX(favorable)
    FROM (SELECT sp.study_id, p.code, 1 AS direct, 0 AS subgroup, 0 AS favorable
          FROM studies_study_populations sp JOIN studies_population p ON p.id = sp.population_id
          {only_sp}
          UNION ALL
          SELECT e.study_id, p.code, 0, 1, CASE WHEN e.g > 0 AND e.significant THEN 1 ELSE 0 END
          FROM studies_effectsize e JOIN studies_population p ON p.id = e.population_id
          {only_e}
    ) AS on_population
    GROUP BY study_id, code
    UNION ALL
    SELECT sg.study_id, 'grade_band', gb.code, 0
    FROM studies_study_grade_bands sg JOIN studies_gradeband gb ON gb.id = sg.gradeband_id
    {only_sg}
    UNION ALL
    SELECT ss.study_id, 'setting', se.code, 0
    FROM studies_study_settings ss JOIN studies_setting se ON se.id = ss.setting_id
    {only_ss}"""
_DERIVE = f"""
    SELECT r.study_id, r.element_id, r.dimension, r.code, r.flags,
           s.status, s.essa_tier, s.year, s.design
    FROM (SELECT t.study_id, t.element_id, 'element' AS dimension, '' AS code, 0 AS flags
          FROM ({_PAIRS}) t
          UNION ALL
          SELECT t.study_id, t.element_id, k.dimension, k.code, k.flags
          FROM ({_PAIRS}) t JOIN ({_KEYS}) k ON k.study_id = t.study_id
    ) r JOIN studies_study s ON s.id = r.study_id"""
_COLUMNS = "study_id, element_id, dimension, code, flags, status, tier, year, design"
_INSERT = f"INSERT INTO evidence_gapfact ({_COLUMNS})"
# What the facts copy from the study, for an update of those alone (the engine's new tiers).
_FOLLOW = """UPDATE evidence_gapfact SET
    status = (SELECT status FROM studies_study s WHERE s.id = evidence_gapfact.study_id),
    tier = (SELECT essa_tier FROM studies_study s WHERE s.id = evidence_gapfact.study_id)
    WHERE study_id IN ({marks})"""
_ONLY = {"only": "study_id", "only_sp": "sp.study_id", "only_e": "e.study_id"}
_ONLY |= {"only_sg": "sg.study_id", "only_ss": "ss.study_id"}
# Studies refreshed per statement: a few parameters each, well under SQLite's limit.
CHUNK = 500

# (study, element, dimension, code, flags, status, tier, year, design)
FactRow = tuple[int, int, str, str, int, str, int | None, int, str]


def _derive_sql(study_ids: list[int] | None) -> tuple[str, list[int]]:
    if study_ids is None:
        return _DERIVE.format(**dict.fromkeys(_ONLY, "")), []
    marks = ", ".join(["%s"] * len(study_ids))
    only = {name: f"WHERE {column} IN ({marks})" for name, column in _ONLY.items()}
    sql = _DERIVE.format(**only)
    # Every {only} takes the ids: the pairs twice, the keys' five parts once each.
    return sql, study_ids * sql.count(f"IN ({marks})")


def gap_facts_refresh(*, study_ids: Iterable[int]) -> None:
    """Re-derive the gap report's facts of these studies from their tags, effects and
    vocabularies (a deleted study's went with it). Call it inside the change's transaction."""
    ids = sorted(set(study_ids))
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            GapFact.objects.filter(study_id__in=chunk).delete()
            sql, params = _derive_sql(chunk)
            cursor.execute(f"{_INSERT} {sql}", params)


def gap_facts_follow_tiers(*, study_ids: Iterable[int]) -> None:
    """Copy these studies' stored tier (and status) into their facts: what the engine calls
    after storing new tiers, cheaper than re-deriving the facts."""
    ids = sorted(set(study_ids))
    if not ids:  # most tier refreshes change nothing: no query at all
        return
    with connection.cursor() as cursor:  # in the caller's transaction: one UPDATE per chunk
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            cursor.execute(_FOLLOW.format(marks=", ".join(["%s"] * len(chunk))), chunk)


def gap_facts_rebuild() -> int:
    """Re-derive every study's facts (after edits that bypassed the services); returns the rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        GapFact.objects.all().delete()
        sql, params = _derive_sql(None)
        cursor.execute(f"{_INSERT} {sql}", params)
    return GapFact.objects.count()


def gap_facts_stale() -> tuple[set[FactRow], set[FactRow]]:
    """The stored facts that should not be there, and the missing ones (both empty when exact)."""
    with connection.cursor() as cursor:
        sql, params = _derive_sql(None)
        cursor.execute(sql, params)
        derived = {tuple(row) for row in cursor.fetchall()}
    stored = set(GapFact.objects.values_list(*(c.strip() for c in _COLUMNS.split(","))))
    return stored - derived, derived - stored  # type: ignore[return-value]

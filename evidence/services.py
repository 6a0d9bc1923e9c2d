"""Writes of the evidence engine: marking elements dirty, recomputing their stored summaries.

The numbers come from the pure functions in ``evidence.stats`` and ``evidence.rules``; this module
feeds them published data and stores what they return, atomically per element.
"""

import dataclasses
import hashlib
import json
import logging
import marshal
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.utils import timezone

from frameworks.models import Element
from studies.models import EffectSize, Population, Study

from . import rules
from .constants import JobState
from .models import DirtyElement, EvidenceHistory, EvidenceSummary, RecomputeJob
from .published import REASON_HASH, PublishedEvidence, Unit, published_evidence_load
from .selectors import EVIDENCE_VERSION_KEY
from .stats.meta import PooledResult, pool_many

logger = logging.getLogger(__name__)

POOLED_FIELDS = (
    "method",
    "ci_method",
    "k",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "p_value",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_p",
)
Z_95 = 1.959963984540054
# The forest plot shows the studies with the largest weights; the rest are summarised in words.
FOREST_MAX_ROWS = 50


def _label(authors: list, year: int, venue: str) -> str:
    """A forest-plot label: 'Walsh et al. (2014)'; a corporate report by its publisher."""
    names = [str(a).split(",")[0].strip() for a in authors[:3]]
    if not names:
        return f"{venue or 'Anon.'} ({year})"
    if len(names) == 1:
        return f"{names[0]} ({year})"
    if len(names) == 2:
        return f"{names[0]} & {names[1]} ({year})"
    return f"{names[0]} et al. ({year})"


def _poolable(evidence: PublishedEvidence, rows: np.ndarray) -> np.ndarray:
    """The rows with one composite effect per primary study (syntheses are shown, never pooled)."""
    studies = evidence.row_study[rows]
    return rows[~evidence.synthesis[studies] & ~np.isnan(evidence.v[rows])]


def _pool(evidence: PublishedEvidence, rows: np.ndarray) -> PooledResult | None:
    """Pool the poolable rows among ``rows``."""
    return _pool_all(evidence, [rows])[0][0]


def _pool_all(
    evidence: PublishedEvidence, row_sets: list[np.ndarray]
) -> tuple[list[PooledResult | None], list[np.ndarray]]:
    """Pool each set of rows (its poolable rows), all in one call: pooling's cost is mostly fixed
    per call, so a recompute's hundreds of poolings together cost little more than one.
    Returns the results and the rows each pooled."""
    usable = [_poolable(evidence, rows) for rows in row_sets]
    results = pool_many(
        [(evidence.g[rows], evidence.v[rows]) for rows in usable],
        method=settings.EVIDENCE_TAU2_METHOD,
        ci_method=settings.EVIDENCE_CI_METHOD,
    )
    return results, usable


def _forest(
    evidence: PublishedEvidence, pooled: PooledResult | None, rows: np.ndarray
) -> list[dict]:
    """Rows of the forest plot: each study's g with its 95% CI and its weight in the pooled mean.

    Labels are filled in afterwards, for the shown studies only (see ``_label_forests``).
    """
    if pooled is None:
        return []
    weights = 1.0 / (evidence.v[rows] + (pooled.tau2 or 0.0))
    shares = 100.0 * weights / weights.sum()
    largest = _largest(shares, FOREST_MAX_ROWS)
    shown = rows[largest]
    g = evidence.g[shown]
    half = Z_95 * np.sqrt(evidence.v[shown])
    # Plot data: four decimals are finer than any plot or label shows (and far cheaper to store
    # and to fingerprint than seventeen).
    columns = (
        evidence.study_ids[evidence.row_study[shown]],
        np.round(g, 4),
        np.round(g - half, 4),
        np.round(g + half, 4),
        np.round(shares[largest], 2),
        evidence.tier[shown],
    )
    return [
        {
            "study_id": study_id,
            "label": "",
            "g": g,
            "ci_low": low,
            "ci_high": high,
            "weight": weight,
            "tier": tier or None,
        }
        for study_id, g, low, high, weight, tier in zip(
            *(column.tolist() for column in columns), strict=True
        )
    ]


def _largest(values: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest values, largest first, ties in order of position (as a
    stable sort of them all would give, without sorting them all)."""
    candidates = np.arange(values.size)
    if values.size > n:
        cutoff = np.partition(values, values.size - n)[values.size - n]
        candidates = np.flatnonzero(values >= cutoff)
    return candidates[np.argsort(-values[candidates], kind="stable")][:n]


def _label_forests(summaries: Iterable[EvidenceSummary]) -> None:
    """Label every forest row with its study's short citation, in one query."""
    summaries = list(summaries)
    ids = sorted({row["study_id"] for s in summaries for row in s.forest})
    # A label names at most three authors: read only those, as text (no JSON to decode).
    labels = {
        pk: _label([a for a in (a0, a1, a2) if a is not None], year, venue)
        for pk, a0, a1, a2, year, venue in Study.objects.filter(pk__in=_id_list(ids))
        .values_list("id", KT("authors__0"), KT("authors__1"), KT("authors__2"), "year", "venue")
        .order_by()
    }
    for summary in summaries:
        for row in summary.forest:
            row["label"] = labels[row["study_id"]]


def _summary(
    evidence: PublishedEvidence,
    unit: Unit,
    pooled: PooledResult | None,
    pooled_rows: np.ndarray,
    population_label: str,
    now,
) -> EvidenceSummary:
    """The unit's summary, given its pooled effect (``pooled_rows`` being the rows pooled)."""
    decision = rules.rate_study_set(
        evidence.study_set(unit.rows),
        pool_studies=lambda mask: _pool(evidence, unit.rows[mask]),
        population_label=population_label,
    )
    summary = EvidenceSummary(
        element_id=unit.element_id,
        outcome_domain=unit.scope[0],
        population_id=unit.scope[1],
        rating=decision.rating,
        reasons=[{"rule": decision.rule, **r.as_dict()} for r in decision.reasons],
        next_level=decision.next_level,
        k_studies=int(unit.rows.size),
        total_n=int(evidence.students[evidence.row_study[unit.rows]].sum()),
        forest=_forest(evidence, pooled, pooled_rows),
        rules_version=rules.RULES_VERSION,
        computed_at=now,
    )
    if pooled is not None:
        for name in POOLED_FIELDS:
            setattr(summary, name, getattr(pooled, name))
    return summary


def _summaries_for(
    evidence: PublishedEvidence, element_ids: Iterable[int], populations: dict[int, str], now
) -> dict[int, list[EvidenceSummary]]:
    """Each element's overall summary, one per outcome domain, one per population with subgroup
    effects; every unit of every element is pooled in one call."""
    units = [unit for element_id in element_ids for unit in evidence.units(element_id)]
    pooled, pooled_rows = _pool_all(evidence, [unit.rows for unit in units])
    summaries: dict[int, list[EvidenceSummary]] = {element_id: [] for element_id in element_ids}
    for unit, result, rows in zip(units, pooled, pooled_rows, strict=True):
        label = populations[unit.scope[1]] if unit.scope[1] else ""
        summaries[unit.element_id].append(_summary(evidence, unit, result, rows, label, now))
    return summaries


def _changed(old: EvidenceSummary | None, new: EvidenceSummary) -> bool:
    if old is None:
        return True
    if old.rating != new.rating or old.k != new.k:
        return True
    if (old.estimate is None) != (new.estimate is None):
        return True
    return old.estimate is not None and not math.isclose(
        old.estimate, new.estimate, rel_tol=1e-9, abs_tol=1e-12
    )


def _insert(summaries: list[EvidenceSummary]) -> None:
    """INSERT new summaries; on PostgreSQL through COPY, which streams their large JSON values
    instead of quoting each into SQL text (the slowest part of storing a full recompute)."""
    if connection.vendor != "postgresql":
        EvidenceSummary.objects.bulk_create(summaries)
        return
    fields = [f for f in EvidenceSummary._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(EvidenceSummary._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for summary in summaries:
            copy.write_row(
                [f.get_db_prep_save(f.pre_save(summary, add=True), connection) for f in fields]
            )


# What a summary's fingerprint covers: everything stored but its id, its time and the hash itself.
_FINGERPRINTED = [
    f.attname
    for f in EvidenceSummary._meta.concrete_fields
    if f.name not in ("id", "computed_at", "fingerprint")
]


def _fingerprints(summaries: list[EvidenceSummary]) -> dict[tuple[str, int | None], str]:
    """Set each summary's fingerprint (once); return them by scope.

    marshal format 2 writes values only (no references to shared objects), in dict order, so
    equal summaries built by the same code hash alike; it is ten times faster than JSON here.
    """
    for summary in summaries:
        if not summary.fingerprint:
            content = marshal.dumps([getattr(summary, name) for name in _FINGERPRINTED], 2)
            summary.fingerprint = hashlib.blake2b(content, digest_size=16).hexdigest()
    return {(s.outcome_domain, s.population_id): s.fingerprint for s in summaries}


def _store(element_id: int, summaries: list[EvidenceSummary]) -> bool:
    """Replace an element's summaries in one transaction; append history where they changed.

    Summaries identical to the stored ones (same scopes, same fingerprints) are left untouched,
    with their time: the usual nightly recompute writes nothing and keeps the caches. Returns
    whether anything was written.
    """
    fingerprints = _fingerprints(summaries)
    with transaction.atomic():
        # One recompute per element at a time: concurrent runs queue here, then see fresh data.
        Element.objects.select_for_update().filter(pk=element_id).values_list(
            "pk", flat=True
        ).first()
        old = {
            (s.outcome_domain, s.population_id): s
            for s in EvidenceSummary.objects.filter(element_id=element_id).only(
                "outcome_domain", "population_id", "rating", "estimate", "k", "fingerprint"
            )
        }
        if {scope: s.fingerprint for scope, s in old.items()} == fingerprints:
            return False
        history = [
            EvidenceHistory(
                element_id=element_id,
                outcome_domain=new.outcome_domain,
                rating_before=prev.rating if prev else "",
                rating_after=new.rating,
                estimate_before=prev.estimate if prev else None,
                estimate_after=new.estimate,
                k_before=prev.k if prev else 0,
                k_after=new.k,
                reasons=new.reasons,
                rules_version=new.rules_version,
            )
            for new in summaries
            if new.population_id is None
            and _changed(prev := old.get((new.outcome_domain, None)), new)
        ]
        EvidenceSummary.objects.filter(element_id=element_id).delete()
        _insert(summaries)
        EvidenceHistory.objects.bulk_create(history)
        evidence_version_bump()
    return True


def element_evidence_recompute(*, element_id: int) -> EvidenceSummary:
    """Recompute one element's summaries from published data and store them; returns the overall one."""
    evidence = published_evidence_load([element_id])
    populations = dict(Population.objects.values_list("id", "label"))
    summaries = _summaries_for(evidence, [element_id], populations, timezone.now())[element_id]
    _label_forests(summaries)
    _store(element_id, summaries)
    return summaries[0]


def element_evidence_recompute_if_dirty(*, element_id: int) -> bool:
    """Recompute a dirty element and clear its mark, unless it was marked again meanwhile.

    Safe to run twice or at once: a run that finds no mark does nothing, and the mark is cleared
    only if its timestamp is the one this run started from (compare-and-set).
    """
    marked_at = (
        DirtyElement.objects.filter(element_id=element_id)
        .values_list("marked_at", flat=True)
        .first()
    )
    if marked_at is None:
        return False
    element_evidence_recompute(element_id=element_id)
    DirtyElement.objects.filter(element_id=element_id, marked_at=marked_at).delete()
    return True


def evidence_recompute_all(
    *, job_id=None, progress: Callable[[int, int, Element], None] | None = None
) -> int:
    """Recompute every element of every framework from one read of the published data."""
    job = RecomputeJob.objects.filter(pk=job_id).first() if job_id else None
    elements = list(Element.objects.order_by("framework_id", "component__order", "order"))
    if job:
        RecomputeJob.objects.filter(pk=job.pk).update(
            state=JobState.RUNNING, total=len(elements), done=0
        )
    try:
        started = timezone.now()
        evidence = published_evidence_load()
        populations = dict(Population.objects.values_list("id", "label"))
        computed = _summaries_for(evidence, [e.pk for e in elements], populations, started)
        _label_forests(s for summaries in computed.values() for s in summaries)
        # Most elements come out as stored: find them in one query and leave them alone (an
        # element that changes meanwhile is only newer; _store checks again under its lock).
        stored = defaultdict(dict)
        for element_id, domain, population_id, fingerprint in EvidenceSummary.objects.values_list(
            "element_id", "outcome_domain", "population_id", "fingerprint"
        ):
            stored[element_id][(domain, population_id)] = fingerprint
        for done, element in enumerate(elements, start=1):
            if _fingerprints(computed[element.pk]) != stored[element.pk]:
                _store(element.pk, computed[element.pk])
            if job:
                RecomputeJob.objects.filter(pk=job.pk).update(done=done)
            if progress:
                progress(done, len(elements), element)
        DirtyElement.objects.filter(marked_at__lte=started).delete()
        stale = _tiers_that_differ(evidence)
        _store_tiers(
            evidence.study_ids[stale], evidence.tier_decision_of[stale], evidence.tier_decisions
        )
    except Exception as exc:
        if job:
            RecomputeJob.objects.filter(pk=job.pk).update(
                state=JobState.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
            )
        raise
    if job:
        RecomputeJob.objects.filter(pk=job.pk).update(
            state=JobState.SUCCEEDED, finished_at=timezone.now()
        )
    return len(elements)


def _tiers_that_differ(evidence: PublishedEvidence) -> np.ndarray:
    """Which studies' stored tier or reason differs from the one just decided (a boolean mask).

    On PostgreSQL the stored reasons were read as 64-bit hashes with the study rows; the new
    reasons are hashed the same way by the database (as jsonb, so key order and spacing cannot
    differ), so the usual answer, "none", costs no comparison of stored JSON. Elsewhere every
    study is a candidate and _store_tiers compares in the database.
    """
    decisions = evidence.tier_decisions
    if connection.vendor != "postgresql" or not decisions:
        return np.ones(evidence.study_ids.size, dtype=bool)
    with connection.cursor() as cursor:
        # One JSON array as the only parameter: a list of strings is quoted item by item.
        cursor.execute(
            "SELECT "
            + REASON_HASH.format("reason")
            + " FROM jsonb_array_elements(CAST(%s AS jsonb)) WITH ORDINALITY AS d(reason, i)"
            " ORDER BY i",
            [json.dumps([d.as_dict() for d in decisions])],
        )
        hashes = np.array([h for (h,) in cursor.fetchall()], dtype=np.int64)
    tiers = np.array([d.tier or 0 for d in decisions], dtype=np.int64)
    return (evidence.stored_tier != tiers[evidence.tier_decision_of]) | (
        evidence.stored_reason_hash != hashes[evidence.tier_decision_of]
    )


def _store_tiers(
    study_ids: np.ndarray, decision_of: np.ndarray, decisions: list[rules.TierDecision]
) -> int:
    """Store each study's ESSA tier and reason (``decisions[decision_of[i]]``) where it changed.

    A derived field, not an edit: no save(), no version bump, no audit row; the gap report's copy
    of the tiers follows. Returns how many studies changed.
    """
    if not study_ids.size:
        return 0  # the usual full recompute: nothing drifted
    tiers = [d.tier for d in decisions]
    reasons = [d.as_dict() for d in decisions]
    if connection.vendor == "postgresql":
        # One statement whatever the size: the database compares stored and new values itself.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Study._meta.db_table} s
                SET essa_tier = d.tier, essa_reason = d.reason
                FROM unnest(CAST(%s AS bigint[]), CAST(%s AS int[])) AS x(id, k)
                JOIN (SELECT k, tier, CAST(reason AS jsonb) AS reason
                      FROM unnest(%s::int[], %s::int[], %s::text[]) AS d(k, tier, reason)) d
                  ON d.k = x.k
                WHERE s.id = x.id
                  AND (s.essa_tier IS DISTINCT FROM d.tier OR s.essa_reason IS DISTINCT FROM d.reason)
                RETURNING s.id
                """,
                [
                    _array_literal(study_ids),
                    _array_literal(decision_of),
                    list(range(len(decisions))),
                    tiers,
                    [json.dumps(r) for r in reasons],
                ],
            )
            changed = [pk for (pk,) in cursor.fetchall()]
    else:
        changed = []
        for k, (tier, reason) in enumerate(zip(tiers, reasons, strict=True)):
            pks = study_ids[decision_of == k].tolist()
            for start in range(0, len(pks), 10_000):
                stale = Study.objects.filter(pk__in=pks[start : start + 10_000]).exclude(
                    essa_tier=tier, essa_reason=reason
                )
                changed += stale.values_list("pk", flat=True)
                stale.update(essa_tier=tier, essa_reason=reason)
    from .gaps.facts import gap_facts_follow_tiers  # the gap report's copy of the tiers

    gap_facts_follow_tiers(study_ids=changed)
    return len(changed)


def _array_literal(values: np.ndarray | list[int]) -> str:
    """A PostgreSQL array literal of integers: far cheaper to send than a list adapted per item."""
    values = values.tolist() if isinstance(values, np.ndarray) else values
    return "{" + ",".join(map(str, values)) + "}"


def _id_list(ids: list[int]) -> list[int] | RawSQL:
    """Ids for an ``__in`` filter; on PostgreSQL one array parameter instead of one per id
    (Django quotes parameters on the client, which costs ~35 µs each)."""
    if connection.vendor != "postgresql":
        return ids
    return RawSQL("SELECT unnest(CAST(%s AS bigint[]))", [_array_literal(ids)])


def study_tiers_refresh(*, study_ids: Iterable[int]) -> int:
    """Store the ESSA tier of these studies (any status, so a draft shows the tier it would earn)."""
    studies = {
        pk: rules.StudyFacts(pk, design, wwc, n, unit, sites)
        for pk, design, wwc, n, unit, sites in Study.objects.filter(
            pk__in=list(study_ids)
        ).values_list("id", "design", "wwc_rating", "sample_size", "sample_unit", "n_sites")
    }
    effects: dict[int, list[rules.EffectFacts]] = defaultdict(list)
    for study_id, domain, g, v, sig in EffectSize.objects.filter(
        study_id__in=list(studies), g__isnull=False, population__isnull=True, subgroup=""
    ).values_list("study_id", "outcome_domain", "g", "variance", "significant"):
        effects[study_id].append(rules.EffectFacts(g, v, sig, domain))
    decisions = [
        rules.study_tier(dataclasses.replace(facts, effects=tuple(effects[pk])))
        for pk, facts in studies.items()
    ]
    return _store_tiers(
        np.fromiter(studies, dtype=np.int64, count=len(studies)),
        np.arange(len(decisions)),
        decisions,
    )


def elements_mark_dirty(*, element_ids: Iterable[int]) -> set[int]:
    """Mark elements stale in the database and enqueue one recompute each after commit.

    The mark survives a broker outage: if enqueueing fails, the periodic sweep picks it up.
    """
    from .tasks import recompute_element

    ids = set(element_ids)
    now = timezone.now()
    for element_id in ids:
        DirtyElement.objects.update_or_create(element_id=element_id, defaults={"marked_at": now})

    def enqueue() -> None:
        for element_id in sorted(ids):
            recompute_element.delay(element_id)

    if ids:
        evidence_version_bump()
        transaction.on_commit(enqueue, robust=True)
    return ids


def evidence_version_bump() -> None:
    """Give the published evidence a new version once this transaction commits (not before: a
    reader in between would cache the old data under the new version)."""
    transaction.on_commit(
        lambda: cache.set(EVIDENCE_VERSION_KEY, uuid.uuid4().hex, None), robust=True
    )


def dirty_elements_enqueue() -> int:
    """Enqueue a recompute for every element still marked dirty (the periodic sweep)."""
    from .tasks import recompute_element

    ids = list(DirtyElement.objects.values_list("element_id", flat=True))
    for element_id in ids:
        recompute_element.delay(element_id)
    return len(ids)


def recompute_job_start(*, user=None, element_id: int | None = None) -> RecomputeJob:
    """Record a recompute request and enqueue it after commit; returns the job to poll."""
    from .tasks import recompute_all_elements

    job = RecomputeJob.objects.create(requested_by=user, element_id=element_id)
    transaction.on_commit(lambda: recompute_all_elements.delay(str(job.pk)))
    return job

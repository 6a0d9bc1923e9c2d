"""Writes of the evidence engine: marking elements dirty, recomputing their stored summaries.

The numbers come from the pure functions in ``evidence.stats`` and ``evidence.rules``; this module
feeds them published data and stores what they return, atomically per element.
"""

import json
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from frameworks.models import Element
from studies.constants import ReviewStatus
from studies.models import EffectSize, Population, Study, StudyTag

from . import rules
from .constants import JobState
from .models import DirtyElement, EvidenceHistory, EvidenceSummary, RecomputeJob
from .stats.meta import PooledResult, pool

logger = logging.getLogger(__name__)

# Correlation assumed between a study's different outcomes when forming its composite (§2).
COMPOSITE_RHO = 0.5
Z_95 = 1.959963984540054
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


# Scope of a summary: (outcome domain or "" for all, population id or None for the whole sample).
Scope = tuple[str, int | None]
OVERALL: Scope = ("", None)
# The forest plot shows the studies with the largest weights; the rest are summarised in words.
FOREST_MAX_ROWS = 50


@dataclass
class _StudyRow:
    """A published study with everything the rules and the forest plot need."""

    id: int
    design: str
    wwc_rating: str
    sample_size: int | None
    sample_unit: str
    n_sites: int | None
    label: str
    essa_tier: int | None = None
    essa_reason: dict = field(default_factory=dict)
    scopes: dict[Scope, list[rules.EffectFacts]] = field(default_factory=dict)
    _facts: dict[Scope, rules.StudyFacts] = field(default_factory=dict)
    _tiers: dict[Scope, rules.TierDecision] = field(default_factory=dict)

    def tier(self, scope: Scope) -> rules.TierDecision:
        """The study's tier on the effects in scope (cached: a study sits in many summaries)."""
        if scope not in self._tiers:
            self._tiers[scope] = rules.study_tier(self.facts(scope))
        return self._tiers[scope]

    def add_effect(self, domain: str, population: int | None, effect: rules.EffectFacts) -> None:
        if population is None:
            self.scopes.setdefault(OVERALL, []).append(effect)
            self.scopes.setdefault((domain, None), []).append(effect)
        else:
            self.scopes.setdefault(("", population), []).append(effect)

    def facts(self, scope: Scope) -> rules.StudyFacts:
        if scope not in self._facts:
            self._facts[scope] = rules.StudyFacts(
                study_id=self.id,
                design=self.design,
                wwc_rating=self.wwc_rating,
                sample_size=self.sample_size,
                sample_unit=self.sample_unit,
                n_sites=self.n_sites,
                effects=tuple(self.scopes.get(scope, ())),
            )
        return self._facts[scope]


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


def _load_studies(element_ids: Sequence[int] | None) -> dict[int, list[_StudyRow]]:
    """Published studies per element, with their effects, in three queries whatever the size."""
    tags = StudyTag.objects.filter(study__status=ReviewStatus.PUBLISHED)
    studies = Study.objects.published()
    effects = EffectSize.objects.filter(study__status=ReviewStatus.PUBLISHED, g__isnull=False)
    if element_ids is not None:
        tags = tags.filter(element_id__in=element_ids)
        # A subquery rather than a join: no DISTINCT over a large result.
        tagged = StudyTag.objects.filter(element_id__in=element_ids).values("study_id")
        studies = studies.filter(pk__in=tagged)
        effects = effects.filter(study_id__in=tagged)
    rows: dict[int, _StudyRow] = {}
    for pk, design, wwc, n, unit, sites, authors, year, venue, tier, reason in studies.values_list(
        "id",
        "design",
        "wwc_rating",
        "sample_size",
        "sample_unit",
        "n_sites",
        "authors",
        "year",
        "venue",
        "essa_tier",
        "essa_reason",
    ).order_by():
        rows[pk] = _StudyRow(
            pk, design, wwc, n, unit, sites, _label(authors, year, venue), tier, reason
        )
    for study_id, domain, population, subgroup, g, v, sig in effects.values_list(
        "study_id", "outcome_domain", "population_id", "subgroup", "g", "variance", "significant"
    ).order_by("study_id", "id"):
        row = rows.get(study_id)
        # A subgroup labelled without a population is neither whole-sample nor a population.
        if row is None or (subgroup and population is None):
            continue
        row.add_effect(domain, population, rules.EffectFacts(g, v, sig, domain))
    by_element: dict[int, list[_StudyRow]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    for pair in tags.values_list("element_id", "study_id").order_by("element_id", "study_id"):
        if pair not in seen and pair[1] in rows:
            seen.add(pair)
            by_element[pair[0]].append(rows[pair[1]])
    return by_element


def _composite(effects: list[tuple[float, float]]) -> tuple[float, float]:
    """Mean g and its variance for one study's several outcomes, correlated at COMPOSITE_RHO.

    (1/m²)·ΣᵢΣⱼ ρᵢⱼ√(vᵢvⱼ) with a single ρ is (1/m²)·((1−ρ)·Σv + ρ·(Σ√v)²); same as
    ``stats.meta.composite``, in closed form because it runs once per study per summary.
    """
    m = len(effects)
    if m == 1:
        return effects[0]
    sum_v = sum(v for _, v in effects)
    sum_sd = sum(math.sqrt(v) for _, v in effects)
    variance = ((1 - COMPOSITE_RHO) * sum_v + COMPOSITE_RHO * sum_sd * sum_sd) / (m * m)
    return sum(g for g, _ in effects) / m, variance


def _study_effect(facts: rules.StudyFacts) -> tuple[float, float] | None:
    """One effect per study for pooling: the composite of its effects with a known variance."""
    usable = [(e.g, e.variance) for e in facts.effects if e.g is not None and e.variance]
    return _composite(usable) if usable else None


def _pool(
    facts: Sequence[rules.StudyFacts],
) -> tuple[PooledResult | None, list[tuple[rules.StudyFacts, float, float]]]:
    per_study = [(f, *eff) for f in facts if not f.is_synthesis and (eff := _study_effect(f))]
    if not per_study:
        return None, []
    result = pool(
        [g for _, g, _ in per_study],
        [v for _, _, v in per_study],
        method=settings.EVIDENCE_TAU2_METHOD,
        ci_method=settings.EVIDENCE_CI_METHOD,
    )
    return result, per_study


def _forest(per_study, pooled: PooledResult | None, labels: dict[int, str], tiers) -> list[dict]:
    """Rows of the forest plot: each study's g with its 95% CI and its weight in the pooled mean."""
    if pooled is None:
        return []
    tau2 = pooled.tau2 or 0.0
    weights = [1.0 / (v + tau2) for _, _, v in per_study]
    total = sum(weights)
    rows = []
    for (facts, g, v), w in zip(per_study, weights, strict=True):
        half = Z_95 * math.sqrt(v)
        rows.append(
            {
                "study_id": facts.study_id,
                "label": labels[facts.study_id],
                "g": g,
                "ci_low": g - half,
                "ci_high": g + half,
                "weight": 100.0 * w / total,
                "tier": tiers[facts.study_id].tier,
            }
        )
    rows.sort(key=lambda r: -r["weight"])
    return rows[:FOREST_MAX_ROWS]


def _summary(
    element_id: int, scope: Scope, studies: list[_StudyRow], population_label: str, now
) -> EvidenceSummary:
    facts = [row.facts(scope) for row in studies]
    pooled, per_study = _pool(facts)
    decision = rules.rate_element(
        facts,
        pool_studies=lambda subset: _pool(subset)[0],
        population_label=population_label,
        tiers={row.id: row.tier(scope) for row in studies},
    )
    summary = EvidenceSummary(
        element_id=element_id,
        outcome_domain=scope[0],
        population_id=scope[1],
        rating=decision.rating,
        reasons=[{"rule": decision.rule, **r.as_dict()} for r in decision.reasons],
        next_level=decision.next_level,
        k_studies=len(facts),
        total_n=sum(row.sample_size or 0 for row in studies),
        forest=_forest(per_study, pooled, {row.id: row.label for row in studies}, decision.tiers),
        rules_version=rules.RULES_VERSION,
        computed_at=now,
    )
    if pooled is not None:
        for name in POOLED_FIELDS:
            setattr(summary, name, getattr(pooled, name))
    return summary


def _summaries_for(
    element_id: int, studies: list[_StudyRow], populations: dict[int, str], now
) -> list[EvidenceSummary]:
    """The element's overall summary, one per outcome domain, one per population with subgroup effects."""
    in_scope: dict[Scope, list[_StudyRow]] = defaultdict(list)
    for row in studies:
        for scope in row.scopes:
            if scope != OVERALL:
                in_scope[scope].append(row)
    out = [_summary(element_id, OVERALL, studies, "", now)]
    for scope in sorted(in_scope, key=lambda s: (s[1] is not None, s[0], s[1] or 0)):
        label = populations[scope[1]] if scope[1] is not None else ""
        out.append(_summary(element_id, scope, in_scope[scope], label, now))
    return out


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


def _store(element_id: int, summaries: list[EvidenceSummary]) -> int:
    """Replace an element's summaries in one transaction; append history where they changed."""
    with transaction.atomic():
        # One recompute per element at a time: concurrent runs queue here, then see fresh data.
        Element.objects.select_for_update().filter(pk=element_id).values_list(
            "pk", flat=True
        ).first()
        old = {
            (s.outcome_domain, s.population_id): s
            for s in EvidenceSummary.objects.filter(element_id=element_id)
        }
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
        # One row per INSERT: Django's multi-row UNNEST path escapes large JSON values slowly.
        EvidenceSummary.objects.bulk_create(summaries, batch_size=1)
        EvidenceHistory.objects.bulk_create(history)
    return len(summaries)


def element_evidence_recompute(*, element_id: int) -> EvidenceSummary:
    """Recompute one element's summaries from published data and store them; returns the overall one."""
    by_element = _load_studies([element_id])
    populations = dict(Population.objects.values_list("id", "label"))
    summaries = _summaries_for(
        element_id, by_element.get(element_id, []), populations, timezone.now()
    )
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
        by_element = _load_studies(None)
        populations = dict(Population.objects.values_list("id", "label"))
        for done, element in enumerate(elements, start=1):
            _store(
                element.pk,
                _summaries_for(element.pk, by_element.get(element.pk, []), populations, started),
            )
            DirtyElement.objects.filter(element_id=element.pk, marked_at__lte=started).delete()
            if job:
                RecomputeJob.objects.filter(pk=job.pk).update(done=done)
            if progress:
                progress(done, len(elements), element)
        _store_tiers({row.id: row for rows in by_element.values() for row in rows}.values())
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


def _store_tiers(rows: Iterable[_StudyRow]) -> int:
    """Store the ESSA tier (and its reason) of each study whose tier changed."""
    changed: dict[str, list[int]] = defaultdict(list)
    decisions: dict[str, dict] = {}
    for row in rows:
        decision = row.tier(OVERALL).as_dict()
        if row.essa_tier != decision["tier"] or row.essa_reason != decision:
            key = json.dumps(decision, sort_keys=True)
            decisions[key] = decision
            changed[key].append(row.id)
    # A few distinct decisions cover every study: one UPDATE each (bulk_update's CASE per row is
    # slow at scale). A derived field, not an edit: no save(), no version bump, no audit row.
    for key, ids in changed.items():
        for start in range(0, len(ids), 10_000):
            Study.objects.filter(pk__in=ids[start : start + 10_000]).update(
                essa_tier=decisions[key]["tier"], essa_reason=decisions[key]
            )
    return sum(len(ids) for ids in changed.values())


def study_tiers_refresh(*, study_ids: Iterable[int]) -> int:
    """Store the ESSA tier of these studies (any status, so a draft shows the tier it would earn)."""
    rows = {
        pk: _StudyRow(pk, design, wwc, n, unit, sites, "", tier, reason)
        for pk, design, wwc, n, unit, sites, tier, reason in Study.objects.filter(
            pk__in=list(study_ids)
        ).values_list(
            "id",
            "design",
            "wwc_rating",
            "sample_size",
            "sample_unit",
            "n_sites",
            "essa_tier",
            "essa_reason",
        )
    }
    effects = EffectSize.objects.filter(
        study_id__in=list(rows), g__isnull=False, population__isnull=True, subgroup=""
    )
    for study_id, domain, g, v, sig in effects.values_list(
        "study_id", "outcome_domain", "g", "variance", "significant"
    ):
        rows[study_id].add_effect(domain, None, rules.EffectFacts(g, v, sig, domain))
    return _store_tiers(rows.values())


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
        transaction.on_commit(enqueue, robust=True)
    return ids


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

"""Writes of the evidence engine: marking elements dirty, recomputing their stored summaries.

The numbers come from the pure functions in ``evidence.stats`` and ``evidence.rules``; this module
feeds them published data and stores what they return, atomically per element.
"""

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
from .stats.meta import PooledResult, composite, pool

logger = logging.getLogger(__name__)

# Correlation assumed between a study's different outcomes when forming its composite (§2).
COMPOSITE_RHO = 0.5


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
    # (outcome_domain, population_id or None, g, variance, significant)
    effects: list[tuple[str, int | None, float | None, float | None, bool | None]] = field(
        default_factory=list
    )

    def facts(self, keep: Callable[[str, int | None], bool]) -> rules.StudyFacts:
        return rules.StudyFacts(
            study_id=self.id,
            design=self.design,
            wwc_rating=self.wwc_rating,
            sample_size=self.sample_size,
            sample_unit=self.sample_unit,
            n_sites=self.n_sites,
            effects=tuple(
                rules.EffectFacts(g=g, variance=v, significant=sig, outcome_domain=domain)
                for domain, population, g, v, sig in self.effects
                if keep(domain, population)
            ),
        )


def _label(authors: list, year: int) -> str:
    if not authors:
        return f"Anon. ({year})"
    first = str(authors[0]).split(",")[0].strip()
    return f"{first}{' et al.' if len(authors) > 2 else (' & ' + str(authors[1]).split(',')[0].strip()) if len(authors) == 2 else ''} ({year})"


def _load_studies(
    element_ids: Sequence[int] | None,
) -> tuple[dict[int, list[_StudyRow]], dict[int, _StudyRow]]:
    """Published studies per element, with their effects, in three queries whatever the size."""
    tags = StudyTag.objects.filter(study__status=ReviewStatus.PUBLISHED)
    studies = Study.objects.published()
    effects = EffectSize.objects.filter(study__status=ReviewStatus.PUBLISHED, g__isnull=False)
    if element_ids is not None:
        tags = tags.filter(element_id__in=element_ids)
        studies = studies.filter(tags__element_id__in=element_ids).distinct()
        effects = effects.filter(study__tags__element_id__in=element_ids).distinct()
    rows: dict[int, _StudyRow] = {}
    for pk, design, wwc, n, unit, sites, authors, year in studies.values_list(
        "id", "design", "wwc_rating", "sample_size", "sample_unit", "n_sites", "authors", "year"
    ).order_by():
        rows[pk] = _StudyRow(pk, design, wwc, n, unit, sites, _label(authors, year))
    for study_id, domain, population, subgroup, g, v, sig in effects.values_list(
        "study_id", "outcome_domain", "population_id", "subgroup", "g", "variance", "significant"
    ).order_by("study_id", "id"):
        if study_id in rows:
            # A subgroup labelled without a population is neither whole-sample nor a population.
            if subgroup and population is None:
                continue
            rows[study_id].effects.append((domain, population, g, v, sig))
    by_element: dict[int, list[_StudyRow]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    for element_id, study_id in tags.values_list("element_id", "study_id").order_by(
        "element_id", "study_id"
    ):
        if (element_id, study_id) not in seen and study_id in rows:
            seen.add((element_id, study_id))
            by_element[element_id].append(rows[study_id])
    return by_element, rows


def _study_effect(facts: rules.StudyFacts) -> tuple[float, float] | None:
    """One effect per study for pooling: the composite of its effects with a known variance."""
    usable = [(e.g, e.variance) for e in facts.effects if e.g is not None and e.variance]
    if not usable:
        return None
    return usable[0] if len(usable) == 1 else composite(usable, rho=COMPOSITE_RHO)


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
    if pooled is None:
        return []
    tau2 = pooled.tau2 or 0.0
    weights = [1.0 / (v + tau2) for _, _, v in per_study]
    total = sum(weights)
    rows = []
    for (facts, g, v), w in zip(per_study, weights, strict=True):
        se = math.sqrt(v)
        rows.append(
            {
                "study_id": facts.study_id,
                "label": labels[facts.study_id],
                "g": g,
                "ci_low": g - 1.959963984540054 * se,
                "ci_high": g + 1.959963984540054 * se,
                "weight": 100.0 * w / total,
                "tier": tiers[facts.study_id].tier,
            }
        )
    return sorted(rows, key=lambda r: -r["weight"])


def _summary(
    element_id: int,
    domain: str,
    population_id: int | None,
    studies: list[_StudyRow],
    keep,
    population_label: str,
    now,
) -> EvidenceSummary:
    facts = [row.facts(keep) for row in studies]
    pooled, per_study = _pool(facts)
    decision = rules.rate_element(
        facts, pool_studies=lambda subset: _pool(subset)[0], population_label=population_label
    )
    labels = {row.id: row.label for row in studies}
    summary = EvidenceSummary(
        element_id=element_id,
        outcome_domain=domain,
        population_id=population_id,
        rating=decision.rating,
        reasons=[{"rule": decision.rule, **r.as_dict()} for r in decision.reasons],
        next_level=decision.next_level,
        k_studies=len(facts),
        total_n=sum(row.sample_size or 0 for row in studies),
        study_ids=sorted(row.id for row in studies),
        forest=_forest(per_study, pooled, labels, decision.tiers),
        rules_version=rules.RULES_VERSION,
        computed_at=now,
    )
    if pooled is not None:
        for name in (
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
        ):
            setattr(summary, name, getattr(pooled, name))
    return summary


def _summaries_for(
    element_id: int, studies: list[_StudyRow], populations: dict[int, str], now
) -> list[EvidenceSummary]:
    """The element's overall summary, one per outcome domain, one per population with subgroup effects."""
    out = [_summary(element_id, "", None, studies, lambda d, p: p is None, "", now)]
    domains = sorted({d for row in studies for d, p, *_ in row.effects if p is None})
    for domain in domains:
        in_domain = [
            row for row in studies if any(d == domain and p is None for d, p, *_ in row.effects)
        ]
        out.append(
            _summary(
                element_id,
                domain,
                None,
                in_domain,
                lambda d, p, domain=domain: p is None and d == domain,
                "",
                now,
            )
        )
    for population_id in sorted(
        {p for row in studies for _, p, *_ in row.effects if p is not None}
    ):
        in_population = [
            row for row in studies if any(p == population_id for _, p, *_ in row.effects)
        ]
        out.append(
            _summary(
                element_id,
                "",
                population_id,
                in_population,
                lambda d, p, pid=population_id: p == pid,
                populations[population_id],
                now,
            )
        )
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
        EvidenceSummary.objects.bulk_create(summaries)
        EvidenceHistory.objects.bulk_create(history)
    return len(summaries)


def element_evidence_recompute(*, element_id: int) -> EvidenceSummary:
    """Recompute one element's summaries from published data and store them; returns the overall one."""
    by_element, _ = _load_studies([element_id])
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
        by_element, rows = _load_studies(None)
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
        study_tiers_refresh(study_ids=None)
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


def study_tiers_refresh(*, study_ids: Iterable[int] | None) -> int:
    """Store each study's ESSA tier and its reason from its design, sample and whole-sample effects.

    Computed for every status, so researchers see the tier a draft would earn. Returns the number
    of studies whose tier or reason changed.
    """
    studies = (
        Study.objects.all() if study_ids is None else Study.objects.filter(pk__in=list(study_ids))
    )
    effects: dict[int, list] = defaultdict(list)
    effect_rows = EffectSize.objects.filter(g__isnull=False, population__isnull=True, subgroup="")
    if study_ids is not None:
        effect_rows = effect_rows.filter(study_id__in=[s.pk for s in studies])
    for study_id, g, v, sig in effect_rows.values_list("study_id", "g", "variance", "significant"):
        effects[study_id].append(rules.EffectFacts(g=g, variance=v, significant=sig))
    changed = []
    for study in studies.only(
        "id",
        "design",
        "wwc_rating",
        "sample_size",
        "sample_unit",
        "n_sites",
        "essa_tier",
        "essa_reason",
    ):
        decision = rules.study_tier(
            rules.StudyFacts(
                study_id=study.pk,
                design=study.design,
                wwc_rating=study.wwc_rating,
                sample_size=study.sample_size,
                sample_unit=study.sample_unit,
                n_sites=study.n_sites,
                effects=tuple(effects.get(study.pk, ())),
            )
        )
        reason = decision.as_dict()
        if study.essa_tier != decision.tier or study.essa_reason != reason:
            study.essa_tier, study.essa_reason = decision.tier, reason
            changed.append(study)
    # bulk_update bypasses save() and the audit history on purpose: a derived field, not an edit.
    Study.objects.bulk_update(changed, ["essa_tier", "essa_reason"], batch_size=1000)
    return len(changed)


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

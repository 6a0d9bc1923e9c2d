"""The stored summaries and study tiers equal what the plain rules give study by study.

A recompute reads the published evidence as columns and rates whole arrays at once (for speed);
this builds a varied evidence base and recomputes every figure the slow, obvious way instead:
one ``StudyFacts`` per study and scope, ``rules.study_tier``, ``rules.rate_element`` and
``stats.meta.composite`` + ``pool``.
"""

import random

import pytest
from django.conf import settings

from evidence import rules
from evidence.models import EvidenceSummary
from evidence.services import evidence_recompute_all
from evidence.stats.meta import composite, pool
from studies.constants import Design, ReviewStatus, SampleUnit, WWCRating
from studies.models import EffectSize, Population, Study
from tests.factories import EffectSizeFactory, ElementFactory, StudyFactory, StudyTagFactory

pytestmark = pytest.mark.django_db

DOMAINS = ["mathematics", "literacy", "engagement"]


@pytest.fixture
def varied_evidence():
    """120 studies over three elements, every fact the rules read varied, from a fixed seed."""
    rng = random.Random(11)
    elements = [ElementFactory(code=code) for code in ("LL.3", "LC.1", "LD.2")]
    populations = list(Population.objects.all()[:3])
    for _ in range(120):
        study = StudyFactory(
            design=rng.choice(Design.values),
            wwc_rating=rng.choice(WWCRating.values),
            sample_size=rng.choice([None, 40, 349, 350, 350, 1200, rng.randrange(1, 5000)]),
            sample_unit=rng.choice(["", *SampleUnit.values, *["students"] * 6]),
            n_sites=rng.choice([None, 1, 2, 2, 5]),
            status=rng.choice([ReviewStatus.PUBLISHED] * 4 + [ReviewStatus.SUBMITTED]),
        )
        for element in rng.sample(elements, rng.choice([1, 1, 2])):
            StudyTagFactory(study=study, element=element)
        for _ in range(rng.choice([0, 1, 2, 3, 4])):
            subgroup = rng.random() < 0.3
            EffectSizeFactory(
                study=study,
                outcome_domain=rng.choice(DOMAINS),
                g=rng.gauss(0.15, 0.3),
                variance=rng.choice([None, rng.uniform(0.002, 0.2), rng.uniform(0.002, 0.2)]),
                significant=rng.choice([True, False, None]),
                population=rng.choice(populations + [None]) if subgroup else None,
                subgroup="a subgroup" if subgroup else "",
            )
    return elements


def _facts(study: Study, effects: list[EffectSize]) -> rules.StudyFacts:
    return rules.StudyFacts(
        study.pk,
        study.design,
        study.wwc_rating,
        study.sample_size,
        study.sample_unit,
        study.n_sites,
        tuple(rules.EffectFacts(e.g, e.variance, e.significant, e.outcome_domain) for e in effects),
    )


def _pool_composites(studies: list[rules.StudyFacts]):
    """Pool one composite per primary study with a known variance, as EVIDENCE.md §2 says."""
    per_study = [
        composite([(e.g, e.variance) for e in s.effects if e.variance is not None])
        for s in studies
        if not s.is_synthesis and any(e.variance is not None for e in s.effects)
    ]
    if not per_study:
        return None
    g, v = zip(*per_study, strict=True)
    return pool(g, v, method=settings.EVIDENCE_TAU2_METHOD, ci_method=settings.EVIDENCE_CI_METHOD)


def test_every_study_tier_and_summary_equals_the_rules_applied_study_by_study(varied_evidence):
    evidence_recompute_all()

    published = list(Study.objects.published().prefetch_related("effects", "tags"))
    whole = {
        s.pk: [e for e in s.effects.all() if e.population_id is None and not e.subgroup]
        for s in published
    }
    for study in published:
        decision = rules.study_tier(_facts(study, whole[study.pk]))
        assert (study.essa_tier, study.essa_reason) == (decision.tier, decision.as_dict()), study

    checked = 0
    for element in varied_evidence:
        tagged = [s for s in published if any(t.element_id == element.pk for t in s.tags.all())]
        scopes = {("", None): {s.pk: whole[s.pk] for s in tagged}}
        for s in tagged:
            for e in s.effects.all():
                if e.population_id is None and not e.subgroup:
                    scopes.setdefault((e.outcome_domain, None), {}).setdefault(s.pk, []).append(e)
                elif e.population_id is not None:
                    scopes.setdefault(("", e.population_id), {}).setdefault(s.pk, []).append(e)
        stored = {
            (x.outcome_domain, x.population_id): x
            for x in EvidenceSummary.objects.filter(element=element)
        }
        assert set(stored) == set(scopes)
        by_id = {s.pk: s for s in tagged}
        for scope, effects in scopes.items():
            facts = [_facts(by_id[pk], effects[pk]) for pk in sorted(effects)]
            pooled = _pool_composites(facts)
            decision = rules.rate_element(facts, pool_studies=_pool_composites)
            summary = stored[scope]
            assert (summary.rating, summary.k_studies) == (decision.rating, len(facts)), scope
            assert [r["code"] for r in summary.reasons] == [r.code for r in decision.reasons]
            assert [r["study_ids"] for r in summary.reasons] == [
                sorted(r.study_ids)[: rules.MAX_STORED_IDS] for r in decision.reasons
            ]
            if pooled is None:
                assert summary.estimate is None
            else:
                assert summary.k == pooled.k
                assert summary.estimate == pytest.approx(pooled.estimate, rel=1e-9, abs=1e-12)
                assert summary.tau2 == (
                    None if pooled.tau2 is None else pytest.approx(pooled.tau2, rel=1e-7, abs=1e-12)
                )
            checked += 1
    assert checked >= 12  # overall, domain and population scopes of three elements


def test_a_full_recompute_repairs_a_stored_tier_or_reason_that_drifted(varied_evidence):
    evidence_recompute_all()
    expected = {s.pk: (s.essa_tier, s.essa_reason) for s in Study.objects.published()}
    first, second = sorted(expected)[:2]
    # Edits past the services (or a new rules text) leave a stored reason or tier out of date.
    Study.objects.filter(pk=first).update(
        essa_reason={**expected[first][1], "text": "An outdated reason."}
    )
    Study.objects.filter(pk=second).update(essa_tier=None if expected[second][0] else 4)

    evidence_recompute_all()

    assert {s.pk: (s.essa_tier, s.essa_reason) for s in Study.objects.published()} == expected

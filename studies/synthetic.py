"""Synthetic evidence bases for benchmarks and load tests: realistic proportions, reproducible.

Every generated study is marked ``is_synthetic`` and titled "[synthetic]", so it can never be
mistaken for real data; the command refuses to run on a database that holds real studies.
"""

import random
from collections import Counter

from django.db import transaction

from frameworks.models import Element

from .constants import Design, OutcomeDomain, ReviewStatus, WWCRating
from .models import EffectSize, Population, Study, StudyTag

# Realistic shares in education research (most work is non-experimental; few RCTs meet standards).
DESIGN_WEIGHTS = {
    Design.RCT: 8,
    Design.CLUSTER_RCT: 4,
    Design.QED: 14,
    Design.CORRELATIONAL: 22,
    Design.CORRELATIONAL_UNCONTROLLED: 8,
    Design.QUALITATIVE: 18,
    Design.DESCRIPTIVE: 12,
    Design.MIXED_METHODS: 6,
    Design.META_ANALYSIS: 3,
    Design.SYSTEMATIC_REVIEW: 3,
    Design.THEORETICAL: 2,
}
QUANTITATIVE = {
    Design.RCT,
    Design.CLUSTER_RCT,
    Design.QED,
    Design.CORRELATIONAL,
    Design.CORRELATIONAL_UNCONTROLLED,
    Design.MIXED_METHODS,
}
STATUS_WEIGHTS = {
    ReviewStatus.PUBLISHED: 85,
    ReviewStatus.SUBMITTED: 5,
    ReviewStatus.DRAFT: 7,
    ReviewStatus.RETURNED: 2,
    ReviewStatus.RETRACTED: 1,
}


class RealDataPresent(Exception):
    pass


def synthetic_generate(
    *, studies: int, effects_per_study: float = 3.0, seed: int = 1, batch: int = 5000
) -> Counter:
    """Create ``studies`` synthetic studies with effects and tags (about 1.5 elements each)."""
    from evidence.gaps.facts import gap_facts_refresh

    if Study.objects.real().exists():
        raise RealDataPresent(
            "This database holds real studies; generate synthetic data in its own database."
        )
    rng = random.Random(seed)
    elements = list(Element.objects.values_list("id", flat=True))
    populations = list(Population.objects.values_list("id", flat=True))
    domains = [d.value for d in OutcomeDomain]
    designs, design_w = zip(*DESIGN_WEIGHTS.items(), strict=True)
    statuses, status_w = zip(*STATUS_WEIGHTS.items(), strict=True)
    counts: Counter = Counter()
    start = Study.objects.count()
    for offset in range(0, studies, batch):
        size = min(batch, studies - offset)
        with transaction.atomic():
            rows = []
            for i in range(start + offset, start + offset + size):
                design = rng.choices(designs, design_w)[0]
                rows.append(
                    Study(
                        title=f"[synthetic] Study {i} of personalized learning practice",
                        title_key=f"synthetic study {i}",
                        authors=[f"Author{i % 997}, A.", f"Coauthor{i % 389}, B."],
                        year=rng.randint(1995, 2025),
                        design=design,
                        sample_size=int(rng.lognormvariate(6, 1.2)) + 10,
                        sample_unit="students",
                        n_sites=rng.choice([1, 1, 2, 3, 5, 12]),
                        wwc_rating=rng.choice(
                            [
                                WWCRating.MEETS_WITHOUT_RESERVATIONS,
                                WWCRating.MEETS_WITH_RESERVATIONS,
                                WWCRating.DOES_NOT_MEET,
                                WWCRating.NOT_REVIEWED,
                            ]
                        )
                        if design in QUANTITATIVE
                        else WWCRating.NOT_REVIEWED,
                        status=rng.choices(statuses, status_w)[0],
                        is_synthetic=True,
                        source_note="synthetic",
                    )
                )
            created = Study.objects.bulk_create(rows, batch_size=1000)
            tags, effects = [], []
            for study in created:
                for element_id in rng.sample(elements, 1 if rng.random() < 0.6 else 2):
                    tags.append(StudyTag(study_id=study.pk, element_id=element_id))
                if study.design not in QUANTITATIVE:
                    continue
                for _ in range(max(0, int(rng.gauss(effects_per_study * 1.3, 1)))):
                    n = max(study.sample_size, 20)
                    g = rng.gauss(0.15, 0.25)
                    v = 4 / n + g * g / (2 * n)
                    significant = abs(g) / v**0.5 > 1.959964
                    subgroup = rng.random() < 0.15
                    effects.append(
                        EffectSize(
                            study_id=study.pk,
                            outcome_domain=rng.choice(domains),
                            input_kind="smd",
                            reported={"value": round(g, 4), "variance": round(v, 6)},
                            g=g,
                            variance=v,
                            ci_low=g - 1.96 * v**0.5,
                            ci_high=g + 1.96 * v**0.5,
                            significant=significant,
                            direction=("favorable" if g > 0 else "unfavorable")
                            if significant
                            else "null",
                            conversion="reported_smd",
                            conversion_version=1,
                            population_id=rng.choice(populations) if subgroup else None,
                        )
                    )
            StudyTag.objects.bulk_create(tags, batch_size=5000)
            EffectSize.objects.bulk_create(effects, batch_size=5000)
            gap_facts_refresh(study_ids=[study.pk for study in created])
            counts["studies"] += len(created)
            counts["tags"] += len(tags)
            counts["effects"] += len(effects)
    return counts

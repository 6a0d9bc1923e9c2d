"""Benchmark: full and one-element evidence recompute against the raw SQL floor.

Builds a synthetic evidence base in its own PostgreSQL database (never the app's), then prints
wall time, peak memory and the ratio to a single raw SQL aggregate pass over the same rows.

    .venv/bin/python benchmarks/recompute.py --studies 100000
    .venv/bin/python benchmarks/recompute.py --studies 10000 --database-url postgres://postgres@127.0.0.1:5432/evidence_bench_10k
"""

import argparse
import statistics
import time

from bench import django_on, peak_mb, print_machine, synthetic_base


def timed(fn, repeat=1):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


FLOOR_SQL = """
SELECT t.element_id, e.outcome_domain, e.population_id, count(*),
       sum(e.g / e.variance), sum(1 / e.variance), sum(s.sample_size)
FROM studies_effectsize e
JOIN studies_study s ON s.id = e.study_id
JOIN studies_studytag t ON t.study_id = s.id
WHERE s.status = 'published' AND e.g IS NOT NULL AND e.variance IS NOT NULL
GROUP BY 1, 2, 3
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--studies", type=int, default=100_000)
    # 4.4 gives about 3.2 effects per study on average (only quantitative designs report them):
    # about 320,000 effects at 100,000 studies, the size the targets are set for.
    parser.add_argument("--effects-per-study", type=float, default=4.4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"postgres://postgres@127.0.0.1:5432/evidence_bench_{args.studies}"
    django_on(url)
    synthetic_base(studies=args.studies, effects_per_study=args.effects_per_study, seed=args.seed)
    from django.db import connection
    from django.db.models import Count

    from evidence.services import element_evidence_recompute, evidence_recompute_all
    from frameworks.models import Element
    from studies import services as study_services
    from studies.models import EffectSize, Study, StudyTag

    n_effects = EffectSize.objects.count()
    n_published = Study.objects.published().count()
    print(
        f"database: {url}\nstudies: {Study.objects.count()} ({n_published} published), effects: {n_effects}"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL)
            cursor.fetchall()

    floor()  # warm the cache for both sides alike
    floor_s = timed(floor, repeat=3)
    # The first recompute after generating stores every study's ESSA tier; the nightly run
    # finds them in place. Time that steady state, and report the settling run separately.
    settle_s = timed(lambda: evidence_recompute_all(), repeat=1)
    full_s = timed(lambda: evidence_recompute_all(), repeat=3)
    peak = peak_mb()

    element = Element.objects.get(code="LL.3")
    # An effect of a study tagged to LL.3 only, so the edit dirties exactly one element.
    tagged_once = (
        StudyTag.objects.values("study_id").annotate(n=Count("id")).filter(n=1).values("study_id")
    )
    effect = EffectSize.objects.filter(
        study__tags__element=element, study__status="published", study_id__in=tagged_once
    ).first()

    def one_edit():
        # The real path: the save marks LL.3 (and the study's other elements) dirty and, Celery
        # being eager here, the recompute runs on commit before effect_save returns.
        effect.reported = {"value": round(effect.g + 0.01, 4), "variance": effect.variance}
        study_services.effect_save(effect=effect)

    one_s = timed(one_edit, repeat=3)
    print(f"raw SQL floor (one aggregate pass): {floor_s:.3f} s")
    print(f"first full recompute (also stores any changed study tiers): {settle_s:.3f} s")
    print(
        f"full recompute (18 elements + study tiers): {full_s:.3f} s  ratio to floor: {full_s / floor_s:.2f}x  (target <= 3x)"
    )
    n_elements = effect.study.tags.values("element").distinct().count()
    print(
        f"one edit and the recompute it triggers ({n_elements} element(s) incl. LL.3): {one_s:.3f} s  (target < 1 s)"
    )
    print(
        f"one element recompute alone (LL.3): {timed(lambda: element_evidence_recompute(element_id=element.pk), repeat=3):.3f} s"
    )
    print(f"peak memory (RSS): {peak:.0f} MB")
    print_machine()


if __name__ == "__main__":
    main()

"""Benchmark: the funder gap report at scale (target: under 500 ms at 100,000 studies).

Builds (or reuses) a synthetic evidence base in its own PostgreSQL database, never the app's, the
same way benchmarks/recompute.py does; stores the studies' tiers and summaries with one full
recompute if they are missing; codes the studies' grade bands, populations and settings (the
generator leaves them empty, which would make those columns trivially cheap); then prints the
report's wall time per dimension and for filtered views, counted afresh (cold) and from the cache
(warm), the page and API times, and the query counts.

    .venv/bin/python benchmarks/gaps.py --studies 10000
    .venv/bin/python benchmarks/gaps.py --studies 100000
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from recompute import ensure_database  # noqa: E402


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def code_vocabularies(seed: int) -> int:
    """Give synthetic studies grade bands (~80%), populations (~30%) and settings (~50%), once."""
    from studies.models import GradeBand, Population, Setting, Study

    through = {
        "grade_bands": (Study.grade_bands.through, "gradeband_id", GradeBand, 0.8),
        "populations": (Study.populations.through, "population_id", Population, 0.3),
        "settings": (Study.settings.through, "setting_id", Setting, 0.5),
    }
    if Study.grade_bands.through.objects.exists():
        return 0
    rng = random.Random(seed)
    study_ids = list(Study.objects.values_list("id", flat=True))
    created = 0
    for model, column, vocabulary, share in through.values():
        terms = list(vocabulary.objects.values_list("id", flat=True))
        rows = [
            model(study_id=pk, **{column: term})
            for pk in study_ids
            if rng.random() < share
            for term in rng.sample(terms, rng.choice([1, 1, 2]))
        ]
        model.objects.bulk_create(rows, batch_size=10000)
        created += len(rows)
    return created


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--studies", type=int, default=100_000)
    parser.add_argument("--effects-per-study", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = (
        args.database_url
        or f"postgres://postgres@127.0.0.1:5432/evidence_gaps_bench_{args.studies}"
    )
    ensure_database(url)
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="true",
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client

    from evidence import gaps
    from evidence.services import evidence_recompute_all
    from frameworks.services import DATA_DIR, framework_load, read_data_file
    from studies.models import EffectSize, Study
    from studies.synthetic import synthetic_generate

    call_command("migrate", verbosity=0)
    framework_load(data=read_data_file(DATA_DIR / "leap-2017.json"), counts=Counter())
    have = Study.objects.count()
    if have < args.studies:
        start = time.perf_counter()
        counts = synthetic_generate(
            studies=args.studies - have, effects_per_study=args.effects_per_study, seed=args.seed
        )
        print(f"generated {dict(counts)} in {time.perf_counter() - start:.1f} s")
    coded = code_vocabularies(args.seed)
    if coded:
        print(f"coded {coded} grade band, population and setting links")
    if Study.objects.published().filter(essa_reason={}).exists():
        start = time.perf_counter()
        evidence_recompute_all()
        print(f"stored tiers and summaries (full recompute) in {time.perf_counter() - start:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"database: {url}\nstudies: {Study.objects.count()} "
        f"({Study.objects.published().count()} published), effects: {EffectSize.objects.count()}"
    )

    from django.core.cache import cache

    def run(cold: bool, **params):
        if cold:
            cache.clear()
        choices = gaps.filter_choices()
        filters, errors = gaps.parse_filters(params, choices=choices, may_include_under_review=True)
        assert not errors, errors
        return gaps.gap_report(filters=filters, choices=choices)

    cases = {
        "outcome domain (default)": {},
        "grade band": {"dimension": "grade_band"},
        "population": {"dimension": "population"},
        "setting": {"dimension": "setting"},
        "design": {"dimension": "design"},
        "filtered: 6-8, English learners, 2010+, RCT": {
            "grade_band": "6-8",
            "population": "english_learners",
            "year_min": "2010",
            "design": "rct",
        },
        "the same with studies under review (never cached)": {
            "grade_band": "6-8",
            "population": "english_learners",
            "year_min": "2010",
            "design": "rct",
            "include_under_review": "1",
        },
    }
    run(cold=True)  # warm the database cache for every case alike
    print(f"gap report (selector, median of {args.repeat}): cold = counted afresh, warm = cached")
    worst = {True: 0.0, False: 0.0}
    for name, params in cases.items():
        cold_s, report = timed(lambda p=params: run(True, **p), args.repeat)
        worst[True] = max(worst[True], cold_s)
        warm = "   (none)"
        if "include_under_review" not in params:
            warm_s, _ = timed(lambda p=params: run(False, **p), args.repeat)
            worst[False] = max(worst[False], warm_s)
            warm = f"{warm_s * 1000:7.1f} ms"
        print(
            f"  {name:<52} cold {cold_s * 1000:7.1f} ms  warm {warm}  "
            f"({report.n_studies} studies, {len(report.ranked)} ranked gaps)"
        )
    reset_queries()
    run(True, dimension="population")
    slowest = sorted(connection.queries, key=lambda q: -float(q["time"]))[:3]
    print(f"queries per cold report: {len(connection.queries)}; slowest: ", end="")
    print(", ".join(f"{float(q['time']) * 1000:.0f} ms" for q in slowest))
    reset_queries()
    run(False, dimension="population")
    print(f"queries per warm report: {len(connection.queries)}")

    client = Client(HTTP_HOST="localhost")
    for path in ("/gaps/", "/api/v1/gaps/", "/api/v1/gaps/?format=csv&table=ranked"):
        cold_s, _ = timed(lambda p=path: (cache.clear(), client.get(p)), args.repeat)
        warm_s, _ = timed(lambda p=path: client.get(p), args.repeat)
        print(f"GET {path:<42} cold {cold_s * 1000:7.1f} ms  warm {warm_s * 1000:7.1f} ms")
    print(
        f"worst report time: cold {worst[True] * 1000:.1f} ms, warm {worst[False] * 1000:.1f} ms"
        "  (target < 500 ms)"
    )
    print(f"load average while measuring: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"PostgreSQL {connection.pg_version}"
    )


if __name__ == "__main__":
    main()

"""Benchmark: the funder gap report at scale (target: under 500 ms at 100,000 studies).

Builds (or reuses) a synthetic evidence base in its own PostgreSQL database, never the app's, the
same way benchmarks/recompute.py does; stores the studies' tiers and summaries with one full
recompute if they are missing; codes the studies' grade bands, populations and settings (the
generator leaves them empty, which would make those columns trivially cheap); then prints the
report's median and p95 wall time per dimension and for filtered views, counted afresh (cold) and
from the cache (warm), with the ratio to a raw SQL floor and the peak Python memory, then the page
and API times and the query counts.

    .venv/bin/python benchmarks/gaps.py --studies 10000
    .venv/bin/python benchmarks/gaps.py --studies 100000 --copy-from evidence_bench_100000
"""

import argparse
import math
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench import code_vocabularies, django_on, peak_mb, print_machine, synthetic_base  # noqa: E402

# The least a fresh report must read: every tag of a published study joined to its effects,
# grouped by element and outcome domain (the default map's cells), in one raw SQL pass that does
# not even count studies once each (no DISTINCT), like benchmarks/recompute.py's floor.
FLOOR_SQL = """
SELECT t.element_id, e.outcome_domain, count(*), min(s.essa_tier), max(s.year)
FROM studies_studytag t
JOIN studies_study s ON s.id = t.study_id
JOIN studies_effectsize e ON e.study_id = s.id
WHERE s.status = 'published'
GROUP BY 1, 2
"""


def timed(fn, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def summary(times: list[float]) -> tuple[float, float]:
    """Median and 95th percentile (nearest rank) of the times."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.0f} ms"


def copy_database(source: str, url: str) -> None:
    """Create the benchmark's database as a copy of ``source`` (pg_dump | psql), unless it exists."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        conn.execute(f'CREATE DATABASE "{name}"')
    start = time.perf_counter()
    dump = subprocess.Popen(["pg_dump", "--no-owner", f"{server}/{source}"], stdout=subprocess.PIPE)
    subprocess.run(["psql", "-q", "-o", "/dev/null", url], stdin=dump.stdout, check=True)
    if dump.wait():
        raise SystemExit(f"pg_dump of {source} failed")
    print(f"copied {source} in {time.perf_counter() - start:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--studies", type=int, default=100_000)
    parser.add_argument("--effects-per-study", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--copy-from",
        metavar="DATABASE",
        help="start this benchmark's own database as a copy of another (e.g. evidence_bench_100000, "
        "which benchmarks/recompute.py builds) instead of generating studies; the source is only read",
    )
    args = parser.parse_args()
    url = (
        args.database_url
        or f"postgres://postgres@127.0.0.1:5432/evidence_gaps_bench_{args.studies}"
    )
    if args.copy_from:
        copy_database(args.copy_from, url)
    django_on(url)
    synthetic_base(studies=args.studies, effects_per_study=args.effects_per_study, seed=args.seed)
    from django.db import connection, reset_queries
    from django.test import Client

    from evidence import gaps
    from evidence.services import evidence_recompute_all
    from studies.models import EffectSize, Study

    coded = code_vocabularies(args.seed)
    if coded:
        from evidence.gaps.facts import gap_facts_rebuild

        print(f"coded {coded} grade band, population and setting links")
        # Written straight into the link tables, past the services: re-derive the report's facts.
        print(f"rebuilt {gap_facts_rebuild()} gap report facts")
    if Study.objects.published().filter(essa_reason={}).exists():
        start = time.perf_counter()
        evidence_recompute_all()
        print(f"stored tiers and summaries (full recompute) in {time.perf_counter() - start:.1f} s")
    with connection.cursor() as cursor:
        # As autovacuum leaves a settled database: statistics, and the visibility map that lets
        # the report read the studies' covering index without visiting the rows.
        cursor.execute("VACUUM ANALYZE")
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

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL)
            cursor.fetchall()

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
    floor()
    floor_s = summary(timed(floor, args.repeat)[0])[0]
    print(f"raw SQL floor (tags x published studies x effects, one GROUP BY): {ms(floor_s)}")
    print(
        f"gap report (selector; {args.repeat} runs each): cold = counted afresh, warm = cached; "
        "median / p95, ratio of the cold median to the floor, peak Python memory of one cold run"
    )
    all_cold: list[float] = []
    all_warm: list[float] = []
    for name, params in cases.items():
        cold_times, report = timed(lambda p=params: run(True, **p), args.repeat)
        all_cold += cold_times
        cold_med, cold_p95 = summary(cold_times)
        warm = "(none)"
        if "include_under_review" not in params:
            warm_times, _ = timed(lambda p=params: run(False, **p), args.repeat)
            all_warm += warm_times
            warm = "{} / {}".format(*map(ms, summary(warm_times)))
        tracemalloc.start()
        run(True, **params)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(
            f"  {name:<50} cold {ms(cold_med)} / {ms(cold_p95)} ({cold_med / floor_s:4.1f}x)"
            f"  warm {warm:<19}  {peak:5.1f} MB  ({report.n_studies} studies, "
            f"{len(report.ranked)} ranked gaps)"
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
        cold_times, _ = timed(lambda p=path: (cache.clear(), client.get(p)), args.repeat)
        warm_times, _ = timed(lambda p=path: client.get(p), args.repeat)
        cold_med, cold_p95 = summary(cold_times)
        warm_med, warm_p95 = summary(warm_times)
        print(
            f"GET {path:<40} cold {ms(cold_med)} / {ms(cold_p95)}"
            f"  warm {ms(warm_med)} / {ms(warm_p95)}"
        )
    print(
        "all cold reports: median {} p95 {}; all warm: median {} p95 {}  (target < 500 ms)".format(
            *map(ms, summary(all_cold) + summary(all_warm))
        )
    )
    print(f"peak RSS of this process: {peak_mb():.0f} MB")
    print_machine()


if __name__ == "__main__":
    main()

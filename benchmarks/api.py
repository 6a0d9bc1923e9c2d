"""Benchmark: the studies API list and its filtered searches, and the HTML study list, at scale.

Builds (or reuses) a synthetic evidence base in its own PostgreSQL database
(``evidence_api_bench_<N>``, never the app's or another benchmark's), codes grade bands,
populations and settings like benchmarks/gaps.py, gives a researcher a few drafts of their own,
then sends each request through Django's full request stack (middleware, authentication,
throttling, django-filter, pagination, serializer or template) as an anonymous reader and as a
researcher with a token, and prints median and p95 latency, queries per request, the ratio to a
floor (hand-written SQL for the same page: the count and the page's rows, nothing else) and peak
memory. The anonymous throttle is raised for the run so that no request is refused.

    .venv/bin/python benchmarks/api.py --studies 10000
    .venv/bin/python benchmarks/api.py --studies 100000
"""

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench import code_vocabularies, django_on, peak_mb, print_machine, synthetic_base  # noqa: E402

API_PAGE = 50  # REST_FRAMEWORK["PAGE_SIZE"]
HTML_PAGE = 25  # studies.views.PAGE_SIZE
COLUMNS = "s.id, s.title, s.authors, s.year, s.venue, s.doi, s.design, s.sample_size, s.status"
PUBLISHED = "s.status = 'published'"
ELEMENT = (
    "EXISTS (SELECT 1 FROM studies_studytag t JOIN frameworks_element e ON e.id = t.element_id"
    " WHERE t.study_id = s.id AND e.code = 'LL.3')"
)
GRADE_BAND = (
    "EXISTS (SELECT 1 FROM studies_study_grade_bands x JOIN studies_gradeband g"
    " ON g.id = x.gradeband_id WHERE x.study_id = s.id AND g.code = '6-8')"
)
POPULATION = (
    "(EXISTS (SELECT 1 FROM studies_study_populations x JOIN studies_population p"
    " ON p.id = x.population_id WHERE x.study_id = s.id AND p.code = 'english_learners')"
    " OR EXISTS (SELECT 1 FROM studies_effectsize f JOIN studies_population p"
    " ON p.id = f.population_id WHERE f.study_id = s.id AND p.code = 'english_learners'))"
)


def words(*terms: str) -> str:
    """The floor's text match: the full-text index, the cheapest way to find words."""
    query = " ".join(terms)
    return f"s.search_vector @@ websearch_to_tsquery('english', '{query}')"


def summary(times: list[float]) -> tuple[float, float]:
    """Median and 95th percentile (nearest rank)."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--studies", type=int, default=10_000)
    parser.add_argument("--effects-per-study", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per case")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--only", default="", help="run only the cases whose name has this text")
    args = parser.parse_args()
    url = (
        args.database_url or f"postgres://postgres@127.0.0.1:5432/evidence_api_bench_{args.studies}"
    )
    os.environ["API_THROTTLE_ANON"] = "1000000/min"
    os.environ["API_THROTTLE_USER"] = "1000000/min"
    django_on(url)
    synthetic_base(studies=args.studies, effects_per_study=args.effects_per_study, seed=args.seed)

    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from studies import roles
    from studies.constants import ReviewStatus
    from studies.models import Study

    coded = code_vocabularies(args.seed)
    if coded:
        print(f"coded {coded} grade band, population and setting links")
    researcher, _ = User.objects.get_or_create(username="bench-researcher")
    researcher.groups.add(Group.objects.get(name=roles.RESEARCHER))
    if not Study.objects.filter(created_by=researcher).exists():
        drafts = Study.objects.filter(status=ReviewStatus.DRAFT).values("pk")[:20]
        Study.objects.filter(pk__in=drafts).update(created_by=researcher)
    token, _ = Token.objects.get_or_create(user=researcher)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a settled table: index-only scans
    published = Study.objects.published().count()
    print(f"database: {url}\nstudies: {Study.objects.count()} ({published} published)")

    deep = max(2, int(published * 0.9) // API_PAGE)  # a page near the end of the public list
    anonymous = Client(HTTP_HOST="localhost")
    with_token = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token.key}")
    signed_in = Client(HTTP_HOST="localhost")
    signed_in.force_login(researcher)
    mine = f"({PUBLISHED} OR s.created_by_id = {researcher.pk})"
    api = "/api/v1/studies/"
    by_year = "s.year DESC, s.title"
    # name, client, path, floor (WHERE, ORDER BY, page size, offset)
    cases = [
        ("API first page", anonymous, api, (PUBLISHED, by_year, API_PAGE, 0)),
        (
            f"API deep page ({deep})",
            anonymous,
            f"{api}?page={deep}",
            (PUBLISHED, by_year, API_PAGE, (deep - 1) * API_PAGE),
        ),
        (
            "API q=learning (every study)",
            anonymous,
            f"{api}?q=learning",
            (f"{PUBLISHED} AND {words('learning')}", by_year, API_PAGE, 0),
        ),
        (
            "API q=self-monitoring (none)",
            anonymous,
            f"{api}?q=self-monitoring",
            (f"{PUBLISHED} AND {words('self-monitoring')}", by_year, API_PAGE, 0),
        ),
        (
            "API element=LL.3",
            anonymous,
            f"{api}?element=LL.3",
            (f"{PUBLISHED} AND {ELEMENT}", by_year, API_PAGE, 0),
        ),
        (
            "API design=rct",
            anonymous,
            f"{api}?design=rct",
            (f"{PUBLISHED} AND s.design = 'rct'", by_year, API_PAGE, 0),
        ),
        (
            "API grade_band=6-8",
            anonymous,
            f"{api}?grade_band=6-8",
            (f"{PUBLISHED} AND {GRADE_BAND}", by_year, API_PAGE, 0),
        ),
        (
            "API population=english_learners",
            anonymous,
            f"{api}?population=english_learners",
            (f"{PUBLISHED} AND {POPULATION}", by_year, API_PAGE, 0),
        ),
        (
            "API year 2010-2015",
            anonymous,
            f"{api}?year_min=2010&year_max=2015",
            (f"{PUBLISHED} AND s.year BETWEEN 2010 AND 2015", by_year, API_PAGE, 0),
        ),
        (
            "API ordering=-sample_size",
            anonymous,
            f"{api}?ordering=-sample_size",
            (PUBLISHED, "s.sample_size DESC", API_PAGE, 0),
        ),
        (
            "API combined (element, design, band, year, q)",
            anonymous,
            f"{api}?element=LL.3&design=rct&grade_band=6-8&year_min=2010&q=learning",
            (
                f"{PUBLISHED} AND {ELEMENT} AND s.design = 'rct' AND {GRADE_BAND}"
                f" AND s.year >= 2010 AND {words('learning')}",
                by_year,
                API_PAGE,
                0,
            ),
        ),
        ("API researcher first page", with_token, api, (mine, by_year, API_PAGE, 0)),
        (
            "API researcher element=LL.3",
            with_token,
            f"{api}?element=LL.3",
            (f"{mine} AND {ELEMENT}", by_year, API_PAGE, 0),
        ),
        (
            "API researcher combined",
            with_token,
            f"{api}?element=LL.3&design=rct&grade_band=6-8&year_min=2010&q=learning",
            (
                f"{mine} AND {ELEMENT} AND s.design = 'rct' AND {GRADE_BAND}"
                f" AND s.year >= 2010 AND {words('learning')}",
                by_year,
                API_PAGE,
                0,
            ),
        ),
        ("HTML /studies/", anonymous, "/studies/", (PUBLISHED, by_year, HTML_PAGE, 0)),
        (
            "HTML /studies/?q=learning",
            anonymous,
            "/studies/?q=learning",
            (f"{PUBLISHED} AND {words('learning')}", by_year, HTML_PAGE, 0),
        ),
        (
            "HTML /studies/?q=self-monitoring",
            anonymous,
            "/studies/?q=self-monitoring",
            (f"{PUBLISHED} AND {words('self-monitoring')}", by_year, HTML_PAGE, 0),
        ),
        (
            "HTML /studies/ filtered, researcher",
            signed_in,
            "/studies/?element=LL.3&design=rct&grade_band=6-8&year_min=2010",
            (
                f"{PUBLISHED} AND {ELEMENT} AND s.design = 'rct' AND {GRADE_BAND}"
                " AND s.year >= 2010",
                by_year,
                HTML_PAGE,
                0,
            ),
        ),
        (
            "HTML /search/?q=learning (ranked)",
            anonymous,
            "/search/?q=learning",
            (f"{PUBLISHED} AND {words('learning')}", "s.year DESC", HTML_PAGE, 0),
        ),
    ]

    def floor(where: str, order: str, limit: int, offset: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM studies_study s WHERE {where}")
            cursor.fetchone()
            cursor.execute(
                f"SELECT {COLUMNS} FROM studies_study s WHERE {where}"
                f" ORDER BY {order} LIMIT {limit} OFFSET {offset}"
            )
            cursor.fetchall()

    cpu: list[float] = []  # this process's CPU time per request: Django's share, less noisy

    def timed(fn) -> list[float]:
        fn()  # warm up
        times = []
        cpu.clear()
        for _ in range(args.requests):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        return times

    print(
        f"{args.requests} requests per case after one warm-up; median / p95 wall time; median CPU"
        " time of this process (Django, not PostgreSQL); queries per request; floor = count +"
        " page rows in hand-written SQL; load = 1-minute load average"
    )
    worst = 0.0
    for name, client, path, floor_args in cases:
        if args.only and args.only not in name:
            continue

        def get(c=client, p=path):
            response = c.get(p)
            assert response.status_code == 200, (p, response.status_code)
            return response

        med, p95 = summary(timed(get))
        cpu_med = statistics.median(cpu)
        floor_med, _ = summary(timed(lambda a=floor_args: floor(*a)))
        connection.force_debug_cursor = True
        connection.queries_log.clear()
        response = get()
        queries = len(connection.queries)
        sql_ms = sum(float(q["time"]) for q in connection.queries) * 1000
        connection.force_debug_cursor = False
        count = response.json()["count"] if path.startswith("/api/") else "-"
        worst = max(worst, p95)
        load = os.getloadavg()[0]
        print(
            f"  {name:<46} {med * 1000:6.0f} / {p95 * 1000:4.0f} ms  cpu {cpu_med * 1000:4.0f} ms"
            f"  {queries:2d} queries ({sql_ms:4.0f} ms SQL)  floor {floor_med * 1000:5.1f} ms"
            f" ({med / floor_med:5.1f}x)  count {count}  load {load:.1f}"
        )
    print(f"slowest p95: {worst * 1000:.0f} ms (target < 300 ms)")
    print(f"peak RSS of this process: {peak_mb():.0f} MB")
    print_machine()


if __name__ == "__main__":
    main()

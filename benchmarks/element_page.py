"""Benchmark: the educator's element page at scale (target: under 150 ms at 100,000 studies).

Uses the synthetic evidence base that benchmarks/recompute.py builds (run that first, same
--studies), renders /elements/<code>/ through Django's full request stack, and prints median and
p95 latency, queries per request and peak memory: rendered (the cache emptied before each request,
what a signed-in reader or the first reader after a change gets) and cached (what anonymous readers
get while the evidence is unchanged).

    .venv/bin/python benchmarks/element_page.py --studies 100000 --element LL.3
"""

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--studies", type=int, default=100_000)
    parser.add_argument("--element", default="LL.3")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    url = f"postgres://postgres@127.0.0.1:5432/evidence_bench_{args.studies}"
    os.environ.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings", DJANGO_DEBUG="true"
    )
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from studies.models import Study

    client = Client(HTTP_HOST="localhost")
    path = f"/elements/{args.element}/"
    assert client.get(path).status_code == 200  # warm up
    print(f"database: {url} ({Study.objects.count()} studies)")
    for label, empty_cache in (("rendered", True), ("cached", False)):
        times = []
        for _ in range(args.requests):
            if empty_cache:
                cache.clear()
            start = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
        if empty_cache:
            cache.clear()
        connection.force_debug_cursor = True  # count the queries of one more request
        connection.queries_log.clear()
        client.get(path)
        queries = len(connection.queries)
        connection.force_debug_cursor = False
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(
            f"GET {path} {label}: median {statistics.median(times) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms, {queries} queries per request  (target < 150 ms)"
        )
    print(f"peak memory (RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()

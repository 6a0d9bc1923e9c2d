"""Load test: the production server (gunicorn, DEBUG off, Redis cache) on loopback, under a
realistic mix of readers, searchers and researchers, at 10, 50 and 100 concurrent users.

It builds (or reuses) its own synthetic database evidence_load_<N>, recomputes the evidence once
if no summaries exist, makes a researcher with an API token, starts gunicorn with the workers
docker-compose.yml runs, and drives it with locust (`pip install -e ".[load]"`):

- the mix (benchmarks/locustfile.py Visitor): 80% reads (element pages, study pages, API reads),
  15% search (site search, API filtered search), 5% researcher writes (a draft study, an effect)
  through the API with the token; each user sends its next request as soon as the last one is
  answered (LOAD_THINK_SECONDS=0), so N users keep N requests in flight;
- the ceiling: the element page alone against GET /healthz/ alone (a Django view with no
  database) on the same server, at --ceiling-users users. Target: zero errors, element page at
  least half the trivial view's throughput.

    .venv/bin/python benchmarks/load.py [--studies 10000] [--users 10,50,100] [--seconds 25]

The machine's load average is printed next to every figure: the timings are only as quiet as the
machine was.
"""

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ROOT, django_on, peak_mb, researcher_token, synthetic_base
from server import WORKERS, Gunicorn, collectstatic, production_env

RESEARCHER = "load-researcher"


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def prepare(args) -> tuple[str, dict]:
    """The database, its evidence summaries, the researcher and what the users will ask for."""
    url = f"postgres://postgres@127.0.0.1:5432/evidence_load_{args.studies}"
    django_on(url)
    synthetic_base(studies=args.studies, effects_per_study=args.effects_per_study, seed=args.seed)
    from evidence.models import EvidenceSummary
    from evidence.services import evidence_recompute_all
    from frameworks.models import Element
    from studies.models import Study

    if not EvidenceSummary.objects.exists():
        start = time.perf_counter()
        evidence_recompute_all()
        print(f"recomputed the evidence in {time.perf_counter() - start:.1f} s")
    rng = random.Random(args.seed)
    published = list(Study.objects.published().values_list("id", flat=True))
    titles = Study.objects.published().values_list("title", flat=True)[:2000]
    words = sorted({w.lower() for t in titles for w in re.findall(r"[A-Za-z]{6,}", t)})
    plan = {
        "elements": list(Element.objects.order_by("code").values_list("code", flat=True)),
        "studies": rng.sample(published, min(2000, len(published))),
        "words": rng.sample(words, min(200, len(words))),
        "token": researcher_token(RESEARCHER),
    }
    print(
        f"database: {url} ({Study.objects.count()} studies, {len(published)} published, "
        f"{len(plan['elements'])} elements)"
    )
    return url, plan


def locust(base: str, user_class: str, users: int, seconds: int, plan_path: str, out: Path):
    """Run locust headless against the server; the aggregated row and the rows per request."""
    prefix = out / f"{user_class}_{users}"
    before = os.times()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "benchmarks" / "locustfile.py"),
            user_class,
            "--headless",
            "--only-summary",
            "--host",
            base,
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "10",
            "--csv",
            str(prefix),
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "LOAD_PLAN": plan_path},
        check=False,  # locust exits 1 when any request failed: we report the failures
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    after = os.times()
    with open(f"{prefix}_stats.csv") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    with open(f"{prefix}_failures.csv") as f:
        failures = [
            f"{row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error']}"
            for row in csv.DictReader(f)
        ]
    driver_cpu = (after.children_user + after.children_system) - (
        before.children_user + before.children_system
    )
    return rows, failures, driver_cpu


def figures(row: dict) -> str:
    return (
        f"{float(row['Requests/s']):7.1f} req/s  p50 {row['50%']:>5} ms  p95 {row['95%']:>5} ms  "
        f"p99 {row['99%']:>5} ms  errors {row['Failure Count']}/{row['Request Count']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--studies", type=int, default=10_000)
    parser.add_argument("--effects-per-study", type=float, default=4.4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--users", default="10,50,100", help="user levels of the mix; '' for none")
    parser.add_argument("--seconds", type=int, default=25)
    parser.add_argument("--ceiling-users", type=int, default=20)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=WORKERS)
    args = parser.parse_args()
    url, plan = prepare(args)
    from django.db import connections

    connections.close_all()
    env = production_env(url)
    collectstatic(env)
    out = Path(tempfile.mkdtemp(prefix="evidence-load-"))
    plan_path = out / "plan.json"
    plan_path.write_text(json.dumps(plan))
    print(
        f"gunicorn: {args.workers} sync workers on 127.0.0.1:{args.port}, DEBUG off, "
        f"cache and broker {env['CACHE_URL']}; {os.cpu_count()} cores; locust CSVs in {out}"
    )
    results = {}
    with (
        open(out / "gunicorn.log", "w") as log,
        Gunicorn(env, args.port, args.workers, log) as server,
    ):
        # Warm up: every worker imports its templates and opens its connection.
        locust(server.base, "Visitor", 6, 5, str(plan_path), out)
        for users in [int(n) for n in args.users.split(",") if n]:
            cpu = server.cpu_seconds()
            rows, failures, driver_cpu = locust(
                server.base, "Visitor", users, args.seconds, str(plan_path), out
            )
            total = rows["Aggregated"]
            results[users] = total
            print(
                f"\nmix, {users:3d} users, {args.seconds} s: {figures(total)}  "
                f"(load {loadavg()}; server CPU {server.cpu_seconds() - cpu:.0f} s, "
                f"locust CPU {driver_cpu:.0f} s)"
            )
            for name, row in sorted(rows.items()):
                if name != "Aggregated":
                    print(f"    {name:28s} {figures(row)}")
            for line in failures:
                print(f"    FAILED {line}")
        ceiling, cpu_ms = {}, {}
        for user_class, name in (("HealthChecker", "healthz"), ("ElementReader", "element page")):
            cpu = server.cpu_seconds()
            rows, failures, driver_cpu = locust(
                server.base, user_class, args.ceiling_users, args.seconds, str(plan_path), out
            )
            ceiling[name] = float(rows["Aggregated"]["Requests/s"])
            cpu_ms[name] = (
                (server.cpu_seconds() - cpu) * 1000 / int(rows["Aggregated"]["Request Count"])
            )
            print(
                f"\n{name} alone, {args.ceiling_users} users: {figures(rows['Aggregated'])}  "
                f"(load {loadavg()}; server CPU {server.cpu_seconds() - cpu:.0f} s, "
                f"locust CPU {driver_cpu:.0f} s)"
            )
            for line in failures:
                print(f"    FAILED {line}")
        peaks = server.peak_rss_mb()
    ratio = ceiling["element page"] / ceiling["healthz"]
    print(
        f"server CPU per request: element page {cpu_ms['element page']:.2f} ms, healthz "
        f"{cpu_ms['healthz']:.2f} ms, ratio {cpu_ms['healthz'] / cpu_ms['element page']:.2f} "
        "(steadier than req/s when the machine is shared)"
    )
    errors = sum(int(row["Failure Count"]) for row in results.values())
    print(
        f"\nelement page / trivial view throughput: {ratio:.2f} (target >= 0.5)"
        f"{'' if ratio >= 0.5 else ': NOT MET'}"
    )
    print(f"errors in the mix: {errors} (target 0)")
    print(
        f"peak memory: gunicorn workers {', '.join(f'{mb:.0f}' for mb in peaks.values())} MB RSS; "
        f"this script {peak_mb():.0f} MB"
    )
    print(f"machine load (1/5/15 min): {loadavg()}")
    print(
        f"reproduce: .venv/bin/python benchmarks/load.py --studies {args.studies} "
        f"--users {args.users} --seconds {args.seconds}"
    )


if __name__ == "__main__":
    main()

"""Fault test: PostgreSQL restarted while the production server is under load, writes included.

Starts a throwaway PostgreSQL 15 of its own (initdb in a temporary folder, a free port from 55432,
run as the postgres user since initdb refuses root), migrates and seeds a small synthetic base,
starts gunicorn with the production settings against it, sends reads and researcher writes from
a few threads, restarts that PostgreSQL (pg_ctl restart -m fast) in the middle, and checks:

- every request that failed got a clean 503 (a page, or JSON under /api/) with Retry-After, never
  a 500, a traceback or a dropped connection;
- every write that was answered 2xx is in the database afterwards, whole (effects converted, the
  audit trail written with the row), and nothing is orphaned;
- the site recovers by itself: requests succeed again within a few seconds of PostgreSQL being
  back, without restarting gunicorn.

Prints PASS or FAIL per check and exits 1 on any FAIL. The machine's PostgreSQL is not touched.

    .venv/bin/python benchmarks/fault_pg_restart.py [--seconds-before 3] [--seconds-after 6]
"""

import argparse
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench import django_on, researcher_token, synthetic_base
from server import Gunicorn, collectstatic, production_env

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
RESEARCHER = "fault-researcher"
RECOVERY_SECONDS = 5.0  # after PostgreSQL is back, every request must succeed again by then


def free_port(start: int) -> int:
    for port in range(start, start + 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError(f"no free port from {start}")


class ThrowawayPostgres:
    """A PostgreSQL server of this script's own, in a temporary folder, removed at the end."""

    def __init__(self, port: int):
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="evidence-fault-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        shutil.chown(self.dir, "postgres", "postgres")

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def pg_ctl(self, *args: str) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", *args)

    def __enter__(self) -> "ThrowawayPostgres":
        self._as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-o", options, "-l", str(self.log), "start")
        return self

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Outcome:
    at: float  # seconds since the load started, when the answer came
    kind: str
    status: int | None  # None: no HTTP answer at all
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    error: str = ""


class Load:
    """Threads sending element pages, study reads and researcher writes until stopped."""

    def __init__(self, base: str, token: str, codes: list[str], study_ids: list[int], threads=6):
        self.base, self.token, self.codes, self.study_ids = base, token, codes, study_ids
        self.outcomes: list[Outcome] = []
        self.created_studies: dict[int, str] = {}  # acknowledged: id -> title
        self.created_effects: dict[int, int] = {}  # acknowledged: effect id -> study id
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def now(self) -> float:
        return time.monotonic() - self.started

    def _send(self, kind: str, path: str, payload: dict | None = None) -> Outcome:
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.9.9.9"}
        data = None
        if payload is not None:
            headers |= {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}
            data = json.dumps(payload).encode()
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                outcome = Outcome(
                    self.now(), kind, response.status, response.read(), dict(response.headers)
                )
        except urllib.error.HTTPError as exc:
            outcome = Outcome(self.now(), kind, exc.code, exc.read(), dict(exc.headers))
        except OSError as exc:  # refused, reset, dropped, timed out
            outcome = Outcome(self.now(), kind, None, error=f"{type(exc).__name__}: {exc}")
        with self.lock:
            self.outcomes.append(outcome)
        return outcome

    def _run(self, n: int) -> None:
        rng = random.Random(n)
        draft = None
        while not self.stop.is_set():
            roll = rng.random()
            if roll < 0.4:
                self._send("element page", f"/elements/{rng.choice(self.codes)}/")
            elif roll < 0.7:
                self._send("api study", f"/api/v1/studies/{rng.choice(self.study_ids)}/")
            elif roll < 0.85 or draft is None:
                title = f"Fault test draft {uuid.uuid4()}"
                study = {"title": title, "authors": ["Fault, F."], "year": 2024, "design": "rct"}
                outcome = self._send("api create draft", "/api/v1/studies/", study)
                if outcome.status == 201:
                    draft = json.loads(outcome.body)["id"]
                    with self.lock:
                        self.created_studies[draft] = title
            else:
                effect = {
                    "input": "smd",
                    "outcome_domain": "mathematics",
                    "value": 0.3,
                    "variance": 0.02,
                }
                outcome = self._send("api add effect", f"/api/v1/studies/{draft}/effects/", effect)
                if outcome.status == 201:
                    with self.lock:
                        self.created_effects[json.loads(outcome.body)["id"]] = draft


def clean_503(outcome: Outcome) -> bool:
    """A 503 the way config/availability.py answers it: Retry-After and a readable body."""
    if outcome.status != 503 or "Retry-After" not in outcome.headers:
        return False
    if outcome.kind.startswith("api"):
        try:
            return "try again" in json.loads(outcome.body)["detail"]
        except (ValueError, KeyError):
            return False
    return b"Unavailable for a moment" in outcome.body and b"Traceback" not in outcome.body


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--studies", type=int, default=300)
    parser.add_argument("--seconds-before", type=float, default=3.0)
    parser.add_argument("--seconds-after", type=float, default=6.0)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    started = time.monotonic()
    results: list[tuple[bool, str]] = []

    def check(ok: bool, text: str) -> None:
        results.append((ok, text))
        print(f"{'PASS' if ok else 'FAIL'}  {text}", flush=True)

    with ThrowawayPostgres(free_port(55432)) as pg:
        url = pg.url("evidence_fault")
        django_on(url)
        synthetic_base(studies=args.studies, effects_per_study=3.0, seed=7)
        from django.db import connections

        from evidence.services import evidence_recompute_all
        from frameworks.models import Element
        from studies.models import EffectSize, Study, StudyTag

        evidence_recompute_all()
        token = researcher_token(RESEARCHER)
        codes = list(Element.objects.values_list("code", flat=True))
        study_ids = list(Study.objects.published().values_list("id", flat=True)[:200])
        before = {
            "studies": Study.objects.count(),
            "effects": EffectSize.objects.count(),
            "tags": StudyTag.objects.count(),
        }
        connections.close_all()
        env = production_env(url)
        collectstatic(env)
        port = args.port or free_port(8865)
        log_path = pg.dir / "gunicorn.log"
        with open(log_path, "w") as log, Gunicorn(env, port, log=log) as server:
            print(
                f"PostgreSQL on {pg.port}, gunicorn on {port}; set up in "
                f"{time.monotonic() - started:.0f} s",
                flush=True,
            )
            with Load(server.base, token, codes, study_ids) as warmup:
                time.sleep(3)  # every worker booted, every element page cached: steady state
            with Load(server.base, token, codes, study_ids) as load:
                time.sleep(args.seconds_before)
                down_at = load.now()
                pg.pg_ctl("-m", "fast", "restart")
                back_at = load.now()
                print(
                    f"restarted PostgreSQL at {down_at:.1f} s, accepting again at {back_at:.1f} s",
                    flush=True,
                )
                time.sleep(args.seconds_after)
            outcomes = sorted(load.outcomes, key=lambda o: o.at)
            healthz = server.base
        gunicorn_log = log_path.read_text()

        ok = [o for o in outcomes if o.status is not None and o.status < 400]
        failed = [o for o in outcomes if not (o.status is not None and o.status < 400)]
        print(
            f"{len(outcomes)} requests: {len(ok)} answered 2xx/3xx, {len(failed)} not "
            f"({len({o.status for o in failed})} kinds: "
            f"{sorted({str(o.status or o.error.split(':')[0]) for o in failed})})"
        )
        dropped = [o for o in failed if o.status is None]
        check(
            not dropped,
            f"no dropped connection ({len(dropped)} dropped"
            + (f", e.g. {dropped[0].kind}: {dropped[0].error}" if dropped else "")
            + ")",
        )
        unclean = [o for o in failed if o.status is not None and not clean_503(o)]
        check(
            not unclean,
            f"every failed request got a clean 503 with Retry-After and a page or "
            f"JSON body ({len(failed) - len(dropped) - len(unclean)} clean 503s, "
            f"{len(unclean)} other"
            + (f", e.g. {unclean[0].kind} {unclean[0].status}" if unclean else "")
            + ")",
        )
        check(
            "Traceback" not in "".join(o.body.decode(errors="replace") for o in failed),
            "no traceback in any response body",
        )
        check(
            any(o.at < down_at for o in ok) and bool(failed) or not failed,
            f"the restart happened under load ({sum(o.at < down_at for o in ok)} requests "
            f"answered before it)",
        )

        after_back = [o for o in outcomes if o.at > back_at]
        first_ok = next((o.at for o in after_back if o in ok), None)
        late_failures = [o for o in after_back if o.at > back_at + RECOVERY_SECONDS and o not in ok]
        recovered = first_ok is not None and not late_failures
        check(
            recovered,
            f"recovered by itself: first success {first_ok - back_at:.2f} s after "
            f"PostgreSQL was back, {len(late_failures)} failures after {RECOVERY_SECONDS:.0f} s "
            f"(of {sum(o.at > back_at + RECOVERY_SECONDS for o in outcomes)} requests)"
            if first_ok is not None
            else "recovered by itself: no request succeeded afterwards",
        )

        connections.close_all()  # this process's connection did not survive the restart
        from simple_history.utils import get_history_model_for_model

        # Writes answered 2xx, during the warm-up and the measured run.
        acked_studies = warmup.created_studies | load.created_studies
        acked_effects = warmup.created_effects | load.created_effects
        studies = dict(Study.objects.filter(pk__in=acked_studies).values_list("pk", "title"))
        check(
            studies == acked_studies,
            f"every acknowledged study is stored ({len(studies)}/{len(acked_studies)})",
        )
        effects = dict(
            EffectSize.objects.filter(
                pk__in=acked_effects, g__isnull=False, variance__isnull=False
            ).values_list("pk", "study_id")
        )
        check(
            effects == acked_effects,
            f"every acknowledged effect is stored, converted, on its study "
            f"({len(effects)}/{len(acked_effects)})",
        )
        mine = Study.objects.filter(created_by__username=RESEARCHER)
        study_history = get_history_model_for_model(Study)
        effect_history = get_history_model_for_model(EffectSize)
        without_history = mine.exclude(
            pk__in=study_history.objects.filter(history_type="+").values("id")
        ).count()
        effects_without = (
            EffectSize.objects.filter(study__in=mine)
            .exclude(pk__in=effect_history.objects.filter(history_type="+").values("id"))
            .count()
        )
        check(
            without_history == 0 and effects_without == 0,
            f"no half-written row: every study and effect written has its audit entry "
            f"({without_history} studies, {effects_without} effects without)",
        )
        after = {
            "studies": Study.objects.count(),
            "effects": EffectSize.objects.count(),
            "tags": StudyTag.objects.count(),
        }
        extra_studies = after["studies"] - before["studies"]
        extra_effects = after["effects"] - before["effects"]
        check(
            mine.count() == extra_studies
            and EffectSize.objects.filter(study__in=mine).count() == extra_effects
            and after["tags"] == before["tags"]
            and not EffectSize.objects.filter(study__isnull=True).exists()
            and not StudyTag.objects.filter(study__isnull=True).exists(),
            f"counts consistent, no orphans: +{extra_studies} studies, +{extra_effects} effects, "
            f"tags {before['tags']} -> {after['tags']} (a write whose answer was lost may be "
            f"stored: {extra_studies - len(studies)} studies, {extra_effects - len(effects)} effects)",
        )
        boots = gunicorn_log.count("Booting worker")
        check(
            boots == server.workers and "WORKER TIMEOUT" not in gunicorn_log,
            f"no worker died or timed out: {boots} workers booted for {server.workers}",
        )
        connections.close_all()
    print(f"ran in {time.monotonic() - started:.0f} s ({healthz})")
    failed_checks = [text for ok, text in results if not ok]
    print("FAIL" if failed_checks else "PASS")
    return 1 if failed_checks else 0


if __name__ == "__main__":
    sys.exit(main())

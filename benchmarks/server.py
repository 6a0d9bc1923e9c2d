"""gunicorn with the production settings, as the benchmarks that send HTTP load start it.

Production means DJANGO_DEBUG=false, a generated secret key, the manifest static files (collected
first), the Redis cache and broker, SECURE_SSL_REDIRECT on: clients send X-Forwarded-Proto: https
as the proxy would.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# gunicorn's guidance for sync workers, 2 x cores + 1: requests wait on PostgreSQL and Redis, and
# docker-compose.yml's 3 on 2 cores leave a core idle during those waits (see README, Benchmarks).
WORKERS = 2 * (os.cpu_count() or 1) + 1
# A Redis database of the benchmarks' own (cache and broker), not the app's 0/1 nor the tests' 15.
REDIS_URL = "redis://127.0.0.1:6379/13"
# What DEBUG=false serves static files from: collectstatic must write its manifest.
MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment docker-compose.yml gives the web service, pointed at this database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DATABASE_URL": database_url,
        "CACHE_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def collectstatic(env: dict[str, str]) -> None:
    """The manifest the production static storage needs (as the Dockerfile builds it); skipped
    when it is newer than every static file of the project (compressing them takes minutes)."""
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    sources = [p for p in (ROOT / "static").rglob("*") if p.is_file()]
    if manifest.exists() and all(p.stat().st_mtime < manifest.stat().st_mtime for p in sources):
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={**env, "DJANGO_DEBUG": "true", "STATICFILES_STORAGE": MANIFEST_STORAGE},
        check=True,
    )


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """Status and body of a GET sent as the proxy would (HTTPS already terminated)."""
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Gunicorn:
    """Start gunicorn on a port; wait until /healthz/ answers; stop it with SIGTERM (graceful)."""

    def __init__(self, env: dict[str, str], port: int, workers: int = WORKERS, log=None):
        self.env, self.port, self.workers, self.log = env, port, workers, log
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "60",
                "--backlog",
                "2048",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self.log else subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                if get(self.base + "/healthz/", timeout=1)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not answer /healthz/ within 120 s")

    def worker_pids(self) -> list[int]:
        assert self.process
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def peak_rss_mb(self) -> dict[int, float]:
        """Peak resident memory (VmHWM) of each worker so far, in MB."""
        peaks = {}
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        return peaks

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.worker_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / ticks

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

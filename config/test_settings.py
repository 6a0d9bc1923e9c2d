"""Test settings: PostgreSQL when reachable (SQLite with a printed notice otherwise), fast hashing."""

import os
import socket
import sys

os.environ.setdefault("DJANGO_DEBUG", "true")

from .settings import *  # noqa: E402,F403
from .settings import env  # noqa: E402


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


if "DATABASE_URL" not in os.environ:
    if _reachable("127.0.0.1", 5432):
        DATABASES = {"default": env.db_url_config("postgres://postgres@127.0.0.1:5432/evidence")}
    elif os.environ.get("EVIDENCE_REQUIRE_SERVICES"):
        raise RuntimeError("EVIDENCE_REQUIRE_SERVICES is set but PostgreSQL is not reachable.")
    else:
        print(
            "NOTICE: PostgreSQL is not reachable on 127.0.0.1:5432; running the tests on SQLite.",
            file=sys.stderr,
        )
        DATABASES = {"default": env.db_url_config("sqlite://:memory:")}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# One test database per run, so parallel runs on one machine (several checkouts) never collide.
DATABASES["default"]["TEST"] = {"NAME": f"test_evidence_{os.getpid()}"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
CELERY_TASK_ALWAYS_EAGER = True
# Tests that start a real worker use their own Redis database, flushed before each such test.
CELERY_BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": None, "user": None, "token": "5/min"}  # noqa: F405

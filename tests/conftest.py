"""Named actors and shared fixtures."""

import os
import socket
from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import settings as hypothesis_settings

from studies import roles

from .factories import UserFactory

# Property-based tests without their own max_examples run this many cases: "ci" (the default)
# keeps the suite fast, HYPOTHESIS_PROFILE=thorough runs twenty times more (the fuzz tests scale
# from it too; see tests/security/fuzz.py).
hypothesis_settings.register_profile("ci", max_examples=100)
hypothesis_settings.register_profile("thorough", max_examples=2000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: cached pages and counters never leak between tests."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def anonymous(client):
    """An educator or funder: no account."""
    return client


@pytest.fixture
def educator(db):
    """An educator who signed up: an account, but no role."""
    return UserFactory(username="ed-educator")


@pytest.fixture
def researcher(db):
    return UserFactory(username="rita-researcher", roles=[roles.RESEARCHER])


@pytest.fixture
def other_researcher(db):
    """A researcher who does not own the studies the `researcher` created."""
    return UserFactory(username="otto-researcher", roles=[roles.RESEARCHER])


@pytest.fixture
def curator(db):
    return UserFactory(username="carl-curator", roles=[roles.CURATOR])


@pytest.fixture
def organiser(db):
    return UserFactory(username="olga-organiser", roles=[roles.CONVENING_ORGANISER])


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada-admin", is_staff=True, is_superuser=True)


@pytest.fixture
def actors(educator, researcher, other_researcher, curator, organiser, admin_user) -> dict:
    """The user behind each of tests.actors.ACTORS (None: anonymous)."""
    return {
        "anonymous": None,
        "educator": educator,
        "owner": researcher,
        "researcher": other_researcher,
        "curator": curator,
        "organiser": organiser,
        "admin": admin_user,
    }


@pytest.fixture
def seeded(db):
    """The real seed data, loaded by the same command users run."""
    call_command("load_seed_data", verbosity=0, stdout=StringIO())


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_broker(settings):
    """Tasks go to the tests' own Redis database (flushed first) instead of running eagerly."""
    if not _redis_reachable():
        if os.environ.get("EVIDENCE_REQUIRE_SERVICES"):
            pytest.fail("EVIDENCE_REQUIRE_SERVICES is set but Redis is not reachable on 6379.")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379; real-worker tests need it.")
    from config.celery import app

    app.conf.task_always_eager = False
    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()  # no leftovers from an earlier test
    try:
        yield app
    finally:
        app.conf.task_always_eager = True


@pytest.fixture
def celery_worker_on_redis_factory(redis_broker):
    """Start a real Celery worker (a thread running the worker loop) when the test says so."""
    from celery.contrib.testing.worker import start_worker

    return lambda: start_worker(
        redis_broker, pool="solo", perform_ping_check=False, shutdown_timeout=10
    )


@pytest.fixture
def celery_worker_on_redis(celery_worker_on_redis_factory):
    """A real Celery worker (a thread running the worker loop) consuming from Redis, not eager."""
    with celery_worker_on_redis_factory() as worker:
        yield worker

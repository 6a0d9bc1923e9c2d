"""A real Celery worker consuming from Redis (not eager) recomputes the evidence in the database."""

import os
import subprocess
import sys
import time

import pytest
from django.db import transaction

from evidence.models import DirtyElement, EvidenceSummary
from evidence.services import element_evidence_recompute, elements_mark_dirty
from evidence.tasks import sweep_dirty_elements
from frameworks.models import Element
from studies import services as study_services
from studies.constants import ReviewStatus
from studies.models import EffectSize
from tests.factories import ElementFactory, StudyFactory, StudyTagFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_worker_on_redis_recomputes_an_element_after_publish_edit_and_retract(
    celery_worker_on_redis,
):
    element = ElementFactory(code="LL.3")
    study = StudyFactory(status=ReviewStatus.SUBMITTED, wwc_rating="meets_with")
    StudyTagFactory(study=study, element=element)
    effect = study_services.effect_save(
        effect=EffectSize(
            study=study,
            outcome_domain="literacy",
            input_kind="smd",
            reported={"value": 0.25, "variance": 0.004},
        )
    )

    study_services.study_transition(study=study, action="publish")
    assert _wait_for(
        lambda: EvidenceSummary.objects.filter(element=element, outcome_domain="", k=1).exists()
    )
    summary = EvidenceSummary.objects.get(element=element, outcome_domain="")
    assert summary.rating == "moderate" and summary.estimate == pytest.approx(0.25)

    effect.reported = {"value": 0.5, "variance": 0.004}
    study_services.effect_save(effect=effect, expected_version=effect.version)
    assert _wait_for(
        lambda: EvidenceSummary.objects.filter(
            element=element, outcome_domain="", estimate__gt=0.49
        ).exists()
    )

    study_services.study_transition(study=study, action="retract")
    assert _wait_for(
        lambda: EvidenceSummary.objects.filter(
            element=element, outcome_domain="", rating="no_evidence"
        ).exists()
    )


@pytest.fixture
def worker_processes(redis_broker):
    """Start real worker processes on the test database; each is killed at the end if alive."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a database it can share: PostgreSQL")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        # Unacknowledged tasks come back after twice the time limit (the visibility timeout).
        "CELERY_TASK_SOFT_TIME_LIMIT": "2",
        "CELERY_TASK_TIME_LIMIT": "3",
    }
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _waiting_on_a_lock() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:  # pg_locks is live even inside a transaction
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_recompute_leaves_the_old_summary_and_the_task_comes_back(
    worker_processes,
):
    element = ElementFactory(code="LL.3")
    first = StudyFactory(status=ReviewStatus.PUBLISHED, wwc_rating="meets_with")
    StudyTagFactory(study=first, element=element)
    EffectSize.objects.create(
        study=first, outcome_domain="literacy", input_kind="smd", g=0.2, variance=0.01
    )
    element_evidence_recompute(element_id=element.pk)
    before = EvidenceSummary.objects.get(element=element, outcome_domain="")
    second = StudyFactory(status=ReviewStatus.PUBLISHED, wwc_rating="meets_with")
    StudyTagFactory(study=second, element=element)
    EffectSize.objects.create(
        study=second, outcome_domain="literacy", input_kind="smd", g=0.4, variance=0.01
    )

    elements_mark_dirty(element_ids=[element.pk])  # marks it and enqueues its recompute

    # Hold the element's row lock so the worker's recompute stops inside its transaction.
    with transaction.atomic():
        Element.objects.select_for_update().get(pk=element.pk)
        doomed = worker_processes()
        assert _wait_for(_waiting_on_a_lock), "the worker never reached the summary update"
        doomed.kill()  # SIGKILL: no cleanup, the task is neither finished nor acknowledged
        doomed.wait(timeout=10)

    after = EvidenceSummary.objects.get(element=element, outcome_domain="")
    assert (after.pk, after.k, after.estimate) == (before.pk, 1, pytest.approx(0.2))
    assert DirtyElement.objects.filter(element=element).exists()

    # A new worker gets the unacknowledged task back and converges to a clean run's result.
    # Redis hands it out again once it is older than the visibility timeout (6 s here); a
    # worker looks for such tasks as it starts, so start it after that.
    time.sleep(7)
    worker_processes()
    assert _wait_for(lambda: not DirtyElement.objects.exists(), timeout=60)
    summary = EvidenceSummary.objects.get(element=element, outcome_domain="")
    assert summary.k == 2 and summary.estimate == pytest.approx(0.3)
    assert EvidenceSummary.objects.filter(element=element, outcome_domain="").count() == 1


@pytest.fixture
def broker_down(redis_broker):
    """The broker points at a port where nothing listens, as when Redis is down; restored after."""
    app = redis_broker
    url = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/15"
    app.conf.broker_connection_timeout = 1
    app.conf.task_publish_retry = False
    app._pool = None
    app.amqp._producer_pool = None
    yield app
    app.conf.broker_url = url
    app.conf.task_publish_retry = True
    app._pool = None
    app.amqp._producer_pool = None


def test_researchers_save_while_redis_is_down_and_the_sweep_catches_up(
    broker_down, celery_worker_on_redis_factory
):
    element = ElementFactory(code="LL.3")
    study = StudyFactory(status=ReviewStatus.PUBLISHED, wwc_rating="meets_with")
    StudyTagFactory(study=study, element=element)

    # Redis is down: the save still succeeds and leaves the element marked dirty.
    effect = study_services.effect_save(
        effect=EffectSize(
            study=study,
            outcome_domain="literacy",
            input_kind="smd",
            reported={"value": 0.3, "variance": 0.01},
        )
    )
    assert EffectSize.objects.filter(pk=effect.pk, g__isnull=False).exists()
    assert DirtyElement.objects.filter(element=element).exists()
    assert not EvidenceSummary.objects.filter(element=element).exists()

    # Redis is back: the periodic sweep enqueues the recompute and a worker catches up.
    broker_down.conf.broker_url = "redis://127.0.0.1:6379/15"
    broker_down._pool = None
    broker_down.amqp._producer_pool = None
    with broker_down.connection_for_write() as conn:
        assert conn.default_channel.client.llen("celery") == 0  # nothing got through meanwhile
    with celery_worker_on_redis_factory():
        sweep_dirty_elements.delay()
        assert _wait_for(lambda: not DirtyElement.objects.exists())
    summary = EvidenceSummary.objects.get(element=element, outcome_domain="")
    assert summary.k == 1 and summary.estimate == pytest.approx(0.3)

"""A real Celery worker consuming from Redis (not eager) recomputes the evidence in the database."""

import time

import pytest

from evidence.models import EvidenceSummary
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

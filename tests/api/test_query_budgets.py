"""A query budget for every read of the API, lists first, on data with several rows per relation.

The endpoints come from the URL conf, so a new one fails here until it has a budget. The data has
several studies, effects, tags, facets, sessions, presenters, findings and history rows behind
each record, so an N+1 would blow any budget below by far more than its headroom.
"""

from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from evidence import services as evidence_services
from evidence.models import RecomputeJob
from frameworks.models import Component, Element
from studies import services as study_services
from studies.models import GradeBand, Population
from tests.factories import (
    ConveningFactory,
    EffectSizeFactory,
    FacetFactory,
    FindingFactory,
    FrameworkFactory,
    PresenterFactory,
    SessionFactory,
    StudyFactory,
    StudyTagFactory,
)

from .endpoints import api_endpoints

pytestmark = pytest.mark.django_db

ROWS = 6  # per relation: well above any fixed per-request overhead an N+1 could hide in

# The most queries one GET may make, as a curator (whose role checks cost a query or two):
# what it makes today plus a query or two of headroom, far below what an N+1 over ROWS adds.
BUDGETS = {
    "api-root": 0,
    "framework-list": 3,
    "framework-detail": 2,
    "component-list": 5,
    "component-detail": 4,
    "element-list": 5,
    "element-detail": 4,
    "evidence:element-evidence": 5,
    "evidence:gaps": 17,  # counted fresh; tests/evidence/test_gaps.py covers it at scale
    "evidence:job": 3,
    "study-list": 10,
    "study-detail": 9,
    "study-effects": 4,
    "study-tags": 4,
    "study-history": 8,
    "effect-detail": 3,
    "tag-detail": 3,
    "convening-list": 4,
    "convening-detail": 3,
    "session-list": 4,
    "session-detail": 3,
    "session-presenters": 3,
    "presenter-detail": 2,
    "finding-list": 5,
    "finding-detail": 4,
}
# The record a detail read is about (an attribute of `world`); list routes read the collection.
TARGETS = {
    "framework-detail": "framework",
    "component-detail": "component",
    "element-detail": "element",
    "evidence:element-evidence": "element",
    "evidence:job": "job",
    "study-detail": "study",
    "study-effects": "study",
    "study-tags": "study",
    "study-history": "study",
    "effect-detail": "effect",
    "tag-detail": "tag",
    "convening-detail": "convening",
    "session-detail": "session",
    "session-presenters": "session",
    "presenter-detail": "presenter",
    "finding-detail": "finding",
}
READS = {name: e for name, e in api_endpoints().items() if "GET" in e.methods}


@pytest.fixture
def world(curator) -> SimpleNamespace:
    """The seed taxonomy and ROWS of everything else, linked many to many."""
    call_command("load_seed_data", verbosity=0, stdout=StringIO())
    for version in ("2014", "2015"):
        FrameworkFactory(version=version, is_current=False)
    elements = list(Element.objects.current()[:ROWS])
    for element in elements:
        for _ in range(2):
            FacetFactory(element=element)
    bands, populations = list(GradeBand.objects.all()[:3]), list(Population.objects.all()[:3])
    studies = []
    for _ in range(ROWS):
        study = StudyFactory(created_by=curator)
        study.grade_bands.set(bands)
        study.populations.set(populations)
        for element in elements[:3]:
            StudyTagFactory(study=study, element=element, tagged_by=curator)
        for population in populations:
            EffectSizeFactory(study=study, population=population)
        study_services.study_update(
            study=study, data={"venue": "Edited venue"}, user=curator, expected_version=1
        )
        studies.append(study)
    for element in elements:
        evidence_services.element_evidence_recompute(element_id=element.pk)
    convenings = [ConveningFactory() for _ in range(3)]
    for convening in convenings:
        for order in range(ROWS):
            session = SessionFactory(convening=convening, order=order)
            for _ in range(3):
                PresenterFactory(session=session)
            finding = FindingFactory(session=session)
            finding.elements.set(elements[:3])
            finding.studies.set(studies[:3])
    study = studies[0]
    return SimpleNamespace(
        framework=elements[0].framework,
        component=Component.objects.get(
            code=elements[0].component.code, framework__is_current=True
        ),
        element=elements[0],
        study=study,
        effect=study.effects.first(),
        tag=study.tags.first(),
        job=RecomputeJob.objects.create(requested_by=curator),
        convening=convenings[0],
        session=session,
        presenter=session.presenters.first(),
        finding=finding,
    )


def test_every_read_has_a_budget():
    assert set(READS) == set(BUDGETS), {
        "without a budget": set(READS) - set(BUDGETS),
        "no such endpoint": set(BUDGETS) - set(READS),
    }


def test_every_read_stays_within_its_query_budget(world, curator, django_assert_max_num_queries):
    # One test over every read, so the data is built once.
    client = APIClient()
    client.force_authenticate(curator)
    for name, endpoint in sorted(READS.items()):
        target = getattr(world, TARGETS[name]) if name in TARGETS else None
        url = reverse(name, kwargs={k: getattr(target, k) for k in endpoint.kwargs})
        with django_assert_max_num_queries(BUDGETS[name], info=name):
            response = client.get(url)
        assert response.status_code == 200, (name, response.content[:300])
        body = response.json()
        if endpoint.is_list:
            assert body["count"] >= 3 and len(body["results"]) >= 3, f"{name}: too few rows"
        elif isinstance(body, list):
            assert len(body) >= 3, f"{name}: too few rows to expose an N+1"

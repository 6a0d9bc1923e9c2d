"""The study FilterSet behind /studies/ and /api/v1/studies/: related filters are semi-joins (each
study once, no DISTINCT, a query count that does not grow with the page) and words use the
full-text index on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from studies.models import GradeBand, Population
from tests.factories import (
    ComponentFactory,
    EffectSizeFactory,
    ElementFactory,
    FacetFactory,
    StudyFactory,
    StudyTagFactory,
)

pytestmark = pytest.mark.django_db
EVERY_RELATED_FILTER = {
    "element": "LL.3",
    "component": "LL",
    "grade_band": "6-8",
    "population": "english_learners",
    "outcome_domain": "mathematics",
}


def listed(params: dict) -> dict:
    return APIClient().get("/api/v1/studies/", params).json()


@pytest.fixture
def many_ways_in():
    """A study that meets every related filter through several rows of each table."""
    element = ElementFactory(code="LL.3", component=ComponentFactory(code="LL"))
    study = StudyFactory(year=2015, design="rct")
    StudyTagFactory(study=study, element=element)
    StudyTagFactory(study=study, element=element, facet=FacetFactory(element=element))
    StudyTagFactory(study=study, element=ElementFactory(code="LL.4", component=element.component))
    study.grade_bands.set(GradeBand.objects.filter(code__in=["6-8", "9-12"]))
    english_learners = Population.objects.get(code="english_learners")
    study.populations.set([english_learners])
    for _ in range(2):
        EffectSizeFactory(study=study, outcome_domain="mathematics", population=english_learners)
    StudyFactory(year=2016)  # matches none of them
    return study


@pytest.mark.parametrize("name", EVERY_RELATED_FILTER)
def test_a_study_reached_through_several_rows_is_listed_once(many_ways_in, name):
    page = listed({name: EVERY_RELATED_FILTER[name]})
    assert page["count"] == 1 and [s["id"] for s in page["results"]] == [many_ways_in.pk]


def test_related_filters_are_semi_joins_without_distinct(many_ways_in):
    with CaptureQueriesContext(connection) as queries:
        page = listed({**EVERY_RELATED_FILTER, "design": "rct", "q": "personalized"})
    assert page["count"] == 1
    assert not [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper()]


def test_a_filtered_page_costs_the_same_queries_for_forty_studies_as_for_one(
    django_assert_num_queries,
):
    element = ElementFactory(code="LL.3")
    grade = GradeBand.objects.get(code="6-8")

    def add(n: int) -> None:
        for _ in range(n):
            study = StudyFactory()
            StudyTagFactory(study=study, element=element)
            study.grade_bands.add(grade)
            EffectSizeFactory(study=study)

    params = {"element": "LL.3", "grade_band": "6-8", "ordering": "-year"}
    add(1)
    with CaptureQueriesContext(connection) as one:
        assert listed(params)["count"] == 1
    add(39)
    with django_assert_num_queries(len(one)):
        assert listed(params)["count"] == 40


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full text is PostgreSQL's")
def test_words_match_by_their_stem_in_title_authors_and_abstract():
    monitoring = StudyFactory(
        title="Students monitor their own progress", authors=["Zimmerman, B."]
    )
    StudyFactory(title="Teachers plan lessons", abstract="Self-monitoring was not studied.")
    StudyFactory(title="Unrelated work")
    assert listed({"q": "monitoring"})["count"] == 2
    assert [s["id"] for s in listed({"q": "monitoring -lessons"})["results"]] == [monitoring.pk]
    assert [s["id"] for s in listed({"q": "zimmerman"})["results"]] == [monitoring.pk]
    page = APIClient().get("/studies/", {"q": "monitor progress"})
    assert page.status_code == 200 and monitoring.title in page.content.decode()

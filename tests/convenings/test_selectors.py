"""Reads other apps call: findings and open questions for an element, simple search."""

import datetime

import pytest

from convenings import selectors
from tests.factories import (
    ConveningFactory,
    ElementFactory,
    FindingFactory,
    OrganizationFactory,
    PersonFactory,
    PresenterFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db


def test_findings_for_an_element_come_newest_convening_first_then_reports(
    django_assert_max_num_queries,
):
    element = ElementFactory(code="LL.3")
    old = SessionFactory(convening=ConveningFactory(date=datetime.date(2017, 1, 1)), order=1)
    new = ConveningFactory(date=datetime.date(2021, 1, 1))
    second, first = SessionFactory(convening=new, order=2), SessionFactory(convening=new, order=1)
    report = FindingFactory(session=None, convening=None, source="A report")
    made = [
        FindingFactory(session=old),
        FindingFactory(session=second),
        FindingFactory(session=first),
        report,
    ]
    for finding in made:
        finding.elements.add(element)
    FindingFactory(session=first)  # not linked
    with django_assert_max_num_queries(3):
        found = list(selectors.findings_for_element(element))
        assert [f.session.convening.pk for f in found if f.session]  # no extra query
    assert found == [made[2], made[1], made[0], report]


def test_open_questions_for_an_element_are_only_the_questions():
    element = ElementFactory(code="LF.1")
    question = FindingFactory(kind="open_question")
    recommendation = FindingFactory(kind="recommendation")
    question.elements.add(element)
    recommendation.elements.add(element)
    assert list(selectors.open_questions_for_element(element)) == [question]


def test_open_questions_for_many_elements_take_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    elements = [ElementFactory() for _ in range(5)]
    for element in elements:
        for _ in range(3):
            FindingFactory(kind="open_question").elements.add(element, elements[0])
    with django_assert_max_num_queries(4):  # the links, the findings and their prefetches
        by_element = selectors.open_questions_by_element(elements)
    assert len(by_element[elements[0].pk]) == 15
    assert all(len(by_element[e.pk]) == 3 for e in elements[1:])


def test_search_finds_findings_by_every_word_and_sessions_by_presenter():
    FindingFactory(text="Equity gaps close with MTSS", attribution="Eva Dundas")
    FindingFactory(text="Equity matters")
    assert [f.text for f in selectors.search_findings("equity dundas")] == [
        "Equity gaps close with MTSS"
    ]
    session = SessionFactory(title="Measuring professional learning")
    for name in ("Beth Holland", "Ling Zhang"):
        PresenterFactory(
            session=session,
            person=PersonFactory(name=name),
            organization=OrganizationFactory(name="The Learning Accelerator"),
        )
    assert list(selectors.search_sessions("learning accelerator")) == [session]
    assert list(selectors.search_sessions("holland measuring")) == [session]
    assert not selectors.search_sessions("   ").exists()
    assert not selectors.search_findings("").exists()

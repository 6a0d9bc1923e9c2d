import pytest
from django.urls import reverse

from frameworks.models import Element, Highlight
from studies.constants import ReviewStatus
from tests.factories import ComponentFactory, StudyFactory

pytestmark = pytest.mark.django_db


def test_home_page_lists_every_element_with_a_link(anonymous, seeded):
    response = anonymous.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for element in Element.objects.all():
        assert element.get_absolute_url() in html
        assert element.code in html
    assert "Learner Connected" in html


def test_home_page_query_count_does_not_grow_with_elements(
    anonymous, seeded, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        anonymous.get("/")


def test_element_page_shows_its_published_studies(anonymous, seeded):
    response = anonymous.get(reverse("frameworks:element", args=["LC.1"]))
    assert response.status_code == 200
    assert "Collaborate" in response.content.decode()


def test_an_unknown_element_is_not_found(anonymous, seeded):
    assert anonymous.get("/elements/XX.9/").status_code == 404


def test_a_component_highlight_cites_its_study_only_while_it_is_published(anonymous):
    component = ComponentFactory(code="LL")
    study = StudyFactory(title="Goal setting in grade six", status=ReviewStatus.PUBLISHED)
    Highlight.objects.create(component=component, text="Students set goals.", study=study)
    url = reverse("frameworks:component", args=["LL"])
    assert "Goal setting in grade six" in anonymous.get(url).content.decode()
    study.status = ReviewStatus.RETRACTED
    study.save()
    html = anonymous.get(url).content.decode()
    assert "Students set goals." in html and "Goal setting in grade six" not in html

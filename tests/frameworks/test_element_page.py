"""The educator's element page: rating in words, forest plot, filters, findings; bounded queries."""

import pytest
from django.urls import reverse

from evidence.services import evidence_recompute_all
from studies.models import GradeBand
from tests.factories import (
    EffectSizeFactory,
    ElementFactory,
    FindingFactory,
    StudyFactory,
    StudyTagFactory,
)

pytestmark = pytest.mark.django_db


def _evidence_base(element, n):
    for i in range(n):
        study = StudyFactory(wwc_rating="meets_without", design="rct" if i % 2 else "qed")
        StudyTagFactory(study=study, element=element)
        EffectSizeFactory(
            study=study, g=0.2 + i / 100, variance=0.01, significant=True, direction="favorable"
        )
        EffectSizeFactory(
            study=study, outcome_domain="literacy", g=0.1, variance=0.02, significant=False
        )
    evidence_recompute_all()


def test_the_element_page_says_the_rating_and_the_effect_in_plain_words(client):
    element = ElementFactory(code="LL.3")
    _evidence_base(element, 4)
    html = client.get(reverse("frameworks:element", args=["LL.3"])).content.decode()
    assert "Strong" in html
    assert "would move from the 50th to about the" in html
    assert "<svg" in html and "Forest plot of 4 studies" in html
    assert "Mathematics achievement" in html and "Reading and literacy achievement" in html


def test_an_element_without_evidence_says_so_and_points_to_the_gap_report(client):
    ElementFactory(code="LD.6")
    evidence_recompute_all()
    html = client.get("/elements/LD.6/").content.decode()
    assert "No evidence yet" in html and 'href="/gaps/"' in html


@pytest.mark.parametrize("n", [3, 30])
def test_the_element_page_costs_the_same_queries_whatever_the_data_size(
    client, n, django_assert_max_num_queries
):
    element = ElementFactory(code="LL.3")
    _evidence_base(element, n)
    with django_assert_max_num_queries(14):
        response = client.get("/elements/LL.3/")
    assert response.status_code == 200


def test_the_studies_can_be_filtered_by_grade_band_with_a_shareable_url(client):
    element = ElementFactory(code="LL.3")
    middle = StudyFactory(title="Middle school goal setting")
    middle.grade_bands.add(GradeBand.objects.get(code="6-8"))
    StudyTagFactory(study=middle, element=element)
    StudyTagFactory(study=StudyFactory(title="High school goal setting"), element=element)
    html = client.get("/elements/LL.3/?grade_band=6-8").content.decode()
    assert "Middle school goal setting" in html and "High school goal setting" not in html


def test_the_filter_updates_in_place_for_htmx_requests(client):
    element = ElementFactory(code="LL.3")
    StudyTagFactory(study=StudyFactory(title="Goal setting study"), element=element)
    response = client.get("/elements/LL.3/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Goal setting study" in html and "<html" not in html


def test_related_convening_findings_appear_on_the_element_page(client):
    element = ElementFactory(code="LL.3")
    finding = FindingFactory(text="Student voice needs better measures")
    finding.elements.add(element)
    assert "Student voice needs better measures" in client.get("/elements/LL.3/").content.decode()


def test_unpublished_studies_never_show_on_public_pages(client):
    element = ElementFactory(code="LL.3")
    draft = StudyFactory(title="Secret draft finding", status="draft")
    StudyTagFactory(study=draft, element=element)
    assert "Secret draft finding" not in client.get("/elements/LL.3/").content.decode()
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert "Secret draft finding" not in client.get("/search/?q=Secret").content.decode()
    assert "Secret draft finding" not in client.get("/studies/").content.decode()


def test_text_fields_are_rendered_escaped(client):
    element = ElementFactory(code="LL.3", title="<script>alert(1)</script>")
    study = StudyFactory(title="<img src=x onerror=alert(1)>", abstract="<b>bold</b>")
    StudyTagFactory(study=study, element=element)
    for url in ["/elements/LL.3/", study.get_absolute_url(), "/studies/", "/"]:
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html, url


def test_the_anonymous_element_page_is_served_from_the_cache_without_a_query(
    client, django_assert_num_queries
):
    element = ElementFactory(code="LL.3")
    _evidence_base(element, 3)
    first = client.get("/elements/LL.3/")
    with django_assert_num_queries(0):
        second = client.get("/elements/LL.3/")
    assert second.status_code == 200 and second.content == first.content
    assert second["Content-Security-Policy"]


def test_the_cached_page_changes_as_soon_as_a_published_study_behind_it_changes(
    client, django_capture_on_commit_callbacks
):
    from studies import services as study_services

    element = ElementFactory(code="LL.3")
    _evidence_base(element, 3)
    client.get("/elements/LL.3/")
    study = StudyFactory(wwc_rating="meets_without", title="A study published just now")
    StudyTagFactory(study=study, element=element)
    with django_capture_on_commit_callbacks(execute=True):  # the change commits
        study_services.study_update(study=study, data={"venue": "Journal"}, expected_version=1)
    assert "A study published just now" in client.get("/elements/LL.3/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        evidence_recompute_all()  # what the worker does next
    assert "A study published just now" in client.get("/elements/LL.3/").content.decode()


def test_a_signed_in_reader_gets_their_own_page_not_the_cached_one(client, researcher):
    ElementFactory(code="LL.3")
    evidence_recompute_all()
    client.get("/elements/LL.3/")
    client.force_login(researcher)
    assert "rita-researcher" in client.get("/elements/LL.3/").content.decode()


def test_an_unknown_element_is_still_404(client):
    assert client.get("/elements/XX.9/").status_code == 404


def test_the_element_page_is_rendered_from_the_database_when_the_cache_is_down(client, monkeypatch):
    from frameworks import views

    ElementFactory(code="LL.3")
    evidence_recompute_all()

    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(views.cache, "get", down)
    monkeypatch.setattr(views.cache, "set", down)
    assert client.get("/elements/LL.3/").status_code == 200

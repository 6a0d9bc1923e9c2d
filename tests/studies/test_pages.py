"""Public study pages: citation and exports, the list, search."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ElementFactory, StudyFactory, StudyTagFactory

pytestmark = pytest.mark.django_db


def test_a_study_page_gives_an_apa_citation_and_reference_manager_files(client):
    study = StudyFactory(
        title="Peer tutoring in algebra",
        authors=["Lee, K.", "Ortiz, M."],
        year=2018,
        venue="Journal of Math Education",
        volume="12",
        issue="3",
        pages="45-67",
        doi="10.1234/jme.2018.45",
    )
    html = client.get(study.get_absolute_url()).content.decode()
    assert (
        "Lee, K., &amp; Ortiz, M. (2018). Peer tutoring in algebra. Journal of Math Education, 12(3), 45-67. https://doi.org/10.1234/jme.2018.45"
        in html
    )
    ris = client.get(f"/studies/{study.pk}/cite.ris")
    assert ris["Content-Disposition"].endswith('.ris"')
    body = ris.content.decode()
    assert (
        "TY  - JOUR" in body
        and "AU  - Lee, K." in body
        and "DO  - 10.1234/jme.2018.45" in body
        and "SP  - 45" in body
    )
    bib = client.get(f"/studies/{study.pk}/cite.bib").content.decode()
    assert bib.startswith("@article{lee2018peer,") and "pages = {45--67}" in bib


def test_the_study_list_export_follows_the_filters(client):
    element = ElementFactory(code="LL.3")
    StudyTagFactory(study=StudyFactory(title="Tagged study"), element=element)
    StudyFactory(title="Other study")
    csv = client.get("/studies/export.csv?element=LL.3").content.decode()
    assert "Tagged study" in csv and "Other study" not in csv


def test_search_ranks_title_matches_first(client):
    StudyFactory(title="Effects of mindset interventions", abstract="")
    StudyFactory(title="A study of tutoring", abstract="Mentions mindset once in passing.")
    html = client.get("/search/?q=mindset").content.decode()
    assert html.index("Effects of mindset interventions") < html.index("A study of tutoring")


def test_search_finds_elements_and_narrows_studies_by_design(client):
    ElementFactory(code="LL.3", title="Reflect on learning and refine strategies")
    StudyFactory(title="Reflection journals", design="rct")
    StudyFactory(title="Reflection interviews", design="qualitative")
    html = client.get("/search/?q=reflection&design=rct").content.decode()
    assert "Reflection journals" in html and "Reflection interviews" not in html
    assert "Reflect on learning" in client.get("/search/?q=reflect").content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full text is PostgreSQL's")
def test_search_matches_the_words_once_per_query_and_counts_each_study_once_per_facet(client):
    first, second = ElementFactory(code="LL.3"), ElementFactory(code="LL.4")
    second.component = first.component
    second.save()
    study = StudyFactory(title="Mindset journals", design="rct")
    StudyTagFactory(study=study, element=first)
    StudyTagFactory(study=study, element=second)
    StudyFactory(title="Mindset interviews", design="qualitative")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/search/?q=mindset&design=rct")
    facets = {name: list(rows) for name, rows in response.context["facets"].items()}
    assert facets["design"] == [{"design": "rct", "n": 1}]
    assert [row["n"] for row in facets["component"]] == [1]  # two tags, one study
    searched = [q["sql"] for q in queries if "@@" in q["sql"]]
    assert searched and all(sql.count("@@") == 1 for sql in searched)
    assert not [sql for sql in searched if "DISTINCT" in sql and "component" not in sql]


def test_pages_have_a_query_budget(client, seeded, django_assert_max_num_queries):
    from studies.models import Study

    study = Study.objects.filter(effects__isnull=False).first()
    for url, budget in [
        ("/", 6),
        ("/studies/", 8),
        (study.get_absolute_url(), 12),
        ("/search/?q=learning", 16),
        ("/components/LL/", 8),
    ]:
        with django_assert_max_num_queries(budget):
            assert client.get(url).status_code == 200, url

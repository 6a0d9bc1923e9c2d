import json
from io import StringIO

import pytest
from django.core.management import call_command

from convenings.models import Convening, Finding, Presenter, Session
from frameworks.models import Component, Element, Facet, Highlight, OpenQuestion
from studies.models import Study, StudyTag

pytestmark = pytest.mark.django_db


def _load() -> dict:
    out = StringIO()
    call_command("load_seed_data", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_it_loads_the_four_components_and_eighteen_elements(seeded):
    assert list(Component.objects.values_list("code", flat=True)) == ["LC", "LF", "LL", "LD"]
    codes = list(Element.objects.values_list("code", flat=True))
    expected = (
        [f"LC.{i}" for i in range(1, 6)]
        + ["LF.1", "LF.2"]
        + [f"LL.{i}" for i in range(1, 6)]
        + [f"LD.{i}" for i in range(1, 7)]
    )
    assert codes == expected


def test_it_loads_the_sub_areas_of_lc4_and_lf1(seeded):
    assert Facet.objects.filter(element__code="LC.4").count() == 4
    assert Facet.objects.filter(element__code="LF.1").count() == 6
    assert Facet.objects.filter(element__code="LC.4", name__icontains="Workplace").exists()


def test_every_component_has_its_open_questions_and_headline_statistic(seeded):
    for component in Component.objects.all():
        assert OpenQuestion.objects.filter(component=component).exists(), component.code
        assert Highlight.objects.filter(component=component).exists(), component.code
    oreopoulos = Highlight.objects.get(statistic="40%")
    assert oreopoulos.study is not None and "Oreopoulos" in oreopoulos.study.authors[0]


def test_the_seed_text_has_no_ocr_leftovers(seeded):
    texts = list(Element.objects.values_list("title", flat=True)) + list(
        Element.objects.values_list("summary", flat=True)
    )
    assert not any("LG." in t or "*" in t for t in texts)


def test_every_cited_study_is_published_and_tagged(seeded):
    records = json.loads((__import__("pathlib").Path("studies/data/seed-studies.json")).read_text())
    assert Study.objects.published().count() == len(records)
    untagged = Study.objects.filter(tags__isnull=True, source_note__contains="002_")
    assert not untagged.exists()
    assert StudyTag.objects.count() >= len(records) - 2


def test_the_rand_study_records_its_mathematics_result(seeded):
    pane = Study.objects.get(title__startswith="Informing Progress")
    math = pane.effects.get(outcome_domain="mathematics")
    assert math.input_kind == "percentile_points"
    assert math.reported["points"] == 3
    assert math.significant is True
    reading = pane.effects.filter(outcome_domain="literacy").first()
    assert reading is None or reading.significant is False


def test_the_convening_has_every_session_in_agenda_order(seeded):
    convening = Convening.objects.get()
    assert convening.sponsor == "Leon Lowenstein Foundation"
    kinds = list(Session.objects.filter(convening=convening).values_list("kind", flat=True))
    assert kinds[0] == "opening" and kinds[-1] == "closing" and "keynote" in kinds
    assert Presenter.objects.filter(
        person__name="Susan Patrick", organization__name="Aurora Institute"
    ).exists()
    assert Presenter.objects.filter(
        person__name="Jilliam Joe", organization__name="LEAP Innovations"
    ).exists()


def test_rand_recommendations_are_findings_addressed_to_their_audiences(seeded):
    audiences = set(
        Finding.objects.filter(kind="recommendation", source__icontains="RAND").values_list(
            "audience", flat=True
        )
    )
    assert {"policymakers", "implementers", "funders"} <= audiences


def test_loading_twice_changes_nothing(seeded):
    before = {
        model.__name__: model.objects.count()
        for model in (Study, StudyTag, Element, Session, Presenter, Finding, Highlight)
    }
    second = _load()
    assert second["changed"] == 0, second
    after = {
        model.__name__: model.objects.count()
        for model in (Study, StudyTag, Element, Session, Presenter, Finding, Highlight)
    }
    assert after == before
    assert Study.history.filter(history_type="~").count() == 0

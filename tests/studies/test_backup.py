"""Full-database backup of the studies and convenings (backup_export) and its restore (backup_import)."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from convenings.models import Convening, Finding, Organization, Person, Presenter
from evidence.models import DirtyElement
from studies.constants import ReviewStatus
from studies.models import EffectSize, GradeBand, Population, Study, StudyTag
from tests.factories import (
    ConveningFactory,
    EffectSizeFactory,
    ElementFactory,
    FacetFactory,
    FindingFactory,
    PresenterFactory,
    SessionFactory,
    StudyFactory,
    StudyTagFactory,
)

pytestmark = pytest.mark.django_db


def export(path) -> dict:
    call_command("backup_export", str(path), stdout=StringIO())
    return json.loads(path.read_text(encoding="utf-8"))


def restore(path) -> str:
    out = StringIO()
    call_command("backup_import", str(path), stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple]:
    """Everything a backup promises to keep, without database ids."""
    rows = []
    for study in Study.objects.order_by("title"):
        rows.append(
            (
                study.title,
                study.doi,
                tuple(study.authors),
                study.year,
                study.status,
                study.version,
                study.published_at,
                study.created_at,
                study.wwc_rating,
                study.essa_tier,
                study.review_comment,
                study.created_by.username if study.created_by else None,
                tuple(study.grade_bands.values_list("code", flat=True)),
                tuple(study.populations.values_list("code", flat=True)),
                tuple(
                    study.effects.order_by("measure").values_list(
                        "outcome_domain",
                        "measure",
                        "input_kind",
                        "reported",
                        "g",
                        "variance",
                        "ci_low",
                        "significant",
                        "conversion",
                        "population__code",
                        "version",
                    )
                ),
                tuple(
                    study.tags.order_by("element__code", "facet__code").values_list(
                        "element__code", "facet__code", "relevance", "tagged_by__username"
                    )
                ),
            )
        )
    return rows


def convenings_snapshot() -> list[tuple]:
    """Every convening, session, presenter and finding a backup promises to keep, without ids."""
    rows: list[tuple] = [
        (c.slug, c.title, c.date, c.attendance, c.researchers_count, c.summary)
        for c in Convening.objects.order_by("slug")
    ]
    rows += [
        (p.session.convening.slug, p.session.order, p.session.title, p.session.media_links)
        + (p.person.name, p.organization.name if p.organization else None, p.title, p.order)
        for p in Presenter.objects.order_by("session__convening__slug", "session__order", "order")
    ]
    for finding in Finding.objects.order_by("text"):
        rows.append(
            (
                finding.convening.slug if finding.convening else None,
                finding.session.title if finding.session else None,
                finding.source,
                finding.source_study.title if finding.source_study else None,
                finding.kind,
                finding.audience,
                finding.text,
                finding.quote,
                finding.order,
                tuple(finding.elements.order_by("code").values_list("code", flat=True)),
                tuple(finding.studies.order_by("title").values_list("title", flat=True)),
            )
        )
    return rows


@pytest.fixture
def library(researcher, curator):
    element = ElementFactory(code="LC.4")
    facet = FacetFactory(element=element, code="workplace", name="Workplace experience")
    published = StudyFactory(
        title="Internships and persistence",
        doi="10.1/intern",  # held by the database though not well-formed: restored as it is
        authors=["Ä, Zoë", "Ng, B."],
        created_by=researcher,
        wwc_rating="meets_with",
        essa_tier=2,
        review_comment="Fine.",
    )
    published.grade_bands.set(GradeBand.objects.filter(code__in=["9-12", "6-8"]))
    published.populations.set(Population.objects.filter(code="english_learners"))
    EffectSizeFactory(study=published, measure="Credits earned", g=0.21, conversion="reported_smd")
    EffectSizeFactory(
        study=published,
        measure="Persistence",
        population=Population.objects.get(code="english_learners"),
        input_kind="means",
        reported={"mean_t": 1, "sd_t": 2, "n_t": 30, "mean_c": 0.5, "sd_c": 2, "n_c": 30},
    )
    StudyTagFactory(study=published, element=element, facet=facet, tagged_by=curator)
    StudyTagFactory(study=published, element=element, relevance="secondary")
    draft = StudyFactory(
        title="A draft without a DOI", doi=None, status=ReviewStatus.DRAFT, created_by=researcher
    )
    StudyTagFactory(study=draft, element=ElementFactory(code="LL.1"))
    _convenings(element, published, draft)
    return published, draft


def _convenings(element, published, draft) -> None:
    """A convening with a session (presenters, a linked finding), a finding of the convening as
    a whole, and a report's findings about a study; one study has a DOI and one has none.
    Orders count from 1 as the services number them: a restore keeps positions, not gaps."""
    session = SessionFactory(
        convening=ConveningFactory(slug="national-2019", researchers_count=60, attendance="60+"),
        order=2,
        title="Internships panel",
        media_links=[{"label": "Slides", "url": "https://example.org/slides.pdf"}],
    )
    PresenterFactory(session=session, order=1, title="Director")
    PresenterFactory(session=session, order=2, organization=None)
    linked = FindingFactory(
        session=session, order=1, text="Internships help", audience="researchers"
    )
    linked.elements.set([element])
    linked.studies.set([published, draft])
    FindingFactory(
        session=None,
        convening=session.convening,
        order=1,
        kind="recommendation",
        text="Fund replications",
    )
    for order, text in enumerate(["Report finding one", "Report finding two"], start=1):
        FindingFactory(
            session=None,
            convening=None,
            source="A 2017 report",
            source_study=published,
            order=order,
            text=text,
        ).studies.set([published])


def test_a_backup_restores_every_study_effect_tag_convening_and_finding(tmp_path, library):
    path = tmp_path / "backup.json"
    data = export(path)
    assert data["format"] == "evidence-base-studies" and len(data["studies"]) == 2
    before, convenings_before = snapshot(), convenings_snapshot()
    assert len(convenings_before) == 1 + 2 + 4  # one convening, two presenters, four findings

    Study.objects.all().delete()
    Convening.objects.all().delete()
    Finding.objects.all().delete()
    Person.objects.all().delete()
    Organization.objects.all().delete()
    assert not EffectSize.objects.exists() and not StudyTag.objects.exists()
    message = restore(path)

    assert "2 studies created" in message and "2 effects created" in message
    assert "3 tags created" in message and "1 convenings created" in message
    assert "4 findings created" in message and "2 presenters created" in message
    assert snapshot() == before
    assert convenings_snapshot() == convenings_before


def test_a_restore_refuses_findings_that_link_a_study_not_in_the_database(tmp_path, library):
    path = tmp_path / "backup.json"
    data = export(path)
    Convening.objects.all().delete()
    Finding.objects.all().delete()
    data["reports"][0]["findings"][0]["study_refs"] = ["doi:10.9/nowhere"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing restored.*doi:10.9/nowhere"):
        restore(path)
    assert not Finding.objects.exists()


def test_a_restore_into_a_populated_database_skips_what_is_there(tmp_path, library):
    path = tmp_path / "backup.json"
    export(path)
    published, draft = library
    draft.delete()
    message = restore(path)
    assert "1 studies skipped (already present)" in message and "1 studies created" in message
    assert Study.objects.count() == 2 and published.effects.count() == 2
    assert "1 convenings skipped (already present)" in message
    assert "1 reports skipped (already present)" in message
    assert restore(path).count("created") == 0  # a second run adds nothing


def test_a_restore_is_all_or_nothing(tmp_path, library):
    path = tmp_path / "backup.json"
    data = export(path)
    Study.objects.all().delete()
    data["studies"][1]["tags"] = [
        {
            "framework": "leap",
            "framework_version": "2017",
            "element": "XX.9",
            "relevance": "primary",
        }
    ]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing restored.*unknown element leap/2017/XX.9"):
        restore(path)
    assert not Study.objects.exists()


@pytest.mark.parametrize("content", ['{"format": "something else"}', "not json at all"])
def test_a_file_that_is_not_a_backup_is_refused(tmp_path, content):
    path = tmp_path / "backup.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError):
        restore(path)


def test_restored_published_studies_mark_their_elements_for_recompute(tmp_path, library):
    path = tmp_path / "backup.json"
    export(path)
    Study.objects.all().delete()
    DirtyElement.objects.all().delete()
    restore(path)
    dirty = set(DirtyElement.objects.values_list("element__code", flat=True))
    assert dirty == {"LC.4"}  # the published study's element, not the draft's


def test_an_empty_database_backs_up_and_restores_to_nothing(tmp_path):
    path = tmp_path / "backup.json"
    assert export(path)["studies"] == []
    assert "nothing" in restore(path)


def test_the_seed_data_survives_a_backup_and_a_restore_into_an_empty_database(tmp_path, seeded):
    path = tmp_path / "backup.json"
    export(path)
    before, convenings_before = snapshot(), convenings_snapshot()
    counts = (Study.objects.count(), Convening.objects.count(), Finding.objects.count())
    assert all(counts)

    Study.objects.all().delete()
    Convening.objects.all().delete()
    Finding.objects.all().delete()
    restore(path)

    assert (Study.objects.count(), Convening.objects.count(), Finding.objects.count()) == counts
    assert snapshot() == before
    assert convenings_snapshot() == convenings_before

"""Markup in any text a user or an import can write comes out escaped on every page type, in the
API, in the forest plot's SVG, and harmless in the RIS, BibTeX and CSV exports."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from convenings.services import media_links_clean
from evidence.services import evidence_recompute_all
from frameworks.models import Highlight
from studies import services
from studies.constants import ReviewStatus
from studies.exports import spreadsheet_safe, to_bibtex, to_csv, to_ris
from studies.models import Study
from studies.parsers import parse
from tests.factories import (
    ComponentFactory,
    ConveningFactory,
    EffectSizeFactory,
    ElementFactory,
    FacetFactory,
    FindingFactory,
    OpenQuestionFactory,
    OrganizationFactory,
    PersonFactory,
    PresenterFactory,
    SessionFactory,
    StudyFactory,
    StudyTagFactory,
)

from .fuzz import XSS

pytestmark = pytest.mark.django_db

# Fits the 30-character columns (volume, issue, pages).
SHORT = "<img src=x onerror=alert(1)>"
RAW = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def evil(label: str) -> str:
    return f"{label} {XSS}"


def assert_escaped(body: str, where: str, *, shown: bool = True) -> None:
    for raw in RAW:
        assert raw not in body, f"{where}: unescaped {raw!r}"
    if shown:
        # The payload did reach the page (escaped), so the test proves something.
        assert ESCAPED in body or SHORT.replace("<", "&lt;").replace(">", "&gt;") in body, where


@pytest.fixture
def world(researcher, curator):
    """Every text field of the taxonomy, studies, effects and convenings carries the payload."""
    component = ComponentFactory(
        code="LL",
        name=evil("component name"),
        tagline=evil("tagline"),
        summary=evil("component summary"),
        why_it_matters=evil("why it matters"),
        research_summary=evil("research summary"),
        quote=evil("quote"),
        quote_attribution=evil("attribution"),
    )
    element = ElementFactory(
        component=component, code="LL.3", title=evil("element"), summary=evil("element summary")
    )
    FacetFactory(element=element, name=evil("facet"))
    OpenQuestionFactory(component=component, text=evil("open question"), source=evil("source"))
    studies = []
    for i in range(3):
        study = StudyFactory(
            title=evil(f"study {i}"),
            authors=[evil("author"), "Doe, J."],
            venue=evil("venue"),
            volume=SHORT,
            issue=SHORT,
            pages=SHORT,
            abstract=evil("abstract"),
            country=evil("country")[:100],
            wwc_rating="meets_without",
            review_comment=evil("comment"),
        )
        StudyTagFactory(study=study, element=element)
        EffectSizeFactory(
            study=study,
            g=0.2 + i / 10,
            variance=0.02,
            significant=True,
            direction="favorable",
            measure=evil("measure"),
            notes=evil("notes"),
        )
        EffectSizeFactory(study=study, subgroup=evil("subgroup"), measure=evil("measure"))
        studies.append(study)
    Highlight.objects.create(
        component=component, statistic=SHORT, text=evil("highlight"), study=studies[0]
    )
    evidence_recompute_all()

    convening = ConveningFactory(
        slug="national",
        title=evil("convening"),
        host=evil("host"),
        context=evil("context"),
        sponsor=evil("sponsor"),
        attendance=evil("attendance"),
        goals=evil("goals"),
        summary=evil("convening summary"),
    )
    session = SessionFactory(
        convening=convening,
        title=evil("session"),
        summary=evil("session summary"),
        media_links=[{"label": evil("media"), "url": "https://example.org/?q=%3Cscript%3E"}],
    )
    person = PersonFactory(name=evil("presenter"), slug="presenter")
    organization = OrganizationFactory(name=evil("organization"), slug="organization")
    PresenterFactory(
        session=session,
        person=person,
        organization=organization,
        title=evil("presenter title"),
        summary=evil("presenter summary"),
    )
    finding = FindingFactory(
        session=session,
        text=evil("finding"),
        quote=evil("finding quote"),
        attribution=evil("finding attribution"),
        source=evil("finding source"),
    )
    finding.elements.add(element)
    finding.studies.add(studies[0])
    OpenQuestionFactory(component=component, text=evil("second open question"))

    # The researcher's own studies: a draft and one returned with the curator's comment.
    draft = StudyFactory(
        title=evil("draft"), status=ReviewStatus.DRAFT, created_by=researcher, venue=evil("v")
    )
    StudyFactory(
        title=evil("returned"),
        status=ReviewStatus.RETURNED,
        created_by=researcher,
        review_comment=evil("returned comment"),
    )
    # A published study a researcher has since changed and resubmitted: the curator's diff.
    changed = StudyFactory(
        title="Plain title", status=ReviewStatus.SUBMITTED, created_by=researcher
    )
    services.study_transition(study=changed, action="publish", user=curator)
    services.study_update(
        study=Study.objects.get(pk=changed.pk),
        data={"title": evil("new title"), "abstract": evil("new abstract")},
        user=curator,
    )
    Study.objects.filter(pk=changed.pk).update(status=ReviewStatus.SUBMITTED)
    return {
        "element": element,
        "study": studies[0],
        "studies": studies,
        "convening": convening,
        "session": session,
        "draft": draft,
        "changed": changed,
        "finding": finding,
    }


PUBLIC_PAGES = {
    "home": lambda w: "/",
    "component": lambda w: reverse("frameworks:component", args=["LL"]),
    "element": lambda w: reverse("frameworks:element", args=["LL.3"]),
    "element, htmx study list": lambda w: reverse("frameworks:element", args=["LL.3"]),
    "study list": lambda w: reverse("studies:list"),
    "study": lambda w: w["study"].get_absolute_url(),
    "search": lambda w: "/search/?q=alert",
    "convenings": lambda w: reverse("convenings:list"),
    "convening": lambda w: reverse("convenings:detail", args=["national"]),
    "session": lambda w: reverse("convenings:session", args=["national", w["session"].pk]),
    "person": lambda w: reverse("convenings:person", args=["presenter"]),
    "organization": lambda w: reverse("convenings:organization", args=["organization"]),
    "findings": lambda w: reverse("convenings:findings"),
    "gaps": lambda w: reverse("gaps:report"),
}


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_pages_show_markup_as_text(client, world, name):
    headers = {"HX-Request": "true"} if "htmx" in name else {}
    response = client.get(PUBLIC_PAGES[name](world), headers=headers)
    assert response.status_code == 200
    assert_escaped(response.content.decode(), name)


def test_the_forest_plot_labels_are_escaped_inside_the_svg(client, world):
    html = client.get(reverse("frameworks:element", args=["LL.3"])).content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert_escaped(svg, "forest plot")
    # The labels are text nodes of the drawing, not markup.
    assert "<script" not in svg and "onerror" not in svg.replace("onerror=alert(1)&gt;", "")


WORKSPACE_PAGES = {
    "dashboard": lambda w: reverse("workspace:dashboard"),
    "my studies": lambda w: reverse("workspace:studies"),
    "study": lambda w: reverse("workspace:study", args=[w["draft"].pk]),
    "study form": lambda w: reverse("workspace:study-edit", args=[w["draft"].pk]),
    "tags": lambda w: reverse("workspace:study-tags", args=[w["draft"].pk]),
    "new effect": lambda w: (
        reverse("workspace:effect-create", args=[w["draft"].pk]) + "?input_kind=means"
    ),
}


@pytest.mark.parametrize("name", WORKSPACE_PAGES)
def test_workspace_pages_show_markup_as_text(client, world, researcher, name):
    client.force_login(researcher)
    response = client.get(WORKSPACE_PAGES[name](world))
    assert response.status_code == 200
    assert_escaped(response.content.decode(), name)


@pytest.mark.parametrize("name", ["queue", "review", "dashboard"])
def test_curator_pages_and_the_review_diff_show_markup_as_text(client, world, curator, name):
    client.force_login(curator)
    url = {
        "queue": reverse("workspace:review-queue"),
        "review": reverse("workspace:review", args=[world["changed"].pk]),
        "dashboard": reverse("workspace:dashboard"),
    }[name]
    response = client.get(url)
    assert response.status_code == 200
    assert_escaped(response.content.decode(), name)


def test_markup_posted_to_the_calculator_comes_back_escaped(client, world, researcher):
    client.force_login(researcher)
    response = client.post(
        reverse("workspace:effect-preview"), {"input_kind": "means", "mean_t": XSS, "sd_t": XSS}
    )
    assert_escaped(response.content.decode(), "calculator", shown=False)


def test_an_import_preview_shows_markup_from_the_file_as_text(client, world, researcher):
    client.force_login(researcher)
    ris = f"TY  - JOUR\nTI  - {XSS}\nAU  - {XSS}\nPY  - 2020\nJO  - {XSS}\nER  - \n"
    upload = io.BytesIO(ris.encode())
    upload.name = "evil.ris"
    response = client.post(reverse("workspace_import:upload"), {"file": upload})
    assert response.status_code == 200
    assert_escaped(response.content.decode(), "import preview")


# --- The API --------------------------------------------------------------------------------

API_URLS = {
    "studies": lambda w: "/api/v1/studies/",
    "study": lambda w: f"/api/v1/studies/{w['study'].pk}/",
    "element": lambda w: "/api/v1/elements/LL.3/",
    "element evidence": lambda w: "/api/v1/elements/LL.3/evidence/",
    "convening": lambda w: "/api/v1/convenings/national/",
    "findings": lambda w: "/api/v1/findings/",
}


@pytest.mark.parametrize("name", API_URLS)
def test_the_api_returns_markup_as_json_strings_never_as_html(world, name):
    response = APIClient().get(API_URLS[name](world), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert RAW[0] in response.content.decode()  # the text as it was written, in a JSON string


def test_the_browsable_api_escapes_markup(world):
    response = APIClient().get(f"/api/v1/studies/{world['study'].pk}/", HTTP_ACCEPT="text/html")
    if response["Content-Type"].startswith("text/html"):
        assert_escaped(response.content.decode(), "browsable API", shown=False)


# --- Exports --------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_exports_neutralise_spreadsheet_formulas(formula):
    study = StudyFactory.build(title=formula, authors=[formula], venue=formula, abstract=formula)
    rows = list(csv.reader(io.StringIO(to_csv([study]))))
    header, row = rows
    for column in ("title", "authors", "venue", "abstract"):
        cell = row[header.index(column)]
        assert cell == "'" + formula, column


def test_numbers_stay_numbers_in_csv_exports():
    assert spreadsheet_safe(-0.25) == -0.25 and spreadsheet_safe("-0.25") == "-0.25"
    assert spreadsheet_safe("1e-3") == "1e-3" and spreadsheet_safe("-x") == "'-x"


def test_the_study_list_and_gap_csv_downloads_neutralise_formulas(client, world):
    StudyFactory(title='=HYPERLINK("http://evil")')
    body = client.get(reverse("studies:list-export", args=["csv"])).content.decode()
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body
    world["element"].title = "=1+1"
    world["element"].save()
    for table in ("matrix", "ranked"):
        rows = list(csv.reader(io.StringIO(client.get(f"/gaps/{table}.csv").content.decode())))
        assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row), table


def test_a_line_break_in_a_field_cannot_inject_a_ris_record():
    study = StudyFactory.build(
        title="Real title\nER  - \n\nTY  - JOUR\nTI  - Injected record\nPY  - 2020",
        authors=["Doe, J.\nTI  - Injected"],
        year=2019,
    )
    ris = to_ris([study])
    result = parse(ris.encode(), format="ris")
    assert len(result.records) == 1 and not result.errors
    assert result.records[0].title.startswith("Real title ER - TY - JOUR")


def test_a_backslash_or_brace_cannot_break_out_of_a_bibtex_field():
    study = StudyFactory.build(
        title="C:\\", abstract="} , note = {injected", venue="a}b{c", year=2019, authors=["Doe, J."]
    )
    result = parse(to_bibtex([study]).encode(), format="bibtex")
    assert len(result.records) == 1 and not result.errors
    record = result.records[0]
    assert record.title == "C:\\" and record.abstract == "} , note = {injected"
    assert record.venue == "a}b{c"


@pytest.mark.parametrize("fmt", ["ris", "bib", "csv"])
def test_exports_are_downloads_a_browser_never_renders_as_html(client, world, fmt):
    for url in (
        reverse("studies:export", args=[world["study"].pk, fmt]),
        reverse("studies:list-export", args=[fmt]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert not response["Content-Type"].startswith("text/html"), url
        assert response["Content-Disposition"].startswith("attachment"), url
        assert response["X-Content-Type-Options"] == "nosniff"


def test_session_media_links_must_be_web_addresses():
    for url in ("javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x"):
        with pytest.raises(ValidationError):
            media_links_clean([{"label": "x", "url": url}])

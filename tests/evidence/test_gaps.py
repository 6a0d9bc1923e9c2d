"""The funder gap report: gap kinds, cell counts, ranking, next levels; page, CSV and API agree."""

import csv
import io
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from evidence import gaps, rules
from evidence.gaps.facts import gap_facts_refresh
from evidence.services import evidence_recompute_all, study_tiers_refresh
from studies.constants import ReviewStatus
from studies.models import GradeBand, Population, Setting
from tests.factories import (
    ComponentFactory,
    EffectSizeFactory,
    ElementFactory,
    FindingFactory,
    FrameworkFactory,
    OpenQuestionFactory,
    StudyFactory,
    StudyTagFactory,
)

pytestmark = pytest.mark.django_db

NEXT_TIER_1_2 = rules.NEXT_TIER_1_2[0].upper() + rules.NEXT_TIER_1_2[1:]


@pytest.fixture(autouse=True)
def empty_cache():
    """The report caches its counts per evidence version: start every test without them."""
    cache.clear()
    yield
    cache.clear()


# --- A small evidence base ----------------------------------------------------------------------


@pytest.fixture
def framework(db):
    """Two components, four elements: LL.1-LL.3 and LD.1."""
    fw = FrameworkFactory()
    ll = ComponentFactory(framework=fw, code="LL", name="Learner Led", order=1)
    ld = ComponentFactory(framework=fw, code="LD", name="Learner Demonstrated", order=2)
    return {
        "LL.1": ElementFactory(component=ll, code="LL.1", title="Self-direction", order=1),
        "LL.2": ElementFactory(component=ll, code="LL.2", title="Goal setting", order=2),
        "LL.3": ElementFactory(component=ll, code="LL.3", title="Self-assessment", order=3),
        "LD.1": ElementFactory(component=ld, code="LD.1", title="Mastery", order=1),
    }


DESIGNS = {
    # tier the study earns with a significant favorable effect: (design, WWC rating, n, sites)
    1: ("rct", "meets_without", 400, 3),
    2: ("qed", "meets_with", 400, 3),
    3: ("correlational", "not_reviewed", 120, 1),
    4: ("qualitative", "not_reviewed", 30, 1),
}


def study(
    *elements,
    level=1,
    year=2020,
    status=ReviewStatus.PUBLISHED,
    effects=(("mathematics", True),),
    subgroups=(),
    populations=(),
    grade_bands=(),
    settings=(),
):
    """A study of the given design level tagged to the elements.

    ``effects``: whole-sample (outcome domain, significant and favorable?) pairs;
    ``subgroups``: (population code, outcome domain, significant and favorable?) triples.
    """
    design, wwc, n, sites = DESIGNS[level]
    s = StudyFactory(
        design=design, wwc_rating=wwc, sample_size=n, n_sites=sites, year=year, status=status
    )
    for element in elements:
        StudyTagFactory(study=s, element=element)
    for domain, favorable in effects if level < 4 else ():
        EffectSizeFactory(
            study=s, outcome_domain=domain, g=0.3 if favorable else 0.02, significant=favorable
        )
    for code, domain, favorable in subgroups:
        EffectSizeFactory(
            study=s,
            outcome_domain=domain,
            population=Population.objects.get(code=code),
            subgroup=code,
            g=0.3 if favorable else 0.02,
            significant=favorable,
        )
    s.populations.set(Population.objects.filter(code__in=populations))
    s.grade_bands.set(GradeBand.objects.filter(code__in=grade_bands))
    s.settings.set(Setting.objects.filter(code__in=settings))
    return s


def recompute(*studies):
    """What the services do for studies built with factories: store each study's tier and gap
    report facts, then (publishing) every element's summaries."""
    study_tiers_refresh(study_ids=[s.pk for s in studies])
    gap_facts_refresh(study_ids=[s.pk for s in studies])
    evidence_recompute_all()


def report(**params):
    choices = gaps.filter_choices()
    filters, errors = gaps.parse_filters(
        params, choices=choices, may_include_under_review=params.pop("_curator", False)
    )
    assert not errors, errors
    return gaps.gap_report(filters=filters, choices=choices)


def row(rep, code):
    return next(r for r in rep.rows if r.code == code)


def cell(rep, code, column):
    r = row(rep, code)
    return r.total if column == "all" else r.cells[[c.code for c in rep.columns].index(column)]


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- Kinds of gap -------------------------------------------------------------------------------


def test_an_element_without_studies_is_a_no_studies_gap_furthest_from_moderate(framework):
    recompute(study(framework["LL.3"], level=1))
    rep = report()
    ld1 = row(rep, "LD.1")
    assert (ld1.total.n_studies, ld1.total.distance, ld1.total.kinds) == (0, 3, ("no_studies",))
    assert ld1.total.strength == "No studies" and all(c.is_gap for c in ld1.cells)
    counts = {c.kind: c for c in rep.counts}
    assert counts["no_studies"].elements == 3  # LL.1, LL.2, LD.1


def test_studies_without_a_tier_1_2_study_are_a_rigor_gap(framework):
    recompute(
        study(framework["LL.1"], level=3),
        study(framework["LL.2"], level=4),
        study(framework["LL.3"], level=1, effects=(("mathematics", False),)),  # null result
        study(framework["LD.1"], level=2),
    )
    rep = report()
    assert [
        (r.code, r.total.best_tier, r.total.distance, "rigor" in r.total.kinds) for r in rep.rows
    ] == [
        ("LL.1", 3, 1, True),
        ("LL.2", 4, 2, True),
        ("LL.3", None, 2, True),  # a Tier 1 design with no significant effect earns no tier
        ("LD.1", 2, 0, False),
    ]
    assert row(rep, "LL.3").total.strength == "No tier"
    assert {c.kind: c.elements for c in rep.counts}["rigor"] == 3


def test_a_study_counts_for_a_population_through_its_populations_or_a_subgroup_effect(framework):
    ll3 = framework["LL.3"]
    recompute(
        study(ll3, level=3, populations=["english_learners"]),
        # Null for the whole sample, significant and favorable for low-income students.
        study(
            ll3,
            level=1,
            effects=(("mathematics", False),),
            subgroups=[("low_income", "mathematics", True)],
        ),
        # On Black students both ways: counted once.
        study(ll3, level=2, populations=["black"], subgroups=[("black", "literacy", False)]),
    )
    rep = report(dimension="population")
    assert (
        cell(rep, "LL.3", "english_learners").n_studies,
        cell(rep, "LL.3", "english_learners").best_tier,
    ) == (1, 3)
    assert (
        cell(rep, "LL.3", "low_income").n_studies,
        cell(rep, "LL.3", "low_income").best_tier,
    ) == (1, 1)
    assert (cell(rep, "LL.3", "black").n_studies, cell(rep, "LL.3", "black").best_tier) == (1, 2)
    swd = cell(rep, "LL.3", "students_with_disabilities")
    assert swd.n_studies == 0 and set(swd.kinds) == {"no_studies", "equity"}
    # Elements without any study have no equity gap: they have a plainer one.
    assert "equity" not in cell(rep, "LL.1", "students_with_disabilities").kinds
    missing = {p.code for p in row(rep, "LL.3").missing_populations}
    assert "students_with_disabilities" in missing and not missing & {
        "english_learners",
        "low_income",
        "black",
    }
    equity = {e.population.code: e for e in rep.equity}
    assert equity["low_income"].elements_with_tier_1_2 == 1
    assert equity["english_learners"].elements_with_tier_1_2 == 0
    assert equity["students_with_disabilities"].elements_missing == ("LL.3",)
    n_populations = Population.objects.count()
    assert {c.kind: c.cells for c in rep.counts}["equity"] == n_populations - 3


def test_evidence_only_older_than_the_chosen_year_is_a_recency_gap(framework):
    recompute(study(framework["LL.3"], level=1, year=2005), study(framework["LL.2"], year=2019))
    old = report(recent_year="2010")
    assert "recency" in row(old, "LL.3").total.kinds and row(old, "LL.3").total.latest_year == 2005
    assert "recency" not in row(old, "LL.2").total.kinds
    assert "recency" not in row(report(recent_year="2000"), "LL.3").total.kinds
    # Strong but old evidence is still listed, at distance 0, for its recency gap.
    listed = [(g.row.code, g.column) for g in old.ranked]
    assert ("LL.3", None) in listed and ("LL.2", None) not in listed


# --- Cells ----------------------------------------------------------------------------------------


def test_a_domain_cell_counts_studies_with_results_there_and_their_tier_for_that_outcome(
    framework,
):
    ll3 = framework["LL.3"]
    recompute(
        study(ll3, level=1, effects=(("mathematics", True), ("literacy", False))),
        study(ll3, level=3, effects=(("mathematics", True),)),
        study(ll3, level=4),  # no effects: in the total only
    )
    rep = report()
    assert (row(rep, "LL.3").total.n_studies, row(rep, "LL.3").total.best_tier) == (3, 1)
    math, literacy = cell(rep, "LL.3", "mathematics"), cell(rep, "LL.3", "literacy")
    assert (math.n_studies, math.best_tier, math.strength) == (2, 1, "Tier 1 (strong)")
    # ESSA tiers are per outcome: the Tier 1 study found nothing in literacy.
    assert (literacy.n_studies, literacy.best_tier, literacy.distance) == (1, None, 2)
    assert cell(rep, "LL.3", "science").is_gap


def test_grade_band_setting_and_design_columns_count_distinct_studies(framework):
    ll3 = framework["LL.3"]
    recompute(
        study(ll3, level=1, grade_bands=["6-8", "9-12"], settings=["urban"]),
        study(ll3, level=3, grade_bands=["6-8"], settings=["urban", "rural"]),
    )
    by_band = report(dimension="grade_band")
    assert [
        (c.column, c.n_studies, c.best_tier) for c in row(by_band, "LL.3").cells if c.n_studies
    ] == [
        ("6-8", 2, 1),
        ("9-12", 1, 1),
    ]
    by_setting = report(dimension="setting")
    assert cell(by_setting, "LL.3", "rural").best_tier == 3
    by_design = report(dimension="design")
    assert cell(by_design, "LL.3", "rct").n_studies == 1
    assert cell(by_design, "LL.3", "correlational").best_tier == 3
    # Design cells are shown but not ranked.
    assert all(g.column is None for g in by_design.ranked)


def test_filters_narrow_the_studies_counted(framework):
    ll3 = framework["LL.3"]
    recompute(
        study(ll3, level=1, year=2004, grade_bands=["6-8"]),
        study(ll3, level=3, year=2018, grade_bands=["3-5"], populations=["english_learners"]),
        study(framework["LD.1"], level=2, year=2019),
        study(ll3, level=2, year=2012, subgroups=[("black", "literacy", True)]),
    )
    assert row(report(year_min="2010"), "LL.3").total.best_tier == 2
    assert row(report(year_min="2013"), "LL.3").total.best_tier == 3
    assert row(report(year_max="2010"), "LL.3").total.n_studies == 1
    assert row(report(), "LL.3").total.n_studies == 3
    assert row(report(grade_band="6-8"), "LL.3").total.best_tier == 1
    assert row(report(population="english_learners"), "LL.3").total.n_studies == 1
    assert row(report(population="black"), "LL.3").total.best_tier == 2  # a subgroup result
    assert row(report(design="correlational"), "LL.3").total.n_studies == 1
    assert [r.code for r in report(component="LD").rows] == ["LD.1"]


# --- Ranking and next levels ------------------------------------------------------------------


def test_gaps_are_ranked_by_distance_from_moderate_evidence_elements_first(framework):
    recompute(
        study(framework["LL.1"], level=3, effects=(("mathematics", True),)),
        study(framework["LL.2"], level=4),
        study(
            framework["LL.3"],
            level=1,
            effects=(("mathematics", True), ("literacy", False)),
            populations=["english_learners"],
        ),
    )
    rep = report()
    order = [(g.row.code, g.column.code if g.column else None, g.cell.distance) for g in rep.ranked]
    elements_first = [o for o in order if o[1] is None]
    assert elements_first == [("LD.1", None, 3), ("LL.2", None, 2), ("LL.1", None, 1)]
    distances = [o[2] for o in order]
    assert distances == sorted(distances, reverse=True)
    # At distance 3 the element without any study comes before single empty cells.
    assert order[0] == ("LD.1", None, 3)
    # LL.3 has Tier 1 evidence: only its weaker cells are listed, never the element itself.
    ll3 = [o for o in order if o[0] == "LL.3"]
    assert ("LL.3", None, 0) not in ll3 and ("LL.3", "literacy", 2) in ll3
    assert [g.rank for g in rep.ranked] == list(range(1, len(rep.ranked) + 1))
    # LD.1 has no study at all: its empty cells are not repeated as gaps of their own.
    assert not [o for o in order if o[0] == "LD.1" and o[1]]


def test_each_gap_says_what_the_engine_would_need_for_the_next_level(framework):
    ll3 = framework["LL.3"]
    recompute(
        study(framework["LL.1"], level=3),
        study(ll3, level=1, populations=["black"]),
        study(ll3, level=3, populations=["english_learners"]),
        study(
            ll3,
            level=1,
            effects=(("mathematics", False),),
            subgroups=[("low_income", "mathematics", False)],
        ),
    )
    rep = report(dimension="population")
    gap = {(g.row.code, g.column.code if g.column else None): g for g in rep.ranked}
    # The element's stored summary (promising) says what moves it to moderate.
    ll1 = gap[("LL.1", None)].next_level
    assert (ll1.rating, ll1.text, ll1.stored) == ("moderate", NEXT_TIER_1_2 + ".", True)
    # A population cell without a stored summary: the engine's words, on that population.
    el = gap[("LL.3", "english_learners")].next_level
    assert el.text == NEXT_TIER_1_2 + " on English learners." and not el.stored
    swd = gap[("LL.3", "students_with_disabilities")].next_level
    assert (
        swd.text
        == "At least one published study tagged to this element on students with disabilities."
    )
    # A population with subgroup results has its own stored summary, in the engine's words.
    low = gap[("LL.3", "low_income")].next_level
    assert low.stored and low.text.endswith("for Students from low-income families.")
    # Once a filter changes the studies in view, stored summaries no longer describe them.
    filtered = report(dimension="population", year_min="2000")
    assert not any(g.next_level.stored for g in filtered.ranked)


def test_open_questions_come_from_the_snapshot_and_from_convenings(framework):
    ll3 = framework["LL.3"]
    OpenQuestionFactory(component=ll3.component, text="How do students learn to self-assess?")
    finding = FindingFactory(kind="open_question", text="Does peer feedback transfer?")
    finding.elements.add(ll3)
    FindingFactory(kind="finding", text="Not a question.").elements.add(ll3)
    FindingFactory(kind="open_question", text="About LD only.").elements.add(framework["LD.1"])
    recompute()
    rep = report()
    questions = row(rep, "LL.3").open_questions
    assert [(q.text, q.origin) for q in questions] == [
        ("How do students learn to self-assess?", "snapshot"),
        ("Does peer feedback transfer?", "convening"),
    ]
    assert questions[1].url == finding.convening.get_absolute_url()
    assert [q.text for q in row(rep, "LL.1").open_questions] == [
        "How do students learn to self-assess?"
    ]
    ll3_gap = next(g for g in rep.ranked if g.row.code == "LL.3")
    assert ll3_gap.row.open_questions == questions


def test_the_summary_is_computed_from_the_data(framework):
    recompute(
        study(framework["LL.3"], level=1, populations=["black"]), study(framework["LL.2"], level=3)
    )
    summary = report().summary
    assert "This report covers 4 elements and 2 published studies." in summary
    assert "3 of 4 elements have no study meeting Tier 1-2." in summary
    assert "2 of 4 elements have no study at all." in summary
    equity = next(s for s in summary if s.startswith("No element has Tier 1-2 evidence for"))
    assert "English learners" in equity and "Black students" not in equity
    assert "students with disabilities" in equity


def test_the_gap_filter_lists_only_that_kind(framework):
    recompute(study(framework["LL.3"], level=1, year=2001), study(framework["LL.2"], level=3))
    rep = report(gap="recency", recent_year="2010")
    assert [(g.row.code, g.column) for g in rep.ranked] == [("LL.3", None)]
    equity = report(gap="equity", equity_for="english_learners")
    assert {g.row.code for g in equity.ranked} == {"LL.2", "LL.3"}
    assert all("equity" in g.cell.kinds for g in equity.ranked)
    # Asking for equity gaps lists every element with one, even one with Tier 1-2 evidence.
    assert {g.row.code for g in report(gap="equity").ranked} == {"LL.2", "LL.3"}
    by_population = report(dimension="population", gap="equity", equity_for="english_learners")
    assert {g.column.code for g in by_population.ranked if g.column} == {"english_learners"}


# --- Page, CSV and API agree ----------------------------------------------------------------------

CELL = re.compile(
    r'<td class="gap-cell [^"]*" data-element="([^"]+)" data-column="([^"]+)" '
    r'data-studies="(\d+)" data-tier="(\d*)"'
)
RANKED = re.compile(r'<tr data-rank="(\d+)" data-element="([^"]+)" data-column="([^"]+)"')


@pytest.fixture
def evidence_base(framework):
    ll3 = framework["LL.3"]
    studies = [
        study(ll3, level=1, year=2012, populations=["english_learners"], grade_bands=["6-8"]),
        study(ll3, level=3, year=2016, subgroups=[("black", "mathematics", True)]),
        study(framework["LL.1"], ll3, level=2, year=2003, effects=(("literacy", True),)),
        study(framework["LL.2"], level=4, year=2021),
    ]
    recompute(*studies)
    return studies


@pytest.mark.parametrize(
    "query", ["", "?dimension=population&year_min=2000", "?dimension=grade_band"]
)
def test_the_page_the_csv_and_the_api_give_the_same_numbers(anonymous, evidence_base, query):
    page = anonymous.get(f"/gaps/{query}")
    assert page.status_code == 200
    html = page.content.decode()
    on_page = {(e, c): (int(n), int(t) if t else None) for e, c, n, t in CELL.findall(html)}

    body = api().get(f"/api/v1/gaps/{query}").json()
    in_api = {}
    for component in body["components"]:
        for element in component["elements"]:
            for c in [element["total"], *element["cells"]]:
                in_api[(element["code"], c["column"] or "all")] = (c["n_studies"], c["best_tier"])

    sep = "&" if query else "?"
    matrix = list(
        csv.DictReader(io.StringIO(anonymous.get(f"/gaps/matrix.csv{query}").content.decode()))
    )
    in_csv = {
        (r["element"], r["column"]): (
            int(r["n_studies"]),
            int(r["best_tier"]) if r["best_tier"] else None,
        )
        for r in matrix
    }
    api_csv = api().get(f"/api/v1/gaps/{query}{sep}format=csv").content.decode()
    assert api_csv == anonymous.get(f"/gaps/matrix.csv{query}").content.decode()

    assert on_page == in_api == in_csv
    assert len(on_page) == 4 * (1 + len(body["columns"]))

    ranked_page = [(int(r), e, c) for r, e, c in RANKED.findall(html)]
    ranked_api = [(g["rank"], g["element"], g["column"] or "all") for g in body["ranked"]]
    ranked_csv = [
        (int(r["rank"]), r["element"], r["column"] or "all")
        for r in csv.DictReader(
            io.StringIO(anonymous.get(f"/gaps/ranked.csv{query}").content.decode())
        )
    ]
    api_ranked_csv = api().get(f"/api/v1/gaps/{query}{sep}format=csv&table=ranked")
    assert api_ranked_csv["Content-Type"].startswith("text/csv")
    assert ranked_page == ranked_api[: len(ranked_page)] and ranked_api == ranked_csv
    for sentence in body["summary"]:
        assert sentence.replace("'", "&#x27;") in html


def test_a_cell_links_to_exactly_its_studies(anonymous, evidence_base):
    body = api().get("/api/v1/gaps/").json()
    ll3 = next(e for c in body["components"] for e in c["elements"] if e["code"] == "LL.3")
    for c in [ll3["total"], *ll3["cells"]]:
        if not c["n_studies"]:
            continue
        url = urlsplit(c["studies_url"])
        assert url.path == "/studies/"  # the study list page, same FilterSet as the API
        assert ("element", "LL.3") in parse_qsl(url.query)
        page = anonymous.get(c["studies_url"]).content.decode()
        listed = "study" if c["n_studies"] == 1 else "studies"
        assert f"{c['n_studies']} published {listed}." in page, c
        assert api().get(f"/api/v1/studies/?{url.query}").json()["count"] == c["n_studies"], c


def test_the_api_refuses_unknown_filters_and_the_page_ignores_them(anonymous, evidence_base):
    response = api().get("/api/v1/gaps/?dimension=colour&year_min=1066&design=astrology")
    assert response.status_code == 400
    assert set(response.json()) == {"dimension", "year_min", "design"}
    page = anonymous.get("/gaps/?dimension=colour")
    assert page.status_code == 200 and "ignored" in page.content.decode()
    assert api().get("/api/v1/gaps/?format=csv&table=nope").status_code == 400


# --- Studies under review: curators only ------------------------------------------------------------


@pytest.fixture
def under_review(framework):
    published = study(framework["LL.3"], level=3)
    submitted = study(framework["LL.3"], level=1, status=ReviewStatus.SUBMITTED)
    recompute(published, submitted)
    return submitted


def _ll3_total(body):
    return next(
        e["total"] for c in body["components"] for e in c["elements"] if e["code"] == "LL.3"
    )


def test_a_curator_can_include_studies_under_review(curator, under_review):
    body = api(curator).get("/api/v1/gaps/?include_under_review=1").json()
    assert body["filters"]["include_under_review"] is True
    assert (_ll3_total(body)["n_studies"], _ll3_total(body)["best_tier"]) == (2, 1)
    assert "status=published" not in _ll3_total(body)["studies_url"]
    default = api(curator).get("/api/v1/gaps/").json()
    assert _ll3_total(default)["n_studies"] == 1


def test_everyone_else_cannot_see_studies_under_review(researcher, under_review):
    for client in (api(), api(researcher)):
        body = client.get("/api/v1/gaps/?include_under_review=1").json()
        assert body["filters"]["include_under_review"] is False
        assert (_ll3_total(body)["n_studies"], _ll3_total(body)["best_tier"]) == (1, 3)


def test_only_curators_are_offered_the_under_review_filter(client, curator, under_review):
    assert "include_under_review" not in client.get("/gaps/").content.decode()
    client.force_login(curator)
    page = client.get("/gaps/?include_under_review=1").content.decode()
    assert 'name="include_under_review" value="1" checked' in page
    assert 'data-element="LL.3" data-column="all" data-studies="2"' in page


# --- Query budget and cache ----------------------------------------------------------------------

# Four vocabularies, the elements, the evidence version, six or seven counts, the stored
# summaries and two for open questions; from the cache, the seven counts are one lookup.
QUERY_BUDGET = 15
CACHED_BUDGET = 9


def _many_studies(framework, n):
    elements = list(framework.values())
    studies = [
        study(
            elements[i % 4],
            elements[(i + 1) % 4],
            level=1 + i % 4,
            year=2000 + i % 20,
            populations=["english_learners"] if i % 3 else [],
            grade_bands=["6-8"],
            subgroups=[("low_income", "mathematics", True)] if i % 2 else [],
        )
        for i in range(n)
    ]
    recompute(*studies)
    FindingFactory(kind="open_question").elements.add(elements[0])
    OpenQuestionFactory(component=elements[0].component)


@pytest.mark.parametrize("n_studies", [5, 40])
@pytest.mark.parametrize("dimension", ["outcome_domain", "population", "grade_band"])
def test_the_report_takes_the_same_number_of_queries_whatever_the_data_size(
    framework, anonymous, django_assert_max_num_queries, n_studies, dimension
):
    _many_studies(framework, n_studies)
    with django_assert_max_num_queries(QUERY_BUDGET):
        assert anonymous.get(f"/gaps/?dimension={dimension}").status_code == 200
    with django_assert_max_num_queries(CACHED_BUDGET):
        assert api().get(f"/api/v1/gaps/?dimension={dimension}").status_code == 200
    cache.clear()
    with django_assert_max_num_queries(QUERY_BUDGET):
        assert api().get(f"/api/v1/gaps/?dimension={dimension}&format=csv").status_code == 200


def test_a_curators_view_with_studies_under_review_has_the_same_budget(
    framework, client, curator, django_assert_max_num_queries
):
    _many_studies(framework, 40)
    client.force_login(curator)
    # A curator costs three more: the session, the user and the user's roles.
    with django_assert_max_num_queries(QUERY_BUDGET + 3):
        assert client.get("/gaps/?include_under_review=1").status_code == 200


def test_cached_counts_follow_each_recompute_of_the_published_evidence(
    framework, django_capture_on_commit_callbacks
):
    ll3 = framework["LL.3"]
    with django_capture_on_commit_callbacks(execute=True):  # a stored recompute's new version
        recompute(study(ll3, level=3))
    assert row(report(), "LL.3").total.n_studies == 1
    with CaptureQueriesContext(connection) as queries:
        report()
    assert len(queries) <= CACHED_BUDGET
    later = study(ll3, level=1)
    # Like the ratings, the report shows the evidence as of the last recompute.
    assert row(report(), "LL.3").total.n_studies == 1
    with django_capture_on_commit_callbacks(execute=True):
        recompute(later)
    again = row(report(), "LL.3").total
    assert (again.n_studies, again.best_tier) == (2, 1)


# --- The real seed data ------------------------------------------------------------------------------


def test_the_seeded_gap_map_shows_every_element(anonymous, seeded):
    page = anonymous.get("/gaps/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "of 18 elements" in html
    assert len({e for e, c, _, _ in CELL.findall(html) if c == "all"}) == 18
    assert "@page" not in html  # the print layout lives in the stylesheet


def test_the_beat_warmed_report_opens_from_the_cache_in_every_dimension(
    framework, anonymous, django_assert_max_num_queries
):
    _many_studies(framework, 5)
    from evidence.tasks import warm_gap_report

    assert warm_gap_report.delay().get() == 5  # eager here; beat runs it every minute
    for dimension in ["outcome_domain", "grade_band", "population", "setting", "design"]:
        with django_assert_max_num_queries(CACHED_BUDGET):
            assert anonymous.get(f"/gaps/?dimension={dimension}").status_code == 200

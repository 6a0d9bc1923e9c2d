"""The gap report's one aggregate query counts every cell as counting study by study would."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studies.constants import ReviewStatus
from studies.models import Study

from .test_gaps import framework, recompute, report, study  # noqa: F401 (framework: a fixture)

pytestmark = pytest.mark.django_db

POPULATIONS = ["english_learners", "low_income", "black", "students_with_disabilities"]
DOMAINS = ["mathematics", "literacy", "attendance"]


@pytest.fixture
def random_evidence(framework):  # noqa: F811
    """Forty studies with every kind of variation the report counts, from a fixed seed."""
    rng = random.Random(7)
    elements = list(framework.values())
    studies = []
    for _ in range(40):
        tagged = rng.sample(elements[:3], rng.choice([1, 1, 2]))  # LD.1 stays without studies
        studies.append(
            study(
                *tagged,
                level=rng.choice([1, 2, 3, 4]),
                year=rng.randrange(2000, 2024),
                status=rng.choice([ReviewStatus.PUBLISHED] * 3 + [ReviewStatus.SUBMITTED]),
                effects=[(d, rng.random() < 0.5) for d in rng.sample(DOMAINS, rng.randrange(3))],
                subgroups=[
                    (p, rng.choice(DOMAINS), rng.random() < 0.5)
                    for p in rng.sample(POPULATIONS, rng.choice([0, 0, 1, 2]))
                ],
                populations=rng.sample(POPULATIONS, rng.choice([0, 0, 1])),
                grade_bands=rng.sample(["k-2", "3-5", "6-8", "9-12"], rng.choice([0, 1, 2])),
                settings=rng.sample(["school_day", "out_of_school"], rng.choice([0, 1])),
            )
        )
    recompute(*studies)
    return framework


def _study_facts(study_):
    """What one study contributes to each column: {dimension: {code: best tier there}}."""
    tier = study_.essa_tier
    level = study_.essa_reason.get("design_level")
    effects = list(study_.effects.select_related("population"))
    on = {p.code: tier for p in study_.populations.all()}
    for e in effects:
        if e.population is not None:
            favorable = bool(e.significant) and e.g > 0
            earned = 4 if level == 4 else (level if favorable and level in (1, 2, 3) else None)
            on[e.population.code] = _best(on.get(e.population.code, "none"), earned)
    domains: dict[str, int | None | str] = {}
    for e in effects:
        whole = e.population is None and not e.subgroup and bool(e.significant) and e.g > 0
        earned = 4 if tier == 4 else (tier if whole else None)
        domains[e.outcome_domain] = _best(domains.get(e.outcome_domain, "none"), earned)
    return {
        "outcome_domain": domains,
        "population": on,
        "grade_band": {g.code: tier for g in study_.grade_bands.all()},
        "setting": {s.code: tier for s in study_.settings.all()},
        "design": {study_.design: tier},
    }


def _best(a, b):
    """The better (lower) of two tiers; "none" marks no value yet, None a study without a tier."""
    if a == "none":
        return b
    tiers = [t for t in (a, b) if t is not None]
    return min(tiers) if tiers else None


def _expected(filters: dict, dimension: str) -> dict:
    """Every non-empty cell counted study by study: {(element, column): (n, best, latest)}."""
    statuses = [ReviewStatus.PUBLISHED]
    if filters.get("include_under_review"):
        statuses.append(ReviewStatus.SUBMITTED)
    cells: dict = {}
    for s in Study.objects.filter(status__in=statuses):
        facts = _study_facts(s)
        if "year_min" in filters and s.year < int(filters["year_min"]):
            continue
        if "grade_band" in filters and filters["grade_band"] not in facts["grade_band"]:
            continue
        if "population" in filters and filters["population"] not in facts["population"]:
            continue
        for element in {t.element.code for t in s.tags.select_related("element")}:
            columns = {"all": s.essa_tier, **facts[dimension]}
            for column, best in columns.items():
                n, b, latest = cells.get((element, column), (0, "none", 0))
                cells[(element, column)] = (n + 1, _best(b, best), max(latest, s.year))
    return cells


CASES = [
    {},
    {"include_under_review": "1"},
    {"year_min": "2010"},
    {"grade_band": "6-8"},
    {"population": "english_learners"},
    {"population": "low_income", "include_under_review": "1", "year_min": "2005"},
]


@pytest.mark.parametrize("filters", CASES)
@pytest.mark.parametrize(
    "dimension", ["outcome_domain", "population", "grade_band", "setting", "design"]
)
def test_every_cell_counts_distinct_studies_their_best_tier_and_latest_year(
    random_evidence, filters, dimension
):
    rep = report(dimension=dimension, _curator=True, **filters)
    got = {}
    for r in rep.rows:
        for c in (r.total, *r.cells):
            if c.n_studies:
                got[(r.code, c.column or "all")] = (c.n_studies, c.best_tier, c.latest_year)
    expected = _expected(filters, dimension)
    assert got == expected
    assert len(expected) >= 3  # the case is not trivially empty


@pytest.mark.parametrize("dimension", ["outcome_domain", "population", "design"])
def test_a_fresh_report_counts_in_one_aggregate_query_over_the_stored_facts(
    random_evidence, dimension
):
    # Totals, the studies in view, the population columns and the dimension's, in one statement
    # that reads the stored facts, not the tags and effects they are derived from.
    with CaptureQueriesContext(connection) as queries:
        report(dimension=dimension, _curator=True, include_under_review="1")
    assert sum("evidence_gapfact" in q["sql"] for q in queries) == 1
    assert not any("studies_studytag" in q["sql"] for q in queries)
    assert not any("studies_effectsize" in q["sql"] for q in queries)

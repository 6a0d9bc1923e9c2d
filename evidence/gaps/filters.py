"""What the gap report can be asked for: its dimensions, kinds of gap and filters, parsed from
query parameters (the page and the API share the parsing, so they refuse the same values)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from frameworks.models import Component
from studies.constants import Design, OutcomeDomain, ReviewStatus
from studies.models import MAX_YEAR, MIN_YEAR, GradeBand, Population, Setting

# How far back "recent" reaches by default: evidence only older than this many years is a gap.
RECENT_YEARS = 10
DIMENSIONS = {
    "outcome_domain": "Outcome domain",
    "grade_band": "Grade band",
    "population": "Student population",
    "setting": "Setting",
    "design": "Study design",
}
GAP_KINDS = {
    "no_studies": "No studies",
    "rigor": "Rigor gap: studies, but none at Tier 1-2",
    "equity": "Equity gap: studies, but none on a student population",
    "recency": "Recency gap: no study published in or after the chosen year",
}


def default_recent_year() -> int:
    return timezone.now().year - RECENT_YEARS


@dataclass(frozen=True)
class Term:
    """One value of a vocabulary: its code and its label."""

    code: str
    label: str


@dataclass(frozen=True)
class FilterChoices:
    """What the report can be filtered and split by, from the vocabularies."""

    components: tuple[Term, ...]
    grade_bands: tuple[Term, ...]
    populations: tuple[Term, ...]
    settings: tuple[Term, ...]
    designs: tuple[Term, ...] = tuple(Term(c, str(lbl)) for c, lbl in Design.choices)
    outcome_domains: tuple[Term, ...] = tuple(Term(c, str(lbl)) for c, lbl in OutcomeDomain.choices)
    dimensions: tuple[Term, ...] = tuple(Term(c, lbl) for c, lbl in DIMENSIONS.items())
    gap_kinds: tuple[Term, ...] = tuple(Term(c, lbl) for c, lbl in GAP_KINDS.items())

    def columns(self, dimension: str) -> tuple[Term, ...]:
        return {
            "outcome_domain": self.outcome_domains,
            "grade_band": self.grade_bands,
            "population": self.populations,
            "setting": self.settings,
            "design": self.designs,
        }[dimension]


def filter_choices() -> FilterChoices:
    """The current framework's components and the descriptive vocabularies (four small queries)."""

    def terms(rows: Iterable[tuple[str, str]]) -> tuple[Term, ...]:
        return tuple(Term(code, label) for code, label in rows)

    components = Component.objects.filter(
        framework__slug=settings.CURRENT_FRAMEWORK_SLUG, framework__is_current=True
    ).order_by("order")
    return FilterChoices(
        components=terms(components.values_list("code", "name")),
        grade_bands=terms(GradeBand.objects.order_by("order").values_list("code", "label")),
        populations=terms(Population.objects.order_by("order").values_list("code", "label")),
        settings=terms(Setting.objects.order_by("order").values_list("code", "label")),
    )


@dataclass(frozen=True)
class GapFilters:
    """What the reader asked for: the dimension, the filters on studies and on gaps."""

    dimension: str = "outcome_domain"
    component: str = ""
    grade_band: str = ""
    population: str = ""
    year_min: int | None = None
    year_max: int | None = None
    designs: tuple[str, ...] = ()
    include_under_review: bool = False
    recent_year: int = field(default_factory=default_recent_year)
    gap: str = ""
    equity_for: str = ""

    @property
    def narrows_evidence(self) -> bool:
        """Whether the studies in view differ from the published ones the engine rated."""
        return bool(
            self.grade_band
            or self.population
            or self.year_min
            or self.year_max
            or self.designs
            or self.include_under_review
        )

    @property
    def statuses(self) -> tuple[str, ...]:
        if self.include_under_review:
            return (ReviewStatus.PUBLISHED, ReviewStatus.SUBMITTED)
        return (ReviewStatus.PUBLISHED,)

    def as_params(self) -> list[tuple[str, str]]:
        """The filters as query parameters (defaults left out), for links and exports."""
        params: list[tuple[str, str]] = []
        if self.dimension != "outcome_domain":
            params.append(("dimension", self.dimension))
        for name in ("component", "grade_band", "population", "year_min", "year_max"):
            if getattr(self, name):
                params.append((name, str(getattr(self, name))))
        params += [("design", d) for d in self.designs]
        if self.include_under_review:
            params.append(("include_under_review", "1"))
        if self.recent_year != default_recent_year():
            params.append(("recent_year", str(self.recent_year)))
        if self.gap:
            params.append(("gap", self.gap))
        if self.equity_for:
            params.append(("equity_for", self.equity_for))
        return params


TRUE_WORDS = {"1", "true", "on", "yes"}


def parse_filters(
    params: Mapping, *, choices: FilterChoices, may_include_under_review: bool
) -> tuple[GapFilters, dict[str, list[str]]]:
    """Filters from query parameters, and field-keyed errors for the values that were refused.

    A refused value is left out (the page still renders); the API answers 400 with the errors.
    ``include_under_review`` is silently ignored for readers who may not see studies under review.
    """
    errors: dict[str, list[str]] = {}

    def one(name: str) -> str:
        value = params.get(name)
        return str(value).strip() if value is not None else ""

    def term(name: str, terms: tuple[Term, ...]) -> str:
        value = one(name)
        if value and value not in {t.code for t in terms}:
            errors[name] = [f"Unknown value {value!r}."]
            return ""
        return value

    def year(name: str) -> int | None:
        value = one(name)
        if not value:
            return None
        if not value.isdigit() or not MIN_YEAR <= int(value) <= MAX_YEAR:
            errors[name] = [f"A year between {MIN_YEAR} and {MAX_YEAR}."]
            return None
        return int(value)

    getlist = getattr(params, "getlist", None)
    raw_designs = (
        getlist("design") if getlist else ([params["design"]] if "design" in params else [])
    )
    known_designs = {t.code for t in choices.designs}
    designs = tuple(dict.fromkeys(d for d in raw_designs if d))
    if set(designs) - known_designs:
        errors["design"] = [f"Unknown design {sorted(set(designs) - known_designs)[0]!r}."]
        designs = tuple(d for d in designs if d in known_designs)

    year_min, year_max = year("year_min"), year("year_max")
    if year_min and year_max and year_min > year_max:
        errors["year_max"] = ["The end of the year range is before its start."]
        year_max = None
    recent_year = year("recent_year") or default_recent_year()
    dimension = term("dimension", choices.dimensions) or "outcome_domain"
    filters = GapFilters(
        dimension=dimension,
        component=term("component", choices.components),
        grade_band=term("grade_band", choices.grade_bands),
        population=term("population", choices.populations),
        year_min=year_min,
        year_max=year_max,
        designs=designs,
        include_under_review=may_include_under_review
        and one("include_under_review").lower() in TRUE_WORDS,
        recent_year=recent_year,
        gap=term("gap", choices.gap_kinds),
        equity_for=term("equity_for", choices.populations),
    )
    return filters, errors

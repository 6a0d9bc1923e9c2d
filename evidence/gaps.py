"""The funder gap report: where the evidence is thin, how thin, for whom, and what would close it.

A selector: it reads the stored ESSA tiers, study counts and stored evidence summaries in a fixed
number of aggregate queries (at most fifteen, whatever the number of studies; the seven that scan
the studies are cached until the published evidence changes) and returns plain dataclasses that
the page, the CSV exports and the API all render, so they cannot disagree.

Definitions (shown on the page too):

- A **cell** is an element × one value of the chosen dimension (outcome domain, grade band,
  student population, setting or design); the element's **total** is the cell of all its studies.
- A cell's **strength** is the best ESSA tier among its studies. For an outcome-domain cell that is
  the tier a study earns from its whole-sample effects in that domain (ESSA tiers are per outcome);
  for a population cell, the study's tier if the study is about that population (its populations)
  or the tier its subgroup effects for that population earn; otherwise the study's stored tier.
- **Distance from moderate evidence** (0-3): 3 no study; 2 studies, but none at Tier 1-3; 1 the best
  study is Tier 3; 0 at least one Tier 1-2 study (the engine's condition for "moderate", §4).
- **Kinds of gap**: no studies; rigor (studies, none at Tier 1-2); equity (the element has studies,
  but none on a population: via the study's populations or a subgroup effect for it); recency
  (studies, but none published in or after the chosen year).
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone

from convenings.constants import FindingKind
from convenings.models import Finding
from frameworks.models import Component, Element, OpenQuestion
from studies.constants import Design, OutcomeDomain, ReviewStatus
from studies.models import (
    MAX_YEAR,
    MIN_YEAR,
    EffectSize,
    GradeBand,
    Population,
    Setting,
    Study,
    StudyTag,
)

from . import rules
from .constants import Rating
from .models import EvidenceSummary

# The counts are cached while the published evidence is unchanged; an hour bounds any staleness
# from edits that bypass the services (the admin), which the nightly recompute also repairs.
CACHE_SECONDS = 60 * 60
# How far back "recent" reaches by default: evidence only older than this many years is a gap.
RECENT_YEARS = 10
TIER_1_2 = (1, 2)
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
SHORT_KIND_LABELS = {
    "no_studies": "no studies",
    "rigor": "rigor",
    "equity": "equity",
    "recency": "recency",
}
DISTANCE_MEANING = {
    3: "No study at all.",
    2: "Studies, but none with a significant favorable effect from a controlled design (none at Tier 1-3).",
    1: "The best study is Tier 3 (promising): one Tier 1-2 study away from moderate evidence.",
    0: "At least one Tier 1-2 study: the engine's condition for moderate evidence.",
}
TIER_LABELS = {
    1: "Tier 1 (strong)",
    2: "Tier 2 (moderate)",
    3: "Tier 3 (promising)",
    4: "Tier 4 (rationale)",
}
# Words that start a population label but are not proper nouns, lowered inside a sentence.
_COMMON_FIRST_WORDS = {"Students", "Girls", "Boys", "Gifted", "Adult", "First-generation"}
# The study list the cells link to. The API list for now; the HTML study list page will replace it.
STUDY_LIST_URL_NAME = "study-list"


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


# --- The report's plain data ----------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """How much evidence an element has for one column (or in total), and how strong."""

    column: str  # "" for the element's total
    n_studies: int
    best_tier: int | None
    latest_year: int | None
    distance: int
    kinds: tuple[str, ...]
    studies_url: str

    @property
    def is_gap(self) -> bool:
        return self.n_studies == 0

    @property
    def strength(self) -> str:
        if self.n_studies == 0:
            return "No studies"
        return TIER_LABELS.get(self.best_tier or 0, "No tier")

    @property
    def short_strength(self) -> str:
        if self.n_studies == 0:
            return "Gap"
        return f"Tier {self.best_tier}" if self.best_tier else "No tier"

    @property
    def kind_terms(self) -> tuple[Term, ...]:
        return tuple(Term(k, SHORT_KIND_LABELS[k]) for k in self.kinds)

    @property
    def strength_key(self) -> str:
        """A stable name for the strength, for styling and exports."""
        if self.n_studies == 0:
            return "gap"
        return f"tier-{self.best_tier}" if self.best_tier else "untiered"

    @property
    def size(self) -> int:
        """A size class 0-5 for the bubble: 0, 1, 2-4, 5-9, 10-24, 25+ studies."""
        return sum(self.n_studies >= step for step in (1, 2, 5, 10, 25))


@dataclass(frozen=True)
class OpenQuestionRef:
    """An open question linked to an element: from the research snapshot or a convening."""

    text: str
    origin: str  # "snapshot" or "convening"
    source: str
    url: str


@dataclass(frozen=True)
class ElementRow:
    """One element of the map: its total, its cells, the populations it has no study on."""

    code: str
    title: str
    component: str
    rating: str  # the stored overall rating ("" when not computed)
    total: Cell
    cells: tuple[Cell, ...]
    missing_populations: tuple[Term, ...]
    open_questions: tuple[OpenQuestionRef, ...]
    url: str

    @property
    def convening_questions(self) -> list[OpenQuestionRef]:
        return [q for q in self.open_questions if q.origin == "convening"]


@dataclass(frozen=True)
class ComponentGroup:
    code: str
    name: str
    rows: tuple[ElementRow, ...]

    @property
    def snapshot_questions(self) -> list[OpenQuestionRef]:
        """The research snapshot's open questions for this component's elements, each once."""
        refs = (q for row in self.rows for q in row.open_questions if q.origin == "snapshot")
        return list(dict.fromkeys(refs))


@dataclass(frozen=True)
class NextLevel:
    """What would move a unit one rating up, in the engine's words."""

    rating: str
    text: str
    stored: bool  # the stored summary's own words (True) or the engine's wording for this distance

    @property
    def rating_label(self) -> str:
        return Rating(self.rating).label if self.rating in Rating.values else ""


@dataclass(frozen=True)
class RankedGap:
    """One entry of the ranked gap list: an element (column None) or one of its cells."""

    rank: int
    row: ElementRow
    column: Term | None
    cell: Cell
    next_level: NextLevel

    @property
    def distance_meaning(self) -> str:
        return DISTANCE_MEANING[self.cell.distance]

    @property
    def missing_populations(self) -> tuple[Term, ...]:
        return self.row.missing_populations if self.column is None else ()


@dataclass(frozen=True)
class GapCount:
    """How many elements and cells have one kind of gap."""

    kind: str
    label: str
    elements: int
    cells: int


@dataclass(frozen=True)
class EquityRow:
    """One population: for how many elements there is any study, or Tier 1-2 evidence, on it."""

    population: Term
    elements_with_studies: int
    elements_with_tier_1_2: int
    elements_missing: tuple[str, ...]  # codes of elements with studies but none on this population


@dataclass(frozen=True)
class GapReport:
    filters: GapFilters
    dimension: Term
    columns: tuple[Term, ...]
    components: tuple[ComponentGroup, ...]
    n_elements: int
    n_studies: int
    counts: tuple[GapCount, ...]
    equity: tuple[EquityRow, ...]
    ranked: tuple[RankedGap, ...]
    summary: tuple[str, ...]
    rules_version: int = rules.RULES_VERSION

    @property
    def rows(self) -> list[ElementRow]:
        return [row for group in self.components for row in group.rows]


# --- Aggregate queries ----------------------------------------------------------------------


@dataclass
class _Agg:
    """Distinct studies, best (lowest) tier and latest year of one cell."""

    n: int = 0
    best: int | None = None
    latest: int | None = None

    def merge(self, other: _Agg) -> None:
        """Add another path's studies (the caller removes the ones counted twice)."""
        self.n += other.n
        self.best = min((t for t in (self.best, other.best) if t is not None), default=None)
        self.latest = max((y for y in (self.latest, other.latest) if y is not None), default=None)


_NONE = _Agg()
CellKey = tuple[int, str]  # (element id, column code; "" for the element's total)


def _tags_in_view(filters: GapFilters, element_ids: list[int]):
    """Tags of the elements in view to the studies that match the filters."""
    tags = StudyTag.objects.filter(element_id__in=element_ids, study__status__in=filters.statuses)
    if filters.year_min:
        tags = tags.filter(study__year__gte=filters.year_min)
    if filters.year_max:
        tags = tags.filter(study__year__lte=filters.year_max)
    if filters.designs:
        tags = tags.filter(study__design__in=filters.designs)
    if filters.grade_band:
        tags = tags.filter(
            Exists(
                Study.grade_bands.through.objects.filter(
                    study_id=OuterRef("study_id"), gradeband__code=filters.grade_band
                )
            )
        )
    if filters.population:
        # A study is on a population through its populations or a subgroup effect for it.
        tags = tags.filter(
            Exists(
                Study.populations.through.objects.filter(
                    study_id=OuterRef("study_id"), population__code=filters.population
                )
            )
            | Exists(
                EffectSize.objects.filter(
                    study_id=OuterRef("study_id"), population__code=filters.population
                )
            )
        )
    return tags.order_by()


def _grouped(tags, key: str | None, best) -> dict[CellKey, _Agg]:
    """Distinct studies, best tier and latest year per (element, key): one GROUP BY."""
    grouping = {"key": F(key)} if key else {"key": Value("")}
    rows = (
        tags.values("element_id", **grouping)
        .annotate(n=Count("study_id", distinct=True), best=Min(best), latest=Max("study__year"))
        .values_list("element_id", "key", "n", "best", "latest")
    )
    # Studies not coded for the dimension (key None) count in the element's total only.
    return {(e, k): _Agg(n, b, y) for e, k, n, b, y in rows if k is not None}


def _favorable(prefix: str) -> Q:
    return Q(**{f"{prefix}g__gt": 0, f"{prefix}significant": True})


def _domain_cells(tags) -> dict[CellKey, _Agg]:
    # A study's tier in a domain is its tier if it has a significant favorable whole-sample
    # effect there: the stored tier is then its design level (rules.study_tier).
    whole_sample = Q(study__effects__population__isnull=True, study__effects__subgroup="")
    best = Case(
        When(study__essa_tier=4, then=Value(4)),
        When(whole_sample & _favorable("study__effects__"), then=F("study__essa_tier")),
        default=None,
        output_field=IntegerField(),
    )
    return _grouped(tags, "study__effects__outcome_domain", best)


def _population_cells(tags) -> dict[CellKey, _Agg]:
    """Studies on each population, through the study's populations or a subgroup effect.

    Three GROUP BYs (populations, subgroup effects, both) so a study on both paths counts once.
    """
    via_populations = _grouped(tags, "study__populations__code", F("study__essa_tier"))
    # A favorable subgroup effect earns the study's design level (stored with its tier).
    level = "study__essa_reason__design_level"
    best = Case(
        When(**{level: 4}, then=Value(4)),
        *(When(Q(**{level: n}) & _favorable("study__effects__"), then=Value(n)) for n in (1, 2, 3)),
        default=None,
        output_field=IntegerField(),
    )
    via_subgroups = _grouped(
        tags.filter(study__effects__population__isnull=False),
        "study__effects__population__code",
        best,
    )
    both = (
        tags.filter(study__effects__population=F("study__populations"))
        .values("element_id", key=F("study__effects__population__code"))
        .annotate(n=Count("study_id", distinct=True))
        .values_list("element_id", "key", "n")
    )
    out: dict[CellKey, _Agg] = defaultdict(_Agg)
    for source in (via_populations, via_subgroups):
        for key, agg in source.items():
            out[key].merge(agg)
    for element_id, code, n in both:
        out[(element_id, code)].n -= n
    return dict(out)


def _dimension_cells(tags, dimension: str) -> dict[CellKey, _Agg]:
    if dimension == "outcome_domain":
        return _domain_cells(tags)
    if dimension == "population":
        return _population_cells(tags)
    key = {
        "grade_band": "study__grade_bands__code",
        "setting": "study__settings__code",
        "design": "study__design",
    }[dimension]
    return _grouped(tags, key, F("study__essa_tier"))


@dataclass(frozen=True)
class _Counted:
    """The aggregate part of the report: what costs time at scale, and what is cached."""

    totals: dict[CellKey, _Agg]
    cells: dict[CellKey, _Agg]
    population_cells: dict[CellKey, _Agg]
    n_studies: int


def _count(filters: GapFilters, element_ids: list[int]) -> _Counted:
    """Seven GROUP BY queries over the tags of the studies in view (six with populations)."""
    tags = _tags_in_view(filters, element_ids)
    population_cells = _population_cells(tags)
    return _Counted(
        totals=_grouped(tags, None, F("study__essa_tier")),
        cells=population_cells
        if filters.dimension == "population"
        else _dimension_cells(tags, filters.dimension),
        population_cells=population_cells,
        n_studies=tags.aggregate(n=Count("study_id", distinct=True))["n"] or 0,
    )


def _counted(filters: GapFilters, element_ids: list[int]) -> _Counted:
    """The counts, from the cache while the published evidence is unchanged.

    Every publish, edit or retraction of published data ends in a recompute that stores new
    summaries, so the newest summary's time is a version of the published evidence: one cheap
    query instead of seven scans of every study. Views with studies under review (a curator's,
    changing without recompute) are always counted afresh.
    """
    if filters.include_under_review:
        return _count(filters, element_ids)
    version = EvidenceSummary.objects.aggregate(at=Max("computed_at"), n=Count("id"))
    if version["at"] is None:
        return _count(filters, element_ids)  # nothing computed yet: no version to trust
    evidence_filters = (
        filters.dimension,
        filters.grade_band,
        filters.population,
        filters.year_min,
        filters.year_max,
        filters.designs,
    )
    key = repr((rules.RULES_VERSION, version["at"].isoformat(), version["n"], evidence_filters))
    cache_key = "evidence.gaps:" + hashlib.sha256(f"{key}{element_ids}".encode()).hexdigest()
    counted = cache.get(cache_key)
    if counted is None:
        counted = _count(filters, element_ids)
        cache.set(cache_key, counted, CACHE_SECONDS)
    return counted


StoredKey = tuple[int, str, str]  # (element id, outcome domain, population code)


def _stored_summaries(element_ids: list[int]) -> dict[StoredKey, tuple[str, dict]]:
    """The stored summaries' rating and next level, by element, outcome domain and population."""
    rows = EvidenceSummary.objects.filter(element_id__in=element_ids).values_list(
        "element_id", "outcome_domain", "population__code", "rating", "next_level"
    )
    return {(e, d, p or ""): (rating, nxt or {}) for e, d, p, rating, nxt in rows}


def _open_questions(elements: list[Element]) -> dict[int, tuple[OpenQuestionRef, ...]]:
    """Each element's open questions: from the research snapshot (its own and its component's),
    then those convenings linked to it. Two queries."""
    element_ids = [e.pk for e in elements]
    codes = {e.component_id: e.component.code for e in elements}
    by_component: dict[int, list[OpenQuestionRef]] = defaultdict(list)
    by_element: dict[int, list[OpenQuestionRef]] = defaultdict(list)
    snapshot = (
        OpenQuestion.objects.filter(Q(component_id__in=list(codes)) | Q(element_id__in=element_ids))
        .values_list("component_id", "element_id", "element__component__code", "text", "source")
        .order_by("order", "id")
    )
    for component_id, element_id, element_component, text, source in snapshot:
        code = codes.get(component_id) or element_component
        url = reverse("frameworks:component", args=[code]) if code else ""
        ref = OpenQuestionRef(text, "snapshot", source or "Research snapshot", url)
        (by_element[element_id] if element_id else by_component[component_id]).append(ref)
    findings = (
        Finding.elements.through.objects.filter(
            element_id__in=element_ids, finding__kind=FindingKind.OPEN_QUESTION
        )
        .values_list(
            "element_id",
            "finding__text",
            "finding__source",
            "finding__convening__title",
            "finding__convening__slug",
        )
        .order_by("finding__convening__date", "finding__order", "finding_id")
    )
    for element_id, text, source, title, slug in findings:
        url = reverse("convenings:detail", args=[slug]) if slug else ""
        by_element[element_id].append(
            OpenQuestionRef(text, "convening", title or source or "Convening", url)
        )
    return {
        e.pk: tuple(
            [q for q in by_element[e.pk] if q.origin == "snapshot"]
            + by_component[e.component_id]
            + [q for q in by_element[e.pk] if q.origin == "convening"]
        )
        for e in elements
    }


# --- Derived numbers --------------------------------------------------------------------------


def distance(n_studies: int, best_tier: int | None) -> int:
    """How far from moderate evidence (0-3), see the module docstring."""
    if n_studies == 0:
        return 3
    if best_tier in TIER_1_2:
        return 0
    return 1 if best_tier == 3 else 2


def _kinds(agg: _Agg, recent_year: int, *, equity: bool = False) -> tuple[str, ...]:
    kinds = []
    if agg.n == 0:
        kinds.append("no_studies")
    else:
        if agg.best not in TIER_1_2:
            kinds.append("rigor")
        if agg.latest is not None and agg.latest < recent_year:
            kinds.append("recency")
    if equity:
        kinds.append("equity")
    return tuple(kinds)


def study_list_url(params: list[tuple[str, str]]) -> str:
    """The study list filtered to these parameters (one place to switch to the HTML list page)."""
    return f"{reverse(STUDY_LIST_URL_NAME)}?{urlencode(params)}"


class _StudyLinks:
    """Links to each cell's studies: StudyFilterSet parameters for the element, the column and
    the report's filters (the part shared by every cell is encoded once)."""

    def __init__(self, filters: GapFilters):
        self.dimension = filters.dimension
        self.base = study_list_url([])
        shared = [] if filters.include_under_review else [("status", ReviewStatus.PUBLISHED.value)]
        if filters.year_min:
            shared.append(("year_min", str(filters.year_min)))
        if filters.year_max:
            shared.append(("year_max", str(filters.year_max)))
        self.shared = urlencode(shared)
        # A cell's own column replaces the report's filter on the same dimension.
        self.column_filters = {
            "grade_band": [("grade_band", filters.grade_band)] if filters.grade_band else [],
            "population": [("population", filters.population)] if filters.population else [],
            "design": [("design", d) for d in filters.designs],
        }

    def url(self, element: str, column: str = "") -> str:
        params = [("element", element)]
        if column:  # StudyFilterSet names its filters like the dimensions
            params.append((self.dimension, column))
        for name, extra in self.column_filters.items():
            if not (column and name == self.dimension):
                params += extra
        return f"{self.base}{urlencode(params)}&{self.shared}".rstrip("&")


def in_sentence(label: str) -> str:
    """A population label as it reads inside a sentence ('students with disabilities')."""
    first, _, rest = label.partition(" ")
    return f"{first.lower()} {rest}".strip() if first in _COMMON_FIRST_WORDS else label


@functools.cache
def _engine_next_level(dist: int) -> tuple[str, str]:
    """The engine's own next level for a unit at this distance (rules.rate_element's words)."""
    favorable = rules.EffectFacts(g=0.3, variance=0.01, significant=True)
    typical = {
        3: [],
        2: [rules.StudyFacts(study_id=1, design="qualitative")],
        1: [rules.StudyFacts(study_id=1, design="correlational", effects=(favorable,))],
        0: [
            rules.StudyFacts(
                study_id=1,
                design="qed",
                wwc_rating="meets_with",
                sample_size=rules.MIN_STUDENTS,
                n_sites=rules.MIN_SITES,
                effects=(favorable,),
            )
        ],
    }[dist]
    decision = rules.rate_element(typical, pool_studies=lambda _: None)
    return decision.next_level.get("rating", ""), decision.next_level.get("text", "")


def _scope_phrase(dimension: str, column: Term | None) -> str:
    if column is None:
        return ""
    return {
        "population": f" on {in_sentence(column.label)}",
        "outcome_domain": f", measuring {column.label[0].lower()}{column.label[1:]}",
        "grade_band": f" ({column.label})",
        "setting": f" (setting: {column.label})",
        "design": f" (design: {column.label})",
    }[dimension]


def next_level(
    dist: int, stored: tuple[str, dict] | None, dimension: str, column: Term | None
) -> NextLevel:
    """What would move a unit up: the stored summary's next level where one exists for this very
    unit (and nothing is filtered out), else the engine's wording at this distance, scoped."""
    if stored and stored[1].get("text"):
        return NextLevel(stored[1].get("rating", ""), stored[1]["text"], True)
    rating, text = _engine_next_level(dist)
    phrase = _scope_phrase(dimension, column)
    return NextLevel(rating, f"{text.rstrip('.')}{phrase}." if phrase else text, False)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _of_elements(k: int, n: int, rest: str) -> str:
    return f"{k} of {n} elements {'has' if k == 1 else 'have'} {rest}"


def _or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _summary(
    rows: list[ElementRow], equity: tuple[EquityRow, ...], filters: GapFilters, n_studies: int
) -> tuple[str, ...]:
    """A few sentences a funder can read first, computed from the numbers below them."""
    n = len(rows)
    if n == 0:
        return ("No framework elements match these filters.",)
    statuses = "published or under review" if filters.include_under_review else "published"
    scope = " matching the filters" if filters.narrows_evidence else ""
    sentences = [
        f"This report covers {_plural(n, 'element', 'elements')} and "
        f"{_plural(n_studies, f'{statuses} study', f'{statuses} studies')}{scope}."
    ]
    weak = sum(row.total.best_tier not in TIER_1_2 for row in rows)
    if weak:
        sentences.append(_of_elements(weak, n, "no study meeting Tier 1-2."))
    else:
        sentences.append("Every element has at least one study meeting Tier 1-2.")
    empty = sum(row.total.n_studies == 0 for row in rows)
    if empty:
        sentences.append(_of_elements(empty, n, f"no study at all{scope}."))
    without = [in_sentence(r.population.label) for r in equity if r.elements_with_tier_1_2 == 0]
    if equity and len(without) == len(equity):
        sentences.append(
            "No element has Tier 1-2 evidence for any specific student population, "
            f"such as {_or_list(without[:2])}."
        )
    elif without:
        more = len(without) - 5
        extra = f" (nor for {_plural(more, 'other population', 'other populations')})"
        sentences.append(
            f"No element has Tier 1-2 evidence for {_or_list(without[:5])}"
            f"{extra if more > 0 else ''}."
        )
    old = sum("recency" in row.total.kinds for row in rows)
    if old:
        sentences.append(_of_elements(old, n, f"evidence only from before {filters.recent_year}."))
    return tuple(sentences)


# --- The report ---------------------------------------------------------------------------------


@dataclass
class _Context:
    """What building the rows needs, loaded once."""

    filters: GapFilters
    columns: tuple[Term, ...]
    populations: tuple[Term, ...]
    counted: _Counted
    stored: dict[StoredKey, tuple[str, dict]]
    links: _StudyLinks
    questions: dict[int, tuple[OpenQuestionRef, ...]]

    def cell(self, element: Element, agg: _Agg, column: str, equity: bool) -> Cell:
        return Cell(
            column,
            agg.n,
            agg.best,
            agg.latest,
            distance(agg.n, agg.best),
            _kinds(agg, self.filters.recent_year, equity=equity),
            self.links.url(element.code, column),
        )

    def row(self, element: Element) -> ElementRow:
        total = self.counted.totals.get((element.pk, ""), _NONE)
        on_population = self.counted.population_cells
        missing = tuple(
            p
            for p in self.populations
            if total.n and not on_population.get((element.pk, p.code), _NONE).n
        )
        equity_for = self.filters.equity_for
        equity = any(p.code == equity_for for p in missing) if equity_for else bool(missing)
        cells = []
        for column in self.columns:
            agg = self.counted.cells.get((element.pk, column.code), _NONE)
            is_equity_gap = (
                self.filters.dimension == "population"
                and total.n > 0
                and agg.n == 0
                and equity_for in ("", column.code)
            )
            cells.append(self.cell(element, agg, column.code, is_equity_gap))
        overall = self.stored.get((element.pk, "", ""))
        return ElementRow(
            element.code,
            element.title,
            element.component.code,
            overall[0] if overall else "",
            self.cell(element, total, "", equity),
            tuple(cells),
            missing,
            self.questions[element.pk],
            element.get_absolute_url(),
        )

    def gaps(self, element: Element, row: ElementRow) -> list[RankedGap]:
        """The row's entries in the ranked list: the element, then its more specific cells."""
        filters = self.filters
        entries: list[tuple[Cell, Term | None, StoredKey]] = []
        kinds = set(row.total.kinds)
        # An element's equity gap alone lists it only when asked for: most elements lack a study
        # on some population, and the population columns show those gaps one by one.
        asked_for_equity = bool(filters.equity_for) or filters.gap == "equity"
        if kinds & {"no_studies", "rigor", "recency"} or ("equity" in kinds and asked_for_equity):
            entries.append((row.total, None, (element.pk, "", "")))
        # Design cells are not ranked: most designs can never reach Tier 1-2 by definition.
        if filters.dimension != "design":
            for column, c in zip(self.columns, row.cells, strict=True):
                more_specific = c.distance > row.total.distance or (
                    "recency" in c.kinds and "recency" not in kinds
                )
                if more_specific:
                    stored_key = {
                        "outcome_domain": (element.pk, column.code, ""),
                        "population": (element.pk, "", column.code),
                    }.get(filters.dimension, (0, "", ""))
                    entries.append((c, column, stored_key))
        return [
            RankedGap(
                0,
                row,
                column,
                c,
                next_level(
                    c.distance,
                    None if filters.narrows_evidence else self.stored.get(key),
                    filters.dimension,
                    column,
                ),
            )
            for c, column, key in entries
        ]


def _equity(
    ctx: _Context, elements: list[Element], rows: list[ElementRow]
) -> tuple[EquityRow, ...]:
    out = []
    for p in ctx.populations:
        cells = [ctx.counted.population_cells.get((e.pk, p.code), _NONE) for e in elements]
        out.append(
            EquityRow(
                p,
                sum(c.n > 0 for c in cells),
                sum(c.n > 0 and c.best in TIER_1_2 for c in cells),
                tuple(r.code for r in rows if p in r.missing_populations),
            )
        )
    return tuple(out)


def _counts(rows: list[ElementRow]) -> tuple[GapCount, ...]:
    cells = [c for r in rows for c in r.cells]
    return tuple(
        GapCount(
            kind,
            label,
            sum(kind in r.total.kinds for r in rows),
            # Equity counts element × population pairs, whatever the dimension shown.
            sum(len(r.missing_populations) for r in rows)
            if kind == "equity"
            else sum(kind in c.kinds for c in cells),
        )
        for kind, label in GAP_KINDS.items()
    )


def gap_report(*, filters: GapFilters, choices: FilterChoices) -> GapReport:
    """The gap map, gap counts, equity table, ranked gaps and summary for these filters."""
    elements = list(
        Element.objects.current()
        .select_related("component")
        .filter(**({"component__code": filters.component} if filters.component else {}))
        .order_by("component__order", "order")
    )
    ids = [e.pk for e in elements]
    ctx = _Context(
        filters=filters,
        columns=choices.columns(filters.dimension),
        populations=choices.populations,
        counted=_counted(filters, ids),
        stored=_stored_summaries(ids),
        questions=_open_questions(elements),
        links=_StudyLinks(filters),
    )
    n_studies = ctx.counted.n_studies
    rows = [ctx.row(e) for e in elements]
    ranked = [gap for e, row in zip(elements, rows, strict=True) for gap in ctx.gaps(e, row)]
    if filters.gap:
        ranked = [item for item in ranked if filters.gap in item.cell.kinds]
    position = {e.code: i for i, e in enumerate(elements)}
    column_position = {c.code: i for i, c in enumerate(ctx.columns)}
    # Furthest from moderate first; at equal distance whole elements before single cells, then
    # thinner evidence (fewer studies), then framework and column order.
    ranked.sort(
        key=lambda g: (
            -g.cell.distance,
            g.column is not None,
            g.cell.n_studies,
            position[g.row.code],
            column_position[g.column.code] if g.column else -1,
        )
    )
    groups: dict[str, list[ElementRow]] = defaultdict(list)
    names = {}
    for element, row in zip(elements, rows, strict=True):
        groups[element.component.code].append(row)
        names[element.component.code] = element.component.name
    equity = _equity(ctx, elements, rows)
    return GapReport(
        filters=filters,
        dimension=Term(filters.dimension, DIMENSIONS[filters.dimension]),
        columns=ctx.columns,
        components=tuple(ComponentGroup(c, names[c], tuple(rs)) for c, rs in groups.items()),
        n_elements=len(rows),
        n_studies=n_studies,
        counts=_counts(rows),
        equity=equity,
        ranked=tuple(replace(g, rank=i) for i, g in enumerate(ranked, start=1)),
        summary=_summary(rows, equity, filters, n_studies),
    )


# --- Exports --------------------------------------------------------------------------------

MATRIX_HEADER = [
    "component",
    "element",
    "element_title",
    "dimension",
    "column",
    "column_label",
    "n_studies",
    "best_tier",
    "strength",
    "latest_year",
    "distance",
    "gap_kinds",
    "studies_url",
]
RANKED_HEADER = [
    "rank",
    "component",
    "element",
    "element_title",
    "dimension",
    "column",
    "column_label",
    "distance",
    "distance_meaning",
    "n_studies",
    "best_tier",
    "strength",
    "latest_year",
    "gap_kinds",
    "missing_populations",
    "next_level_rating",
    "next_level",
    "open_questions",
    "studies_url",
]


def _cell_values(c: Cell) -> list:
    return [c.n_studies, c.best_tier or "", c.strength, c.latest_year or ""]


def matrix_rows(report: GapReport) -> list[list]:
    """The map as a table, one row per element total ("all") and per cell, header first."""
    labels = {c.code: c.label for c in report.columns}
    out: list[list] = [MATRIX_HEADER]
    for row in report.rows:
        for c in (row.total, *row.cells):
            column = [c.column or "all", labels.get(c.column, "All studies")]
            out.append(
                [row.component, row.code, row.title, report.dimension.code, *column]
                + [*_cell_values(c), c.distance, " ".join(c.kinds), c.studies_url]
            )
    return out


def ranked_rows(report: GapReport) -> list[list]:
    """The ranked gap list as a table, header first."""
    out: list[list] = [RANKED_HEADER]
    for gap in report.ranked:
        c, column = gap.cell, gap.column
        where = [report.dimension.code, column.code, column.label] if column else ["", "", ""]
        out.append(
            [gap.rank, gap.row.component, gap.row.code, gap.row.title, *where]
            + [c.distance, gap.distance_meaning, *_cell_values(c), " ".join(c.kinds)]
            + [" ".join(p.code for p in gap.missing_populations)]
            + [gap.next_level.rating, gap.next_level.text]
            + [" | ".join(q.text for q in gap.row.open_questions), c.studies_url]
        )
    return out

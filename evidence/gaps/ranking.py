"""Gap kinds, the distance from moderate evidence, the ranked gap list and the report itself."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.urls import reverse

from frameworks.models import Element

from .counts import NONE, Agg, Counted, StoredKey, counted, open_questions, stored_summaries
from .data import (
    TIER_1_2,
    Cell,
    ComponentGroup,
    ElementRow,
    EquityRow,
    GapCount,
    GapReport,
    OpenQuestionRef,
    RankedGap,
)
from .filters import DIMENSIONS, GAP_KINDS, FilterChoices, GapFilters, Term, filter_choices
from .wording import next_level, summary

# The study list the cells link to. The API list for now; the HTML study list page will replace it.
STUDY_LIST_URL_NAME = "studies:list"  # the study list page: published studies, StudyFilterSet
# Views with studies under review (curators) link to the API's list, the one that shows them.
STUDY_API_LIST_URL_NAME = "study-list"


def distance(n_studies: int, best_tier: int | None) -> int:
    """How far from moderate evidence (0-3), see the module docstring."""
    if n_studies == 0:
        return 3
    if best_tier in TIER_1_2:
        return 0
    return 1 if best_tier == 3 else 2


def _kinds(agg: Agg, recent_year: int, *, equity: bool = False) -> tuple[str, ...]:
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


def study_list_url(params: list[tuple[str, str]], *, under_review: bool = False) -> str:
    """The study list filtered to these parameters: the page, or the API's with studies under review."""
    name = STUDY_API_LIST_URL_NAME if under_review else STUDY_LIST_URL_NAME
    return f"{reverse(name)}?{urlencode(params)}"


class _StudyLinks:
    """Links to each cell's studies: StudyFilterSet parameters for the element, the column and
    the report's filters (the part shared by every cell is encoded once)."""

    def __init__(self, filters: GapFilters):
        self.dimension = filters.dimension
        self.base = study_list_url([], under_review=filters.include_under_review)
        shared = []
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


@dataclass
class _Context:
    """What building the rows needs, loaded once."""

    filters: GapFilters
    columns: tuple[Term, ...]
    populations: tuple[Term, ...]
    counted: Counted
    stored: dict[StoredKey, tuple[str, dict]]
    links: _StudyLinks
    questions: dict[int, tuple[OpenQuestionRef, ...]]

    def cell(self, element: Element, agg: Agg, column: str, equity: bool) -> Cell:
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
        total = self.counted.totals.get((element.pk, ""), NONE)
        on_population = self.counted.population_cells
        missing = tuple(
            p
            for p in self.populations
            if total.n and not on_population.get((element.pk, p.code), NONE).n
        )
        equity_for = self.filters.equity_for
        equity = any(p.code == equity_for for p in missing) if equity_for else bool(missing)
        cells = []
        for column in self.columns:
            agg = self.counted.cells.get((element.pk, column.code), NONE)
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
        cells = [ctx.counted.population_cells.get((e.pk, p.code), NONE) for e in elements]
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
        counted=counted(filters, ids),
        stored=stored_summaries(ids),
        questions=open_questions(elements),
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
        summary=summary(rows, equity, filters, n_studies),
    )


def gap_report_warm() -> int:
    """Count the unfiltered report of every dimension into the cache, if not there already.

    Run every minute by Celery beat: after the evidence changes, the views funders open first
    are counted by a worker instead of by the first reader (a few hundred ms at 100,000 studies).
    Returns how many views it counted or found cached.
    """
    choices = filter_choices()
    for dimension in DIMENSIONS:
        gap_report(filters=GapFilters(dimension=dimension), choices=choices)
    return len(DIMENSIONS)

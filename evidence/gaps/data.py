"""The gap report's plain data: cells, rows, ranked gaps and counts, rendered alike by the page,
the CSV exports and the API."""

from __future__ import annotations

from dataclasses import dataclass

from .. import rules
from ..constants import Rating
from .filters import GapFilters, Term

TIER_1_2 = (1, 2)
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

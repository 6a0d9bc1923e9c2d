"""The funder gap report: where the evidence is thin, how thin, for whom, and what would close it.

A selector: it reads the stored gap facts, ESSA tiers and evidence summaries in a fixed number of
queries (at most fifteen, whatever the number of studies; the one aggregate query, over the stored
facts, is cached until the published evidence changes) and returns plain dataclasses that the
page, the CSV exports and the API all render, so they cannot disagree.

The package, by concern: ``filters`` (what can be asked for), ``facts`` (what each tagged study
contributes, stored at write time and kept exact by the services), ``counts`` (the aggregate query
and its cache), ``ranking`` (gap kinds, distance, the ranked list, ``gap_report``), ``wording``
(the summary and next-level sentences), ``exports`` (the CSV tables), ``data`` (the dataclasses
they share). Callers import from ``evidence.gaps``.

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

from .data import (
    DISTANCE_MEANING,
    SHORT_KIND_LABELS,
    TIER_1_2,
    TIER_LABELS,
    Cell,
    ComponentGroup,
    ElementRow,
    EquityRow,
    GapCount,
    GapReport,
    NextLevel,
    OpenQuestionRef,
    RankedGap,
)
from .exports import MATRIX_HEADER, RANKED_HEADER, matrix_rows, ranked_rows
from .filters import (
    DIMENSIONS,
    GAP_KINDS,
    RECENT_YEARS,
    FilterChoices,
    GapFilters,
    Term,
    default_recent_year,
    filter_choices,
    parse_filters,
)
from .ranking import STUDY_LIST_URL_NAME, distance, gap_report, gap_report_warm, study_list_url
from .wording import in_sentence, next_level

__all__ = [
    "DIMENSIONS",
    "DISTANCE_MEANING",
    "GAP_KINDS",
    "MATRIX_HEADER",
    "RANKED_HEADER",
    "RECENT_YEARS",
    "SHORT_KIND_LABELS",
    "STUDY_LIST_URL_NAME",
    "TIER_1_2",
    "TIER_LABELS",
    "Cell",
    "ComponentGroup",
    "ElementRow",
    "EquityRow",
    "FilterChoices",
    "GapCount",
    "GapFilters",
    "GapReport",
    "NextLevel",
    "OpenQuestionRef",
    "RankedGap",
    "Term",
    "default_recent_year",
    "distance",
    "filter_choices",
    "gap_report",
    "gap_report_warm",
    "in_sentence",
    "matrix_rows",
    "next_level",
    "parse_filters",
    "ranked_rows",
    "study_list_url",
]

"""The report as CSV tables: the matrix (one row per element total and cell) and the ranked list."""

from __future__ import annotations

from .data import Cell, GapReport

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

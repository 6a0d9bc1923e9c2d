"""Evidence pages: the funder gap report (map, ranked gaps, open questions) and its CSV exports."""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render

from studies import roles
from studies.exports import spreadsheet_writer

from . import gaps

# The page shows the top of the ranked list; the CSV and the API carry all of it.
RANKED_ON_PAGE = 50


def _report(request, *, is_curator: bool) -> tuple[gaps.GapReport, gaps.FilterChoices, dict]:
    choices = gaps.filter_choices()
    filters, errors = gaps.parse_filters(
        request.GET, choices=choices, may_include_under_review=is_curator
    )
    return gaps.gap_report(filters=filters, choices=choices), choices, errors


def _with(params: list[tuple[str, str]], **changes: str) -> str:
    kept = [(k, v) for k, v in params if k not in changes]
    return urlencode(kept + [(k, v) for k, v in changes.items() if v])


def _list_gaps(params: list[tuple[str, str]], kind: str) -> str:
    """The query listing one kind of gap; equity gaps are cells of the population columns."""
    if kind == "equity":
        return _with(params, gap=kind, dimension="population")
    return _with(params, gap=kind)


def gap_report(request):
    is_curator = roles.is_curator(request.user)
    report, choices, errors = _report(request, is_curator=is_curator)
    params = report.filters.as_params()
    show_all = request.GET.get("show") == "all"
    return render(
        request,
        "evidence/gaps.html",
        {
            "report": report,
            "choices": choices,
            "errors": errors,
            "filters": report.filters,
            "is_curator": is_curator,
            "query": urlencode(params),
            "dimension_links": [(d, _with(params, dimension=d.code)) for d in choices.dimensions],
            "counts": [(count, _list_gaps(params, count.kind)) for count in report.counts],
            "ranked": report.ranked if show_all else report.ranked[:RANKED_ON_PAGE],
            "show_all_query": _with(params, show="all"),
            "distances": sorted(gaps.DISTANCE_MEANING.items(), reverse=True),
        },
    )


def gap_csv(request, table: str):
    """The map (one row per cell) or the ranked list as CSV, for the same filters as the page."""
    report, _, _ = _report(request, is_curator=roles.is_curator(request.user))
    rows = gaps.matrix_rows(report) if table == "matrix" else gaps.ranked_rows(report)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="evidence-gaps-{table}.csv"'
    spreadsheet_writer(response).writerows(rows)
    return response

"""Public study pages: the filtered list, one study with its citation exports, and search."""

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render

from convenings.selectors import search_findings, search_sessions
from frameworks.models import Element, OpenQuestion

from . import exports, roles, selectors
from .filters import StudyFilterSet
from .models import Study

PAGE_SIZE = 25


def study_list(request):
    """Published studies with the same filters as the API (shareable URLs)."""
    queryset = Study.objects.published().prefetch_related("grade_bands").order_by("-year", "title")
    study_filter = StudyFilterSet(request.GET, queryset=queryset)
    studies = study_filter.qs if study_filter.is_valid() else queryset.none()
    page = Paginator(studies, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "studies/list.html",
        {"filter": study_filter, "page": page, "query": _query_without_page(request)},
    )


def study_detail(request, pk: int):
    study = selectors.published_study(pk)
    context = {"study": study, "citation": exports.apa_citation(study)}
    if roles.is_curator(request.user):
        context["history"] = selectors.study_history(study)
    return render(request, "studies/detail.html", context)


def study_export(request, pk: int, fmt: str):
    """One study's citation as a RIS or BibTeX file for a reference manager."""
    study = selectors.published_study(pk)
    return _download([study], fmt, f"study-{study.pk}")


def study_list_export(request, fmt: str):
    """The filtered published list as RIS, BibTeX or CSV."""
    queryset = Study.objects.published().order_by("-year", "title")
    study_filter = StudyFilterSet(request.GET, queryset=queryset)
    studies = study_filter.qs if study_filter.is_valid() else queryset.none()
    return _download(studies.iterator(chunk_size=2000), fmt, "studies")


FORMATS = {
    "ris": (exports.to_ris, "application/x-research-info-systems", "ris"),
    "bib": (exports.to_bibtex, "application/x-bibtex", "bib"),
    "csv": (exports.to_csv, "text/csv", "csv"),
}


def _download(studies, fmt: str, name: str) -> HttpResponse:
    writer, content_type, extension = FORMATS[fmt]
    response = HttpResponse(writer(studies), content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def search(request):
    """Ranked full-text search over studies, elements, findings and open questions, with facets."""
    query = request.GET.get("q", "").strip()[:200]
    context = {"q": query}
    if query:
        matches = selectors.search_studies(query)
        # The words are matched (and ranked) once, above; the FilterSet adds only the facets.
        # Given q as well, it matched them a second time in every query of the page.
        facets_only = request.GET.copy()
        facets_only.pop("q", None)
        study_filter = StudyFilterSet(facets_only, queryset=matches)
        studies = study_filter.qs if study_filter.is_valid() else matches.none()
        page = Paginator(studies, PAGE_SIZE).get_page(request.GET.get("page"))
        words = query.split()[:5]
        elements = Element.objects.current().select_related("component")
        questions = OpenQuestion.objects.select_related("component")
        for word in words:
            elements = elements.filter(title__icontains=word) | elements.filter(code__iexact=word)
            questions = questions.filter(text__icontains=word)
        facet_base = study_filter.qs.order_by() if study_filter.is_valid() else matches.none()
        context |= {
            "filter": study_filter,
            "page": page,
            "elements": list(elements[:20]),
            "findings": list(search_findings(query)[:20]),
            "sessions": list(search_sessions(query)[:20]),
            "questions": list(questions[:20]),
            # One row per study (the filters are semi-joins), so only the component facet,
            # which joins the tags, needs to count studies once each.
            "facets": {
                "design": facet_base.values("design").annotate(n=Count("id")).order_by("-n"),
                "essa_tier": facet_base.values("essa_tier")
                .annotate(n=Count("id"))
                .order_by("essa_tier"),
                "component": facet_base.values("tags__element__component__code")
                .annotate(n=Count("id", distinct=True))
                .order_by("tags__element__component__code"),
            },
            "query": _query_without_page(request),
        }
    return render(request, "studies/search.html", context)

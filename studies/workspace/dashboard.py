"""The dashboard and the researcher's filtered study list, with its exports."""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from .. import roles, selectors
from ..constants import ReviewStatus
from ..filters import StudyFilterSet
from ..forms import BulkTagForm
from ..models import Study
from ..views import FORMATS
from .access import PAGE_SIZE, workspace_required


@workspace_required
def dashboard(request):
    mine = selectors.with_counts(Study.objects.filter(created_by=request.user)).order_by(
        "-updated_at"
    )
    context = {
        "drafts": mine.filter(status=ReviewStatus.DRAFT),
        "returned": mine.filter(status=ReviewStatus.RETURNED),
        "submitted": mine.filter(status=ReviewStatus.SUBMITTED),
        "published": mine.filter(status=ReviewStatus.PUBLISHED).order_by("-published_at")[:10],
        "is_curator": roles.is_curator(request.user),
    }
    if context["is_curator"]:
        context["queue"] = selectors.review_queue()[:20]
    return render(request, "workspace/dashboard.html", context)


def filtered(request):
    """(the FilterSet, the studies it lets through) for the workspace list's query string."""
    queryset = selectors.workspace_studies(request.user).order_by("-updated_at", "pk")
    study_filter = StudyFilterSet(request.GET, queryset=queryset)
    return study_filter, (study_filter.qs if study_filter.is_valid() else queryset.none())


@workspace_required
def study_list(request):
    """My studies (every study for curators), filtered, to open, tag in bulk or export."""
    study_filter, studies = filtered(request)
    page = Paginator(selectors.with_counts(studies), PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "workspace/study_list.html",
        {
            "filter": study_filter,
            "page": page,
            "query": params.urlencode(),
            "bulk_form": BulkTagForm(elements=selectors.framework_tree(), studies=studies),
        },
    )


@workspace_required
def study_list_export(request, fmt: str):
    """The filtered workspace list as RIS, BibTeX or CSV."""
    _, studies = filtered(request)
    writer, content_type, extension = FORMATS[fmt]
    response = HttpResponse(
        writer(studies.iterator(chunk_size=2000)), content_type=f"{content_type}; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="workspace-studies.{extension}"'
    return response

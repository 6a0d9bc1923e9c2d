"""Reads of the framework taxonomy for pages and the API."""

from django.db.models import Count, Prefetch, Q

from evidence.selectors import overall_summaries_prefetch
from studies.constants import ReviewStatus

from .models import Component, Element, Framework


def framework_overview() -> tuple[Framework | None, list[Component]]:
    """The current framework with its components and elements, each with its published-study count."""
    framework = Framework.objects.current()
    if framework is None:
        return None, []
    elements = (
        Element.objects.annotate(
            published_study_count=Count(
                "study_tags__study",
                filter=Q(study_tags__study__status=ReviewStatus.PUBLISHED),
                distinct=True,
            )
        )
        .order_by("order")
        .prefetch_related(overall_summaries_prefetch())
    )
    components = list(
        framework.components.order_by("order").prefetch_related(
            Prefetch("elements", queryset=elements)
        )
    )
    return framework, components


def element_by_code(code: str) -> Element:
    """One element of the current framework, with its component and facets (404 if unknown)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        Element.objects.current().select_related("component").prefetch_related("facets"),
        code=code,
    )


def element_page_version(code: str) -> str | None:
    """What an element's public page shows, as one value that changes when the evidence does:
    the newest of its summaries and its dirty mark (set by every change to a published study
    behind it, cleared by the recompute). None for an unknown element. One query."""
    from django.db.models import OuterRef, Subquery

    from evidence.models import EvidenceSummary

    newest = (
        EvidenceSummary.objects.filter(element=OuterRef("pk"))
        .order_by("-computed_at")
        .values("computed_at")[:1]
    )
    row = (
        Element.objects.current()
        .filter(code=code)
        .annotate(computed_at=Subquery(newest))
        .values_list("pk", "computed_at", "dirty_mark__marked_at")
        .first()
    )
    if row is None:
        return None
    pk, computed_at, marked_at = row
    stamp = lambda at: at.timestamp() if at else 0  # noqa: E731
    return f"{pk}-{stamp(computed_at)}-{stamp(marked_at)}"

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

"""Reads of studies that carry logic (visibility, prefetching)."""

from django.shortcuts import get_object_or_404

from .models import Study


def published_studies_for_element(element) -> list[Study]:
    """The published studies tagged to an element, newest first."""
    return list(Study.objects.published().for_element(element).order_by("-year", "title"))


def published_study(pk: int) -> Study:
    """One published study with everything its page shows (404 for anything unpublished)."""
    return get_object_or_404(
        Study.objects.published().prefetch_related(
            "effects__population",
            "tags__element",
            "tags__facet",
            "grade_bands",
            "populations",
            "subjects",
            "settings",
        ),
        pk=pk,
    )

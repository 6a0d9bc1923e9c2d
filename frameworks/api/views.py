from rest_framework import viewsets

from evidence.selectors import overall_summaries_prefetch

from ..filters import ElementFilterSet
from ..models import Component, Element, Framework
from .serializers import (
    ComponentSerializer,
    ElementDetailSerializer,
    ElementSerializer,
    FrameworkSerializer,
)


class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    """Learning frameworks and their versions."""

    queryset = Framework.objects.order_by("slug", "-version")
    serializer_class = FrameworkSerializer
    ordering_fields = ["slug", "version"]


class ComponentViewSet(viewsets.ReadOnlyModelViewSet):
    """Components of the current framework (LC, LF, LL, LD)."""

    serializer_class = ComponentSerializer
    lookup_field = "code"
    ordering_fields = ["order", "code"]

    def get_queryset(self):
        return (
            Component.objects.filter(framework__is_current=True)
            .select_related("framework")
            .prefetch_related("elements", "open_questions")
            .order_by("order")
        )


class ElementViewSet(viewsets.ReadOnlyModelViewSet):
    """Elements of the current framework, with their current evidence rating."""

    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z]{2}\.\d+"
    filterset_class = ElementFilterSet
    ordering_fields = ["code", "order"]

    def get_queryset(self):
        return (
            Element.objects.current()
            .select_related("component")
            .prefetch_related("facets", overall_summaries_prefetch())
            .order_by("component__order", "order")
        )

    def get_serializer_class(self):
        return ElementDetailSerializer if self.action == "retrieve" else ElementSerializer

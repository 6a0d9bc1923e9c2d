import django_filters as filters

from evidence.constants import Rating

from .models import Element


class ElementFilterSet(filters.FilterSet):
    component = filters.CharFilter(field_name="component__code", lookup_expr="iexact")
    rating = filters.ChoiceFilter(method="filter_rating", choices=Rating.choices)

    class Meta:
        model = Element
        fields = ["component", "rating"]

    def filter_rating(self, queryset, name, value):
        if value == Rating.NO_EVIDENCE:
            return queryset.exclude(
                evidence_summaries__outcome_domain="",
                evidence_summaries__population__isnull=True,
                evidence_summaries__rating__in=[r for r in Rating.values if r != value],
            )
        return queryset.filter(
            evidence_summaries__outcome_domain="",
            evidence_summaries__population__isnull=True,
            evidence_summaries__rating=value,
        )

"""One FilterSet per listable model, shared by the HTML list pages and the API."""

import django_filters as filters
from django.db.models import Q

from .constants import Design, EssaTier, OutcomeDomain, ReviewStatus
from .models import EffectSize, GradeBand, Population, Setting, Study, StudyTag, Subject


class StudyFilterSet(filters.FilterSet):
    element = filters.CharFilter(
        field_name="tags__element__code",
        lookup_expr="iexact",
        distinct=True,
        label="Framework element code, e.g. LL.3",
    )
    component = filters.CharFilter(
        field_name="tags__element__component__code",
        lookup_expr="iexact",
        distinct=True,
        label="Framework component code, e.g. LL",
    )
    design = filters.MultipleChoiceFilter(
        field_name="design", lookup_expr="exact", choices=Design.choices, label="Design"
    )
    grade_band = filters.ModelChoiceFilter(
        field_name="grade_bands",
        lookup_expr="exact",
        to_field_name="code",
        queryset=GradeBand.objects.all(),
        distinct=True,
        label="Grade band",
    )
    population = filters.ModelChoiceFilter(
        field_name="populations",
        lookup_expr="exact",
        to_field_name="code",
        queryset=Population.objects.all(),
        label="Students",
        method="filter_population",
    )
    subject = filters.ModelChoiceFilter(
        field_name="subjects",
        lookup_expr="exact",
        to_field_name="code",
        queryset=Subject.objects.all(),
        distinct=True,
        label="Subject",
    )
    setting = filters.ModelChoiceFilter(
        field_name="settings",
        lookup_expr="exact",
        to_field_name="code",
        queryset=Setting.objects.all(),
        distinct=True,
        label="Setting",
    )
    outcome_domain = filters.ChoiceFilter(
        field_name="effects__outcome_domain",
        lookup_expr="exact",
        choices=OutcomeDomain.choices,
        distinct=True,
        label="Outcome",
        empty_label="Any outcome",
    )
    essa_tier = filters.ChoiceFilter(
        field_name="essa_tier",
        lookup_expr="exact",
        choices=EssaTier.choices,
        label="ESSA tier",
        empty_label="Any tier",
    )
    status = filters.ChoiceFilter(
        field_name="status",
        lookup_expr="exact",
        choices=ReviewStatus.choices,
        label="Review status",
    )
    year_min = filters.NumberFilter(field_name="year", lookup_expr="gte", label="From year")
    year_max = filters.NumberFilter(field_name="year", lookup_expr="lte", label="To year")
    doi = filters.CharFilter(field_name="doi", lookup_expr="iexact", label="DOI")
    q = filters.CharFilter(
        method="filter_text", label="Words in the title, abstract, authors or venue"
    )

    class Meta:
        model = Study
        fields = [
            "element",
            "component",
            "design",
            "grade_band",
            "population",
            "subject",
            "setting",
            "outcome_domain",
            "essa_tier",
            "status",
            "year_min",
            "year_max",
            "doi",
            "q",
        ]

    def filter_population(self, queryset, name, value):
        # A study speaks to a population through its sample or through a subgroup result.
        return queryset.filter(Q(populations=value) | Q(effects__population=value)).distinct()

    def filter_text(self, queryset, name, value):
        for word in value.split()[:10]:
            queryset = queryset.filter(
                Q(title__icontains=word)
                | Q(abstract__icontains=word)
                | Q(venue__icontains=word)
                | Q(authors__icontains=word)
            )
        return queryset


class EffectSizeFilterSet(filters.FilterSet):
    outcome_domain = filters.ChoiceFilter(
        field_name="outcome_domain", lookup_expr="exact", choices=OutcomeDomain.choices
    )
    population = filters.CharFilter(field_name="population__code", lookup_expr="exact")

    class Meta:
        model = EffectSize
        fields = ["outcome_domain", "population"]


class StudyTagFilterSet(filters.FilterSet):
    element = filters.CharFilter(field_name="element__code", lookup_expr="iexact")
    relevance = filters.CharFilter(field_name="relevance", lookup_expr="exact")

    class Meta:
        model = StudyTag
        fields = ["element", "relevance"]

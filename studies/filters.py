"""One FilterSet per listable model, shared by the HTML list pages and the API."""

import django_filters as filters
from django.db.models import Q
from django_filters.constants import EMPTY_VALUES

from .constants import Design, EssaTier, OutcomeDomain, ReviewStatus
from .models import EffectSize, GradeBand, Population, Setting, Study, StudyTag, Subject


class ThroughRowsMixin:
    """Match studies through rows of a related table as a semi-join, ``id IN (SELECT study_id
    FROM <table> WHERE ...)``, instead of joining and adding DISTINCT.

    ``through`` is the table (it has ``study_id``) and the path, from it, that ``lookup_expr``
    applies to; ``field_name`` keeps the path from the study for the OpenAPI schema. DISTINCT over
    every column of thousands of matching studies, for the page and again for its count, cost
    the API 150-500 ms per request at 100,000 studies (benchmarks/api.py).
    """

    def __init__(self, *args, through: tuple, **kwargs):
        self.through_model, self.through_path = through
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        rows = self.through_model._default_manager.filter(
            **{f"{self.through_path}__{self.lookup_expr}": value}
        )
        return qs.filter(pk__in=rows.values("study_id"))


class ThroughCharFilter(ThroughRowsMixin, filters.CharFilter):
    pass


class ThroughChoiceFilter(ThroughRowsMixin, filters.ChoiceFilter):
    pass


class ThroughModelChoiceFilter(ThroughRowsMixin, filters.ModelChoiceFilter):
    pass


class StudyFilterSet(filters.FilterSet):
    element = ThroughCharFilter(
        field_name="tags__element__code",
        lookup_expr="iexact",
        through=(StudyTag, "element__code"),
        label="Framework element code, e.g. LL.3",
    )
    component = ThroughCharFilter(
        field_name="tags__element__component__code",
        lookup_expr="iexact",
        through=(StudyTag, "element__component__code"),
        label="Framework component code, e.g. LL",
    )
    design = filters.MultipleChoiceFilter(
        field_name="design",
        lookup_expr="exact",
        choices=Design.choices,
        distinct=False,  # a column of the study: the default DISTINCT only cost a sort
        label="Design",
    )
    grade_band = ThroughModelChoiceFilter(
        field_name="grade_bands",
        lookup_expr="exact",
        to_field_name="code",
        queryset=GradeBand.objects.all(),
        through=(Study.grade_bands.through, "gradeband"),
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
    subject = ThroughModelChoiceFilter(
        field_name="subjects",
        lookup_expr="exact",
        to_field_name="code",
        queryset=Subject.objects.all(),
        through=(Study.subjects.through, "subject"),
        label="Subject",
    )
    setting = ThroughModelChoiceFilter(
        field_name="settings",
        lookup_expr="exact",
        to_field_name="code",
        queryset=Setting.objects.all(),
        through=(Study.settings.through, "setting"),
        label="Setting",
    )
    outcome_domain = ThroughChoiceFilter(
        field_name="effects__outcome_domain",
        lookup_expr="exact",
        choices=OutcomeDomain.choices,
        through=(EffectSize, "outcome_domain"),
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
        # A study speaks to a population through its sample or through a subgroup result; two
        # semi-joins, not two joins and a DISTINCT (over a second a request at 100,000 studies).
        in_sample = Study.populations.through.objects.filter(population=value)
        in_results = EffectSize.objects.filter(population=value)
        return queryset.filter(
            Q(pk__in=in_sample.values("study_id")) | Q(pk__in=in_results.values("study_id"))
        )

    def filter_text(self, queryset, name, value):
        return queryset.matching(value)


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

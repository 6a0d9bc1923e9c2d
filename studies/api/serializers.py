"""Studies API: explicit output serializers, separate input serializers where writes differ."""

from rest_framework import serializers

from evidence.stats.effect_sizes import INPUT_KINDS
from frameworks.models import Element, Facet

from ..constants import EffectInput, SampleUnit
from ..identifiers import InvalidDOI, normalize_doi
from ..models import (
    EFFECT_COMPUTED_FIELDS,
    STUDY_EDITABLE_FIELDS,
    EffectSize,
    GradeBand,
    Population,
    Setting,
    Study,
    StudyTag,
    Subject,
)


def _codes(model):
    return serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=model.objects.all(), required=False
    )


def prefetched(study, name: str) -> list:
    """The related rows the view prefetched into ``<name>_list``, else a query for them.

    Lists (``Prefetch(..., to_attr=...)``) rather than Django's prefetched managers: those build
    a queryset per study and relation, about a third of a 50-study page's time.
    """
    rows = getattr(study, f"{name}_list", None)
    return getattr(study, name).all() if rows is None else rows


class CodesField(serializers.ListField):
    """The codes of a study's terms in one vocabulary (grade bands, populations...)."""

    child = serializers.CharField()

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, study):
        return [term.code for term in prefetched(study, self.field_name)]


class StudySerializer(serializers.ModelSerializer):
    """A study as the API shows it."""

    grade_bands = CodesField()
    populations = CodesField()
    subjects = CodesField()
    settings = CodesField()
    elements = serializers.SerializerMethodField()
    url = serializers.CharField(read_only=True, help_text="Publication URL, or empty.")
    sample_unit = serializers.ChoiceField(
        choices=SampleUnit.choices, allow_blank=True, read_only=True
    )
    page = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Study
        fields = [
            "id",
            *STUDY_EDITABLE_FIELDS,
            "essa_tier",
            "essa_reason",
            "status",
            "review_comment",
            "elements",
            "created_at",
            "updated_at",
            "published_at",
            "version",
            "page",
        ]
        read_only_fields = fields

    def get_elements(self, study) -> list[str]:
        return sorted({tag.element.code for tag in prefetched(study, "tags")})


class StudyInputSerializer(serializers.ModelSerializer):
    """What a researcher or curator may write on a study (status changes go through actions)."""

    authors = serializers.ListField(
        child=serializers.CharField(max_length=300),
        allow_empty=True,
        required=False,
        max_length=2000,
    )
    grade_bands = _codes(GradeBand)
    populations = _codes(Population)
    subjects = _codes(Subject)
    settings = _codes(Setting)
    doi = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you edited (required on update)."
    )

    class Meta:
        model = Study
        fields = [
            *STUDY_EDITABLE_FIELDS,
            "version",
        ]

    def validate_doi(self, value):
        try:
            return normalize_doi(value)
        except InvalidDOI as exc:
            raise serializers.ValidationError(str(exc)) from exc


class ReviewActionSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text="Required to return (what to fix) or retract (the reason).",
    )


class EffectSizeSerializer(serializers.ModelSerializer):
    """An effect as reported and as converted to Hedges' g (positive = favorable)."""

    input = serializers.CharField(source="input_kind", read_only=True)
    population = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = EffectSize
        fields = [
            "id",
            "study",
            "outcome_domain",
            "measure",
            "population",
            "subgroup",
            "input",
            "reported",
            "reported_p",
            "higher_is_better",
            "clustered",
            "icc",
            "cluster_size",
            *EFFECT_COMPUTED_FIELDS,
            "notes",
            "version",
        ]
        read_only_fields = fields


STATISTIC_FIELDS = (
    "value",
    "se",
    "variance",
    "ci_low",
    "ci_high",
    "kind",
    "mean_t",
    "sd_t",
    "n_t",
    "mean_c",
    "sd_c",
    "n_c",
    "t",
    "f",
    "p",
    "sign",
    "odds_ratio",
    "method",
    "events_t",
    "events_c",
    "r",
    "n",
    "points",
)


class EffectSizeInputSerializer(serializers.Serializer):
    """An effect as a paper reports it: the input kind and its statistics, flat."""

    input = serializers.ChoiceField(choices=EffectInput.choices)
    outcome_domain = serializers.ChoiceField(
        choices=EffectSize._meta.get_field("outcome_domain").choices
    )
    measure = serializers.CharField(max_length=300, required=False, allow_blank=True)
    population = serializers.SlugRelatedField(
        slug_field="code", queryset=Population.objects.all(), required=False, allow_null=True
    )
    subgroup = serializers.CharField(max_length=200, required=False, allow_blank=True)
    higher_is_better = serializers.BooleanField(required=False, default=True)
    reported_p = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    clustered = serializers.BooleanField(required=False, default=False)
    icc = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=0.99)
    cluster_size = serializers.FloatField(required=False, allow_null=True, min_value=1)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    version = serializers.IntegerField(required=False, min_value=1)
    # The reported statistics (which ones depends on `input`; the conversion says what is missing)
    value = serializers.FloatField(required=False, help_text="smd: the reported g or d")
    kind = serializers.ChoiceField(
        choices=["g", "d"], required=False, help_text="smd: whether value is g or d"
    )
    se = serializers.FloatField(required=False)
    variance = serializers.FloatField(required=False)
    ci_low = serializers.FloatField(required=False)
    ci_high = serializers.FloatField(required=False)
    mean_t = serializers.FloatField(required=False)
    sd_t = serializers.FloatField(required=False)
    n_t = serializers.FloatField(required=False)
    mean_c = serializers.FloatField(required=False)
    sd_c = serializers.FloatField(required=False)
    n_c = serializers.FloatField(required=False)
    t = serializers.FloatField(required=False)
    f = serializers.FloatField(required=False)
    p = serializers.FloatField(required=False)
    sign = serializers.ChoiceField(
        choices=[1, -1], required=False, help_text="f, p: +1 favours treatment"
    )
    odds_ratio = serializers.FloatField(required=False)
    method = serializers.ChoiceField(choices=["logit", "cox"], required=False)
    events_t = serializers.FloatField(required=False)
    events_c = serializers.FloatField(required=False)
    r = serializers.FloatField(required=False)
    n = serializers.FloatField(required=False)
    points = serializers.FloatField(
        required=False, help_text="percentile_points: improvement index"
    )

    def validate_input(self, value):
        if value not in INPUT_KINDS:
            raise serializers.ValidationError(f"Must be one of {', '.join(INPUT_KINDS)}.")
        return value


class StudyTagSerializer(serializers.ModelSerializer):
    element = serializers.CharField(source="element.code", read_only=True)
    facet = serializers.CharField(
        source="facet.code", read_only=True, allow_null=True, default=None
    )
    tagged_by = serializers.CharField(
        source="tagged_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = StudyTag
        fields = ["id", "study", "element", "facet", "relevance", "tagged_by", "created_at"]
        read_only_fields = fields


class StudyTagInputSerializer(serializers.Serializer):
    element = serializers.CharField(max_length=10, help_text="Element code, e.g. LL.3")
    facet = serializers.CharField(max_length=20, required=False, allow_null=True, allow_blank=True)
    relevance = serializers.ChoiceField(
        choices=StudyTag._meta.get_field("relevance").choices, default="primary"
    )

    def validate(self, attrs):
        element = Element.objects.current().filter(code__iexact=attrs["element"]).first()
        if element is None:
            raise serializers.ValidationError(
                {"element": [f"Unknown element code “{attrs['element']}”."]}
            )
        attrs["element"] = element
        facet_code = attrs.get("facet")
        attrs["facet"] = None
        if facet_code:
            attrs["facet"] = Facet.objects.filter(element=element, code=facet_code).first()
            if attrs["facet"] is None:
                raise serializers.ValidationError(
                    {"facet": [f"{element.code} has no facet “{facet_code}”."]}
                )
        return attrs


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    model = serializers.CharField()
    object_id = serializers.IntegerField()
    action = serializers.CharField()
    changes = serializers.ListField(child=serializers.DictField())

from rest_framework import serializers

from ..gaps import DISTANCE_MEANING
from ..models import EvidenceSummary, RecomputeJob


class PooledSerializer(serializers.Serializer):
    method = serializers.CharField()
    ci_method = serializers.CharField()
    estimate = serializers.FloatField()
    se = serializers.FloatField()
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    pi_low = serializers.FloatField(allow_null=True)
    pi_high = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)
    tau2 = serializers.FloatField(allow_null=True)
    i2 = serializers.FloatField(allow_null=True)
    h2 = serializers.FloatField(allow_null=True)
    q = serializers.FloatField(allow_null=True)
    q_p = serializers.FloatField(allow_null=True)
    k = serializers.IntegerField()


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    rule = serializers.IntegerField()
    study_ids = serializers.ListField(child=serializers.IntegerField())
    study_count = serializers.IntegerField()


class SummarySerializer(serializers.ModelSerializer):
    """One stored evidence summary in the API contract's shape."""

    pooled = serializers.SerializerMethodField()
    reasons = ReasonSerializer(many=True)
    population = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = EvidenceSummary
        fields = [
            "outcome_domain",
            "population",
            "rating",
            "reasons",
            "next_level",
            "k_studies",
            "total_n",
            "pooled",
            "forest",
            "computed_at",
            "rules_version",
        ]

    def get_pooled(self, summary: EvidenceSummary) -> dict | None:
        if summary.estimate is None:
            return None
        return PooledSerializer(summary).data


class ElementEvidenceSerializer(SummarySerializer):
    by_domain = serializers.SerializerMethodField()
    by_population = serializers.SerializerMethodField()
    element = serializers.CharField(source="element.code")

    class Meta(SummarySerializer.Meta):
        fields = ["element", *SummarySerializer.Meta.fields, "by_domain", "by_population"]

    def get_by_domain(self, summary) -> list[dict]:
        return SummarySerializer(self.context["by_domain"], many=True).data

    def get_by_population(self, summary) -> list[dict]:
        return SummarySerializer(self.context["by_population"], many=True).data


class RecomputeJobSerializer(serializers.ModelSerializer):
    element = serializers.CharField(source="element.code", allow_null=True, read_only=True)

    class Meta:
        model = RecomputeJob
        fields = ["id", "element", "state", "total", "done", "error", "created_at", "finished_at"]


# --- The gap report (evidence.gaps dataclasses, read-only) ----------------------------------


class GapTermSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class GapFiltersSerializer(serializers.Serializer):
    """The filters the report applied (include_under_review is false unless a curator asked)."""

    dimension = serializers.CharField()
    component = serializers.CharField()
    grade_band = serializers.CharField()
    population = serializers.CharField()
    year_min = serializers.IntegerField(allow_null=True)
    year_max = serializers.IntegerField(allow_null=True)
    designs = serializers.ListField(child=serializers.CharField())
    include_under_review = serializers.BooleanField()
    recent_year = serializers.IntegerField()
    gap = serializers.CharField()
    equity_for = serializers.CharField()


class GapCellSerializer(serializers.Serializer):
    column = serializers.CharField(help_text='The column code; "" for the element\'s total.')
    n_studies = serializers.IntegerField()
    best_tier = serializers.IntegerField(allow_null=True)
    strength = serializers.CharField()
    latest_year = serializers.IntegerField(allow_null=True)
    distance = serializers.IntegerField(help_text="Distance from moderate evidence, 0-3.")
    kinds = serializers.ListField(child=serializers.CharField())
    studies_url = serializers.CharField()


class GapOpenQuestionSerializer(serializers.Serializer):
    text = serializers.CharField()
    origin = serializers.ChoiceField(choices=["snapshot", "convening"])
    source = serializers.CharField()
    url = serializers.CharField()


class GapElementSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    rating = serializers.CharField(help_text='The stored overall rating ("" when not computed).')
    total = GapCellSerializer()
    cells = GapCellSerializer(many=True)
    missing_populations = serializers.SerializerMethodField()
    open_questions = GapOpenQuestionSerializer(many=True)

    def get_missing_populations(self, row) -> list[str]:
        return [p.code for p in row.missing_populations]


class GapComponentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    elements = GapElementSerializer(many=True, source="rows")


class GapCountSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    elements = serializers.IntegerField()
    cells = serializers.IntegerField(help_text="For equity: element × population pairs.")


class GapEquitySerializer(serializers.Serializer):
    population = serializers.CharField(source="population.code")
    label = serializers.CharField(source="population.label")
    elements_with_studies = serializers.IntegerField()
    elements_with_tier_1_2 = serializers.IntegerField()
    elements_missing = serializers.ListField(child=serializers.CharField())


class GapNextLevelSerializer(serializers.Serializer):
    rating = serializers.CharField()
    text = serializers.CharField()
    stored = serializers.BooleanField(
        help_text="The stored summary's own next level (true) or the engine's at this distance."
    )


class RankedGapSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    element = serializers.CharField(source="row.code")
    element_title = serializers.CharField(source="row.title")
    component = serializers.CharField(source="row.component")
    column = serializers.CharField(source="column.code", allow_null=True, default=None)
    column_label = serializers.CharField(source="column.label", allow_null=True, default=None)
    distance = serializers.IntegerField(source="cell.distance")
    distance_meaning = serializers.CharField()
    n_studies = serializers.IntegerField(source="cell.n_studies")
    best_tier = serializers.IntegerField(source="cell.best_tier", allow_null=True)
    strength = serializers.CharField(source="cell.strength")
    latest_year = serializers.IntegerField(source="cell.latest_year", allow_null=True)
    kinds = serializers.ListField(child=serializers.CharField(), source="cell.kinds")
    missing_populations = serializers.SerializerMethodField()
    next_level = GapNextLevelSerializer()
    open_questions = GapOpenQuestionSerializer(many=True, source="row.open_questions")
    studies_url = serializers.CharField(source="cell.studies_url")

    def get_missing_populations(self, gap) -> list[str]:
        return [p.code for p in gap.missing_populations]


class GapReportSerializer(serializers.Serializer):
    """The funder gap report: the same numbers as the /gaps/ page and its CSV exports."""

    filters = GapFiltersSerializer()
    rules_version = serializers.IntegerField()
    summary = serializers.ListField(child=serializers.CharField())
    n_elements = serializers.IntegerField()
    n_studies = serializers.IntegerField()
    distances = serializers.SerializerMethodField()
    dimension = GapTermSerializer()
    columns = GapTermSerializer(many=True)
    counts = GapCountSerializer(many=True)
    equity = GapEquitySerializer(many=True)
    components = GapComponentSerializer(many=True)
    ranked = RankedGapSerializer(many=True)

    def get_distances(self, report) -> dict[str, str]:
        return {str(d): meaning for d, meaning in DISTANCE_MEANING.items()}

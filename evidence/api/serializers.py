from rest_framework import serializers

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
    population = serializers.SlugRelatedField(slug_field="code", read_only=True)

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

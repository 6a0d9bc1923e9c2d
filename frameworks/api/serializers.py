from rest_framework import serializers

from evidence.api.serializers import SummarySerializer

from ..models import Component, Element, Facet, Framework


class FrameworkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Framework
        fields = ["id", "slug", "name", "version", "publisher", "source", "is_current"]


class ComponentSerializer(serializers.ModelSerializer):
    framework = serializers.CharField(source="framework.slug")
    framework_version = serializers.CharField(source="framework.version")
    elements = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    open_questions = serializers.SlugRelatedField(slug_field="text", many=True, read_only=True)

    class Meta:
        model = Component
        fields = [
            "code",
            "name",
            "tagline",
            "summary",
            "why_it_matters",
            "research_summary",
            "framework",
            "framework_version",
            "elements",
            "open_questions",
        ]


class FacetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Facet
        fields = ["code", "name"]


class ElementSerializer(serializers.ModelSerializer):
    component = serializers.CharField(source="component.code")
    rating = serializers.SerializerMethodField()
    k_studies = serializers.SerializerMethodField()
    page = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = Element
        fields = ["code", "title", "component", "summary", "rating", "k_studies", "page"]

    def _overall(self, element):
        summaries = getattr(element, "overall_summaries", [])
        return summaries[0] if summaries else None

    def get_rating(self, element) -> str:
        overall = self._overall(element)
        return overall.rating if overall else "no_evidence"

    def get_k_studies(self, element) -> int:
        overall = self._overall(element)
        return overall.k_studies if overall else 0


class ElementDetailSerializer(ElementSerializer):
    facets = FacetSerializer(many=True, read_only=True)
    evidence = serializers.SerializerMethodField()

    class Meta(ElementSerializer.Meta):
        fields = [*ElementSerializer.Meta.fields, "facets", "evidence"]

    def get_evidence(self, element) -> dict | None:
        overall = self._overall(element)
        return SummarySerializer(overall).data if overall else None

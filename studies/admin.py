from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    EffectSize,
    GradeBand,
    ImportBatch,
    Population,
    Setting,
    Study,
    StudyTag,
    Subject,
)


def _refresh_gap_facts(study_ids) -> None:
    from evidence.gaps.facts import gap_facts_refresh

    gap_facts_refresh(study_ids=study_ids)


def _rebuild_gap_facts() -> None:
    from evidence.gaps.facts import gap_facts_rebuild

    gap_facts_rebuild()


class KeepsGapFacts:
    """Admin edits bypass the services: re-derive the gap report facts of the studies an effect
    or tag edit touched (its study before and after the edit), and after bulk deletes."""

    def save_model(self, request, obj, form, change):
        before = type(obj).objects.filter(pk=obj.pk).values_list("study_id", flat=True).first()
        super().save_model(request, obj, form, change)
        _refresh_gap_facts({obj.study_id, before} - {None})

    def delete_model(self, request, obj):
        study_id = obj.study_id
        super().delete_model(request, obj)
        _refresh_gap_facts([study_id])

    def delete_queryset(self, request, queryset):
        study_ids = set(queryset.values_list("study_id", flat=True))
        super().delete_queryset(request, queryset)
        _refresh_gap_facts(study_ids)


class EffectSizeInline(admin.StackedInline):
    model = EffectSize
    extra = 0
    fields = [
        ("outcome_domain", "measure"),
        ("population", "subgroup"),
        ("input_kind", "higher_is_better"),
        "reported",
        ("reported_p", "reported_significant"),
        ("clustered", "icc", "cluster_size"),
        ("g", "variance", "ci_low", "ci_high"),
        ("p_value", "significant", "direction", "conversion"),
        "notes",
    ]
    readonly_fields = [
        "g",
        "variance",
        "ci_low",
        "ci_high",
        "p_value",
        "significant",
        "direction",
        "conversion",
    ]


class StudyTagInline(admin.TabularInline):
    model = StudyTag
    extra = 0
    fields = ["element", "facet", "relevance", "tagged_by"]
    autocomplete_fields = ["element"]
    raw_id_fields = ["facet", "tagged_by"]


@admin.register(Study)
class StudyAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "year", "design", "status", "essa_tier", "sample_size"]
    list_filter = [
        "status",
        "design",
        "essa_tier",
        "wwc_rating",
        "publication_type",
        "is_synthetic",
        "grade_bands",
        "populations",
        "tags__element__component__code",
    ]
    search_fields = ["title", "authors", "venue", "doi", "abstract"]
    filter_horizontal = ["grade_bands", "populations", "subjects", "settings"]
    readonly_fields = [
        "essa_tier",
        "essa_reason",
        "created_at",
        "updated_at",
        "published_at",
        "version",
    ]
    raw_id_fields = ["created_by", "updated_by"]
    inlines = [EffectSizeInline, StudyTagInline]

    def save_related(self, request, form, formsets, change):
        # After the vocabularies and the inline effects and tags are saved.
        super().save_related(request, form, formsets, change)
        _refresh_gap_facts([form.instance.pk])

    fieldsets = [
        (
            "Citation",
            {
                "fields": [
                    "title",
                    "authors",
                    "year",
                    "venue",
                    ("volume", "issue", "pages"),
                    "doi",
                    "url",
                    "publication_type",
                    "abstract",
                ]
            },
        ),
        (
            "Design and sample",
            {
                "fields": [
                    "design",
                    ("sample_size", "sample_unit"),
                    "n_sites",
                    "country",
                    "grade_bands",
                    "populations",
                    "subjects",
                    "settings",
                ]
            },
        ),
        (
            "Quality",
            {
                "fields": [
                    "wwc_rating",
                    "attrition",
                    "baseline_equivalence",
                    "essa_tier",
                    "essa_reason",
                ]
            },
        ),
        (
            "Review",
            {
                "fields": [
                    "status",
                    "review_comment",
                    "source_note",
                    "is_synthetic",
                    "created_by",
                    "updated_by",
                    "created_at",
                    "updated_at",
                    "published_at",
                    "version",
                ]
            },
        ),
    ]


@admin.register(EffectSize)
class EffectSizeAdmin(KeepsGapFacts, SimpleHistoryAdmin):
    list_display = ["study", "outcome_domain", "measure", "g", "ci_low", "ci_high", "significant"]
    list_filter = ["outcome_domain", "input_kind", "direction", "significant", "population"]
    search_fields = ["measure", "subgroup", "study__title"]
    list_select_related = ["study"]
    raw_id_fields = ["study"]


@admin.register(StudyTag)
class StudyTagAdmin(KeepsGapFacts, SimpleHistoryAdmin):
    list_display = ["study", "element", "facet", "relevance", "tagged_by", "created_at"]
    list_filter = ["relevance", "element__component__code", "element"]
    search_fields = ["study__title", "element__code"]
    list_select_related = ["study", "element", "facet", "tagged_by"]
    raw_id_fields = ["study", "facet", "tagged_by"]


@admin.register(GradeBand, Population, Subject, Setting)
class VocabularyAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "order"]
    search_fields = ["code", "label"]

    # The gap report's facts name terms by code: a renamed or deleted term re-derives them all.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "code" in form.changed_data:
            _rebuild_gap_facts()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _rebuild_gap_facts()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        _rebuild_gap_facts()


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Large imports and where they stand (read-only: the tasks move them on)."""

    list_display = ["filename", "created_by", "status", "phase", "done", "total", "created_at"]
    list_filter = ["status"]
    search_fields = ["filename", "created_by__username"]
    list_select_related = ["created_by"]
    exclude = ["data"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

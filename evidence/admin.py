from django.contrib import admin

from .models import DirtyElement, EvidenceHistory, EvidenceSummary, RecomputeJob


@admin.register(EvidenceSummary)
class EvidenceSummaryAdmin(admin.ModelAdmin):
    list_display = [
        "element",
        "outcome_domain",
        "population",
        "rating",
        "k",
        "estimate",
        "computed_at",
    ]
    list_filter = ["rating", "outcome_domain", "element__component__code", "rules_version"]
    search_fields = ["element__code", "element__title"]
    list_select_related = ["element", "population"]
    readonly_fields = [f.name for f in EvidenceSummary._meta.fields]


@admin.register(EvidenceHistory)
class EvidenceHistoryAdmin(admin.ModelAdmin):
    list_display = [
        "element",
        "outcome_domain",
        "rating_before",
        "rating_after",
        "estimate_after",
        "changed_at",
    ]
    list_filter = ["rating_after", "rules_version"]
    search_fields = ["element__code"]
    list_select_related = ["element"]


@admin.register(DirtyElement)
class DirtyElementAdmin(admin.ModelAdmin):
    list_display = ["element", "marked_at"]
    list_select_related = ["element"]


@admin.register(RecomputeJob)
class RecomputeJobAdmin(admin.ModelAdmin):
    list_display = ["id", "element", "state", "done", "total", "created_at", "finished_at"]
    list_filter = ["state"]

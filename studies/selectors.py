"""Reads of studies that carry logic (visibility, prefetching)."""

from django.shortcuts import get_object_or_404

from .models import Study


def published_studies_for_element(element) -> list[Study]:
    """The published studies tagged to an element, newest first."""
    return list(Study.objects.published().for_element(element).order_by("-year", "title"))


def published_study(pk: int) -> Study:
    """One published study with everything its page shows (404 for anything unpublished)."""
    return get_object_or_404(
        Study.objects.published().prefetch_related(
            "effects__population",
            "tags__element",
            "tags__facet",
            "grade_bands",
            "populations",
            "subjects",
            "settings",
        ),
        pk=pk,
    )


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def _history_entries(model_name: str, records) -> list[dict]:
    """Audit entries for one model's historical records, each with its field changes."""
    previous: dict[int, object] = {}
    entries = []
    for record in records:
        before = previous.get(record.id)
        changes = []
        if before is not None and record.history_type == "~":
            delta = record.diff_against(before)
            changes = [
                {"field": c.field, "old": _plain(c.old), "new": _plain(c.new)}
                for c in delta.changes
            ]
        entries.append(
            {
                "at": record.history_date,
                "user": record.history_user.username if record.history_user else None,
                "model": model_name,
                "object_id": record.id,
                "action": _ACTIONS[record.history_type],
                "changes": changes,
            }
        )
        previous[record.id] = record
    return entries


def _plain(value):
    return (
        value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)
    )


def study_history(study: Study) -> list[dict]:
    """Who changed what on a study, its effects and its tags, newest first."""
    from .models import EffectSize, StudyTag

    sources = [
        ("study", Study.history.filter(id=study.pk)),
        ("effect", EffectSize.history.filter(study_id=study.pk)),
        ("tag", StudyTag.history.filter(study_id=study.pk)),
    ]
    entries = []
    for name, records in sources:
        entries += _history_entries(
            name, records.select_related("history_user").order_by("history_date", "history_id")
        )
    return sorted(entries, key=lambda e: e["at"], reverse=True)

"""Entering and editing a study (with the instant DOI and duplicate check), and its workspace page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render

from .. import exports, roles, selectors, services
from ..constants import ReviewStatus
from ..forms import StudyForm
from ..identifiers import InvalidDOI, normalize_doi, normalize_title
from ..models import EffectSize, Study, StudyTag
from .access import add_errors, editable_study, workspace_required
from .effects import describe_conversion


def _duplicate_error(form, exc: services.DuplicateStudy) -> None:
    same_doi = exc.existing.doi and exc.existing.doi == form.cleaned_data.get("doi")
    form.add_error(
        "doi" if same_doi else None,
        f"This study is already in the database as #{exc.existing.pk}: {exc.existing}"
        f"{'' if same_doi else ' (same title and year)'}. Open that one instead of entering it twice.",
    )


@workspace_required
def study_create(request):
    form = StudyForm(request.POST or None, curator=roles.is_curator(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            study = services.study_create(data=form.study_data(), user=request.user)
        except services.DuplicateStudy as exc:
            _duplicate_error(form, exc)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Study saved as a draft. Add its effects and tags next.")
            return redirect("workspace:study", pk=study.pk)
    return render(request, "workspace/study_form.html", {"form": form, "study": None})


def _differences(form: StudyForm, current: Study) -> list[dict]:
    """What the editor typed that differs from the version saved meanwhile."""
    rows = []
    for name, value in form.study_data().items():
        now = getattr(current, name)
        if hasattr(now, "all"):
            now, value = set(now.all()), set(value)
        if now != value and (now or value):
            shown = ", ".join(map(str, value)) if isinstance(value, set | list) else value
            rows.append({"label": form.fields[name].label, "yours": shown})
    return rows


@workspace_required
def study_edit(request, pk: int):
    study = editable_study(request, pk)
    curator = roles.is_curator(request.user)
    form = StudyForm(
        request.POST or None, instance=study, initial={"version": study.version}, curator=curator
    )
    form.fields["version"].required = True
    stale = None
    if request.method == "POST" and form.is_valid():
        try:
            services.study_update(
                study=Study.objects.get(pk=pk),
                data=form.study_data(),
                user=request.user,
                expected_version=form.cleaned_data["version"],
            )
        except services.StaleVersion as exc:
            # Never overwrite: show what is saved now, and what this editor had typed.
            current = Study.objects.get(pk=pk)
            stale = {"version": exc.current_version, "yours": _differences(form, current)}
            form = StudyForm(
                instance=current, initial={"version": current.version}, curator=curator
            )
        except services.DuplicateStudy as exc:
            _duplicate_error(form, exc)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Study saved.")
            return redirect("workspace:study", pk=pk)
    return render(
        request, "workspace/study_form.html", {"form": form, "study": study, "stale": stale}
    )


@workspace_required
def doi_check(request):
    """htmx: the DOI in its one spelling, and any study already there with it (or title + year)."""
    raw, title = request.GET.get("doi", ""), request.GET.get("title", "").strip()
    year = request.GET.get("year", "")
    exclude = request.GET.get("study", "")
    context: dict = {"raw": raw.strip()}
    try:
        context["doi"] = normalize_doi(raw)
    except InvalidDOI as exc:
        context["error"] = str(exc)
    duplicate = services.study_find_duplicate(
        doi=context.get("doi"),
        title=title,
        year=int(year) if year.isdigit() and normalize_title(title) else None,
        exclude_pk=int(exclude) if exclude.isdigit() else None,
    )
    if duplicate:
        context["duplicate"] = duplicate
        context["can_open"] = (
            Study.objects.visible_to(request.user).filter(pk=duplicate.pk).exists()
        )
    return render(request, "workspace/_doi_check.html", context)


@workspace_required
def study_detail(request, pk: int):
    """The study's workspace page: citation, effects with their formulas, tags, history."""
    study = get_object_or_404(
        Study.objects.visible_to(request.user)
        .select_related("created_by")
        .prefetch_related(
            "grade_bands",
            "populations",
            "subjects",
            "settings",
            Prefetch("effects", queryset=EffectSize.objects.select_related("population")),
            Prefetch("tags", queryset=StudyTag.objects.select_related("element", "facet")),
        ),
        pk=pk,
    )
    for effect in study.effects.all():
        effect.formula = describe_conversion(effect.conversion)
    curator = roles.is_curator(request.user)
    return render(
        request,
        "workspace/study_detail.html",
        {
            "study": study,
            "citation": exports.apa_citation(study),
            "can_edit": roles.can_edit_study(request.user, study),
            "can_submit": (curator or study.created_by_id == request.user.pk)
            and study.status in (ReviewStatus.DRAFT, ReviewStatus.RETURNED),
            "is_curator": curator,
            "history": selectors.study_history(study),
        },
    )

"""The researcher's workspace: dashboard, study entry, effects with the calculator, tagging,
curator review (diff, publish, return, retract, merge) and list exports.

Views parse, call one service (or read), and render; the services in services.py write.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from evidence.stats.effect_sizes import INPUT_KINDS, EffectSizeError
from frameworks.models import Element

from . import exports, roles, selectors, services
from .constants import ReviewStatus
from .filters import StudyFilterSet
from .forms import (
    BulkTagForm,
    EffectForm,
    EffectKindForm,
    MergeForm,
    ReviewForm,
    StudyForm,
    TagForm,
)
from .identifiers import InvalidDOI, normalize_doi, normalize_title
from .models import EffectSize, Study, StudyTag
from .views import FORMATS

PAGE_SIZE = 50
REVIEW_ACTIONS = ("submit", "publish", "return", "retract")


# --- Access ---------------------------------------------------------------------------------


def _role_check(test, refusal: str):
    """Sign in first (redirect to the login page), then pass the role test (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            # One query for the user's groups, however many role checks the page makes.
            prefetch_related_objects([request.user], "groups")
            if not test(request.user):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


workspace_required = _role_check(roles.is_researcher, "The workspace needs the researcher role.")
curator_required = _role_check(roles.is_curator, "Reviewing needs the curator role.")


def _workspace_studies(user):
    """The studies a workspace lists: every study for curators, one's own for researchers."""
    return Study.objects.all() if roles.is_curator(user) else Study.objects.filter(created_by=user)


def _editable_study(request, pk: int) -> Study:
    study = get_object_or_404(Study.objects.visible_to(request.user), pk=pk)
    if not roles.can_edit_study(request.user, study):
        raise PermissionDenied("Only its author (while a draft or returned) or a curator may edit.")
    return study


def _add_errors(form, exc: ValidationError) -> None:
    """A service's validation error on the form: on its field when the form has one."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    for field, messages_ in errors.items():
        form.add_error(field if field in form.fields else None, messages_)


# --- Dashboard and lists --------------------------------------------------------------------


def _with_counts(queryset):
    return queryset.annotate(
        n_effects=Count("effects", distinct=True), n_tags=Count("tags", distinct=True)
    )


def review_queue():
    """Submitted studies, oldest first, saying whether each updates a published version."""
    published_before = Study.history.filter(id=OuterRef("pk"), status=ReviewStatus.PUBLISHED)
    return (
        _with_counts(Study.objects.filter(status=ReviewStatus.SUBMITTED))
        .select_related("created_by")
        .annotate(was_published=Exists(published_before))
        .order_by("updated_at", "pk")
    )


@workspace_required
def dashboard(request):
    mine = _with_counts(Study.objects.filter(created_by=request.user)).order_by("-updated_at")
    context = {
        "drafts": mine.filter(status=ReviewStatus.DRAFT),
        "returned": mine.filter(status=ReviewStatus.RETURNED),
        "submitted": mine.filter(status=ReviewStatus.SUBMITTED),
        "published": mine.filter(status=ReviewStatus.PUBLISHED).order_by("-published_at")[:10],
        "is_curator": roles.is_curator(request.user),
    }
    if context["is_curator"]:
        context["queue"] = review_queue()[:20]
    return render(request, "workspace/dashboard.html", context)


def _filtered(request):
    queryset = _workspace_studies(request.user).order_by("-updated_at", "pk")
    study_filter = StudyFilterSet(request.GET, queryset=queryset)
    return study_filter, (study_filter.qs if study_filter.is_valid() else queryset.none())


def _tree(query: str = "") -> list[Element]:
    """The current framework's elements with their facets, narrowed by words if given."""
    elements = list(
        Element.objects.current().select_related("component").prefetch_related("facets")
    )
    words = query.lower().split()
    if not words:
        return elements

    def text(element: Element) -> str:
        facets = " ".join(facet.name for facet in element.facets.all())
        return f"{element.code} {element.title} {element.component.name} {facets}".lower()

    return [element for element in elements if all(word in text(element) for word in words)]


@workspace_required
def study_list(request):
    """My studies (every study for curators), filtered, to open, tag in bulk or export."""
    study_filter, studies = _filtered(request)
    page = Paginator(_with_counts(studies), PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "workspace/study_list.html",
        {
            "filter": study_filter,
            "page": page,
            "query": params.urlencode(),
            "bulk_form": BulkTagForm(elements=_tree(), studies=studies),
        },
    )


@require_POST
@workspace_required
def bulk_tag(request):
    """Tag the chosen studies of the filtered list (the filter rides in the query string)."""
    _, studies = _filtered(request)
    form = BulkTagForm(request.POST, elements=_tree(), studies=studies)
    back = f"{reverse('workspace:studies')}?{request.GET.urlencode()}"
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(back)
    chosen = list(studies if form.cleaned_data["everything"] else form.cleaned_data["studies"])
    allowed = [study for study in chosen if roles.can_edit_study(request.user, study)]
    element, facet = form.chosen()
    tagged, skipped = services.study_tags_bulk_add(
        studies=allowed,
        element=element,
        facet=facet,
        relevance=form.cleaned_data["relevance"],
        user=request.user,
    )
    label = f"{element.code}{f' › {facet.name}' if facet else ''}"
    note = [f"Tagged {len(tagged)} stud{'y' if len(tagged) == 1 else 'ies'} to {label}."]
    if skipped:
        note.append(f"{len(skipped)} already had that tag.")
    if len(chosen) > len(allowed):
        note.append(f"{len(chosen) - len(allowed)} you may not edit were left alone.")
    messages.success(request, " ".join(note))
    return redirect(back)


@workspace_required
def study_list_export(request, fmt: str):
    """The filtered workspace list as RIS, BibTeX or CSV."""
    _, studies = _filtered(request)
    writer, content_type, extension = FORMATS[fmt]
    response = HttpResponse(
        writer(studies.iterator(chunk_size=2000)), content_type=f"{content_type}; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="workspace-studies.{extension}"'
    return response


# --- Study form -----------------------------------------------------------------------------


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
            _add_errors(form, exc)
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
    study = _editable_study(request, pk)
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
            _add_errors(form, exc)
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


# --- The study's workspace page and review actions ------------------------------------------


@workspace_required
def study_detail(request, pk: int):
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


@require_POST
@workspace_required
def study_transition(request, pk: int, action: str):
    """Submit (author or curator); publish, return with a comment, retract with a reason (curators)."""
    if action not in REVIEW_ACTIONS:
        raise Http404("No such review action.")
    study = get_object_or_404(Study.objects.visible_to(request.user), pk=pk)
    allowed = roles.is_curator(request.user) or (
        action == "submit" and study.created_by_id == request.user.pk
    )
    if not allowed:
        raise PermissionDenied("Only curators review studies.")
    form = ReviewForm(request.POST, action=action)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["comment"]))
        back = "workspace:review" if request.POST.get("back") == "review" else "workspace:study"
        return redirect(back, pk=pk)
    try:
        services.study_transition(
            study=study, action=action, user=request.user, comment=form.cleaned_data["comment"]
        )
    except services.InvalidTransition as exc:
        messages.error(request, str(exc))
        return redirect("workspace:study", pk=pk)
    done = {"submit": "submitted for review", "publish": "published", "return": "returned"}
    messages.success(request, f"Study {done.get(action, 'retracted')}.")
    if action in ("publish", "return"):
        return redirect("workspace:review-queue")
    return redirect("workspace:study", pk=pk)


# --- Effects and the calculator -------------------------------------------------------------

FORMULAS = {
    "means_sd_hedges_exact_j": "g = J·(M_t − M_c)/SD_pooled with the exact small-sample J; "
    "v = 1/n_t + 1/n_c + g²/(2(n_t + n_c))",
    "t_to_d": "d = t·√(1/n_t + 1/n_c), g = J·d",
    "f_to_t": "t = ±√F, d = t·√(1/n_t + 1/n_c), g = J·d",
    "p_to_t": "t = ±qt(1 − p/2, n_t + n_c − 2), d = t·√(1/n_t + 1/n_c), g = J·d",
    "logit_or": "logit method: d = ln(OR)·√3/π, v = v_lnOR·3/π²",
    "cox_or": "Cox method: d = ln(OR)/1.65, v = v_lnOR/1.65²",
    "r_to_d": "d = 2r/√(1 − r²), v = 4·v_r/(1 − r²)³",
    "reported_smd": "the reported g, as is",
    "reported_d_hedges_exact_j": "the reported d corrected to g = J·d",
    "reported_d_uncorrected": "the reported d used as g (no group sizes for J)",
    "percentile_points_probit": "g = Φ⁻¹(0.5 + points/100)",
    "percentile_points_probit_no_variance": "g = Φ⁻¹(0.5 + points/100); no variance without "
    "group sizes, so shown but not pooled",
}
FORMULA_NOTES = {
    "_ci": "variance from the 95% CI: SE = (upper − lower)/(2·1.96)",
    "_ls_variance": "v = 1/n_t + 1/n_c + g²/(2(n_t + n_c))",
    "zero_cell_0.5": "0.5 added to every cell of a table with a zero",
    "cluster_hedges2007": "corrected for clustering (Hedges 2007)",
}


def describe_conversion(code: str) -> str:
    """The formula behind a conversion code, in words a researcher can check against the paper."""
    if not code:
        return ""
    base, *extras = code.split("+")
    notes = []
    for suffix in ("_ci", "_ls_variance"):
        if base not in FORMULAS and base.endswith(suffix):
            base = base.removesuffix(suffix)
            notes.append(FORMULA_NOTES[suffix])
    notes += [FORMULA_NOTES.get(extra, extra) for extra in extras]
    return "; ".join([f"{code}: {FORMULAS.get(base, base)}", *notes])


def _kind(request, default: str | None = None) -> str | None:
    # "input_kind", not "kind": an smd's statistics have a field named kind (g or d).
    kind = request.POST.get("input_kind") or request.GET.get("input_kind") or default
    return kind if kind in INPUT_KINDS else None


def _labelled(form: EffectForm, exc: EffectSizeError) -> str:
    return f"{form.label_of(exc.field)} ({exc.field}): {exc.message}"


def _save_effect(request, form: EffectForm, effect: EffectSize) -> EffectSize | None:
    try:
        return services.effect_save(
            effect=form.apply_to(effect),
            user=request.user,
            expected_version=form.cleaned_data.get("version"),
        )
    except EffectSizeError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, _labelled(form, exc))
    except services.StaleVersion as exc:
        form.add_error(
            None,
            f"Someone else saved this effect meanwhile (now version {exc.current_version}); "
            "nothing was overwritten. Reload the page to see their values.",
        )
    except ValidationError as exc:
        _add_errors(form, exc)
    return None


def _effect_page(request, study, form, effect=None):
    template = "workspace/_effect_form.html" if request.htmx else "workspace/effect_form.html"
    return render(request, template, {"study": study, "form": form, "effect": effect})


def _kind_page(request, study, effect=None):
    form = EffectKindForm(initial={"input_kind": effect.input_kind if effect else None})
    return render(
        request, "workspace/effect_kind.html", {"study": study, "form": form, "effect": effect}
    )


@workspace_required
def effect_create(request, pk: int):
    """Add an effect: the input kind is chosen first, then the fields that kind needs."""
    study = _editable_study(request, pk)
    kind = _kind(request)
    if kind is None:
        return _kind_page(request, study)
    form = EffectForm(request.POST or None, kind=kind)
    saved = request.method == "POST" and form.is_valid()
    if saved and _save_effect(request, form, EffectSize(study=study)):
        messages.success(request, "Effect added.")
        return redirect("workspace:study", pk=pk)
    return _effect_page(request, study, form)


@workspace_required
def effect_edit(request, pk: int, effect_pk: int):
    study = _editable_study(request, pk)
    effect = get_object_or_404(EffectSize, study=study, pk=effect_pk)
    if request.GET.get("choose") == "kind":
        return _kind_page(request, study, effect)
    kind = _kind(request, effect.input_kind)
    initial = EffectForm.initial_from(effect)
    if kind != effect.input_kind:  # a new kind starts from empty statistics
        initial = {k: v for k, v in initial.items() if k not in effect.reported}
    form = EffectForm(request.POST or None, kind=kind, initial=initial)
    form.fields["version"].required = True
    saved = request.method == "POST" and form.is_valid()
    if saved and _save_effect(request, form, EffectSize.objects.get(pk=effect.pk)):
        messages.success(request, "Effect saved.")
        return redirect("workspace:study", pk=pk)
    return _effect_page(request, study, form, effect)


@require_POST
@workspace_required
def effect_delete(request, pk: int, effect_pk: int):
    study = _editable_study(request, pk)
    effect = get_object_or_404(
        EffectSize.objects.select_related("study"), study=study, pk=effect_pk
    )
    services.effect_delete(effect=effect, user=request.user)
    messages.success(request, "Effect deleted.")
    return redirect("workspace:study", pk=pk)


@require_POST
@workspace_required
def effect_preview(request):
    """htmx: g, its CI and significance for what is typed so far, by the engine's own conversion."""
    kind = _kind(request)
    context: dict = {"kind": kind}
    if kind is None:
        return render(request, "workspace/_effect_result.html", context)
    form = EffectForm(request.POST, kind=kind)
    if not form.is_valid():
        context["errors"] = [
            f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        ]
        return render(request, "workspace/_effect_result.html", context)
    effect = form.apply_to(EffectSize())
    try:
        services.effect_compute_fields(effect)
    except EffectSizeError as exc:
        if exc.message.endswith("is required") and form.cleaned_data.get(exc.field) is None:
            context["waiting"] = form.label_of(exc.field)
        else:
            context["error"] = _labelled(form, exc)
    else:
        context |= {"effect": effect, "formula": describe_conversion(effect.conversion)}
    return render(request, "workspace/_effect_result.html", context)


# --- Tags -----------------------------------------------------------------------------------


@workspace_required
def study_tags(request, pk: int):
    """Choose elements and facets from the framework tree (searchable) to tag a study."""
    study = _editable_study(request, pk)
    query = request.GET.get("q", "").strip()[:100]
    form = TagForm(request.POST or None, elements=_tree())
    if request.method == "POST" and form.is_valid():
        existing = set(study.tags.values_list("element_id", "facet_id"))
        added = 0
        for element, facet in form.chosen():
            if (element.pk, facet.pk if facet else None) not in existing:
                services.tag_add(
                    study=study,
                    element=element,
                    facet=facet,
                    relevance=form.cleaned_data["relevance"],
                    user=request.user,
                )
                added += 1
        messages.success(request, f"Added {added} tag{'' if added == 1 else 's'}.")
        return redirect("workspace:study", pk=pk)
    context = {
        "study": study,
        "form": form,
        "query": query,
        "tree": _tree(query),
        "tags": study.tags.select_related("element", "facet"),
    }
    if request.htmx and request.method == "GET":
        return render(request, "workspace/_tag_tree.html", context)
    return render(request, "workspace/study_tags.html", context)


@require_POST
@workspace_required
def tag_remove(request, pk: int, tag_pk: int):
    study = _editable_study(request, pk)
    tag = get_object_or_404(StudyTag.objects.select_related("study"), study=study, pk=tag_pk)
    services.tag_remove(tag=tag, user=request.user)
    messages.success(request, "Tag removed.")
    return redirect("workspace:study", pk=pk)


# --- Curator review -------------------------------------------------------------------------

# Bookkeeping that changes with every save or review action: not part of "what changed".
DIFF_IGNORED = [
    "version",
    "updated_at",
    "updated_by",
    "created_at",
    "created_by",
    "status",
    "review_comment",
    "published_at",
    "essa_tier",
    "essa_reason",
]


def _shown(field_name: str, value) -> str:
    field = Study._meta.get_field(field_name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return "" if value is None else str(value)


def changes_since_published(study: Study) -> dict | None:
    """What changed on a study, its effects and tags since its last published version (None if
    it was never published). Read from the simple-history records."""
    records = study.history.order_by("-history_date", "-history_id")
    # The version as last published: the first record of the latest publication (later edits by
    # a curator keep the status but are changes all the same).
    baseline = (
        records.filter(status=ReviewStatus.PUBLISHED)
        .order_by("-published_at", "history_date", "history_id")
        .first()
    )
    if baseline is None:
        return None
    delta = records.first().diff_against(baseline, excluded_fields=DIFF_IGNORED)
    fields = [
        {
            "label": Study._meta.get_field(change.field).verbose_name,
            "old": _shown(change.field, change.old),
            "new": _shown(change.field, change.new),
        }
        for change in delta.changes
    ]
    at = baseline.history_date
    then = {e.pk: e for e in EffectSize.history.as_of(at).filter(study_id=study.pk)}
    now = {e.pk: e for e in study.effects.all()}
    compared = ("outcome_domain", "measure", "input_kind", "reported", "g", "higher_is_better")
    tags_then = {
        (t.element_id, t.facet_id): t
        for t in StudyTag.history.as_of(at).filter(study_id=study.pk).select_related("element")
    }
    tags_now = {(t.element_id, t.facet_id): t for t in study.tags.all()}
    return {
        "published_at": at,
        "fields": fields,
        "effects_added": [now[pk] for pk in now.keys() - then.keys()],
        "effects_removed": [then[pk] for pk in then.keys() - now.keys()],
        "effects_changed": [
            (then[pk], now[pk])
            for pk in now.keys() & then.keys()
            if any(getattr(then[pk], f) != getattr(now[pk], f) for f in compared)
        ],
        "tags_added": [tags_now[key] for key in tags_now.keys() - tags_then.keys()],
        "tags_removed": [tags_then[key] for key in tags_then.keys() - tags_now.keys()],
    }


def possible_duplicates(study: Study, limit: int = 5) -> list[Study]:
    """Studies of the same year whose titles share most words with this one's."""
    words = set(study.title_key.split())
    longest = max(words, key=len, default="")
    candidates = Study.objects.filter(year=study.year, title_key__contains=longest).exclude(
        pk=study.pk
    )[:200]
    scored = [
        (len(words & set(c.title_key.split())) / len(words | set(c.title_key.split())), c)
        for c in candidates
    ]
    return [c for score, c in sorted(scored, key=lambda s: -s[0]) if score >= 0.5][:limit]


@curator_required
def review_queue_page(request):
    page = Paginator(review_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "workspace/review_queue.html", {"page": page, "query": ""})


@curator_required
def review(request, pk: int):
    """One submitted study for a curator: what changed since it was last published, and actions."""
    study = get_object_or_404(
        Study.objects.select_related("created_by").prefetch_related(
            Prefetch("effects", queryset=EffectSize.objects.select_related("population")),
            Prefetch("tags", queryset=StudyTag.objects.select_related("element", "facet")),
        ),
        pk=pk,
    )
    return render(
        request,
        "workspace/review.html",
        {
            "study": study,
            "citation": exports.apa_citation(study),
            "changes": changes_since_published(study),
            "duplicates": possible_duplicates(study),
        },
    )


@curator_required
def merge(request):
    """Merge two duplicate studies: choose (or arrive with) the pair, check them, confirm."""
    if request.method == "POST":
        form = MergeForm(request.POST)
        if form.is_valid():
            try:
                keep = services.study_merge(
                    keep=form.cleaned_data["keep"],
                    remove=form.cleaned_data["remove"],
                    user=request.user,
                )
            except services.InvalidMerge as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Studies merged; the duplicate was deleted.")
                return redirect("workspace:study", pk=keep.pk)
    elif {"keep", "remove"} <= request.GET.keys():
        form = MergeForm(request.GET)
    else:
        form = MergeForm(initial=request.GET.dict())
    pair = []
    if form.is_bound and form.is_valid():
        pair = list(
            _with_counts(
                Study.objects.filter(pk__in=[form.cleaned_data[k].pk for k in ("keep", "remove")])
            )
            .select_related("created_by")
            .prefetch_related("tags__element")
        )
        pair.sort(key=lambda s: s.pk != form.cleaned_data["keep"].pk)
    return render(request, "workspace/merge.html", {"form": form, "pair": pair})

"""Review: submit (authors), and for curators the queue, the diff since the last published
version, publish, return with a comment, retract with a reason, and merging duplicates."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import exports, roles, selectors, services
from ..forms import MergeForm, ReviewForm
from ..models import EffectSize, Study, StudyTag
from .access import PAGE_SIZE, curator_required, workspace_required

REVIEW_ACTIONS = ("submit", "publish", "return", "retract")


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


@curator_required
def review_queue_page(request):
    page = Paginator(selectors.review_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
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
            "changes": selectors.changes_since_published(study),
            "duplicates": selectors.possible_duplicates(study),
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
        chosen = [form.cleaned_data[k].pk for k in ("keep", "remove")]
        pair = list(
            selectors.with_counts(Study.objects.filter(pk__in=chosen))
            .select_related("created_by")
            .prefetch_related("tags__element")
        )
        pair.sort(key=lambda s: s.pk != form.cleaned_data["keep"].pk)
    return render(request, "workspace/merge.html", {"form": form, "pair": pair})

"""Tagging studies to framework elements and facets: one study from the tree, or many in bulk."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .. import roles, selectors, services
from ..forms import BulkTagForm, TagForm
from ..models import StudyTag
from .access import editable_study, workspace_required
from .dashboard import filtered


@workspace_required
def study_tags(request, pk: int):
    """Choose elements and facets from the framework tree (searchable) to tag a study."""
    study = editable_study(request, pk)
    query = request.GET.get("q", "").strip()[:100]
    form = TagForm(request.POST or None, elements=selectors.framework_tree())
    if request.method == "POST" and form.is_valid():
        added = services.study_tags_add(
            study=study,
            chosen=list(form.chosen()),
            relevance=form.cleaned_data["relevance"],
            user=request.user,
        )
        messages.success(request, f"Added {added} tag{'' if added == 1 else 's'}.")
        return redirect("workspace:study", pk=pk)
    context = {
        "study": study,
        "form": form,
        "query": query,
        "tree": selectors.framework_tree(query),
        "tags": study.tags.select_related("element", "facet"),
    }
    if request.htmx and request.method == "GET":
        return render(request, "workspace/_tag_tree.html", context)
    return render(request, "workspace/study_tags.html", context)


@require_POST
@workspace_required
def tag_remove(request, pk: int, tag_pk: int):
    study = editable_study(request, pk)
    tag = get_object_or_404(StudyTag.objects.select_related("study"), study=study, pk=tag_pk)
    services.tag_remove(tag=tag, user=request.user)
    messages.success(request, "Tag removed.")
    return redirect("workspace:study", pk=pk)


@require_POST
@workspace_required
def bulk_tag(request):
    """Tag the chosen studies of the filtered list (the filter rides in the query string)."""
    _, studies = filtered(request)
    form = BulkTagForm(request.POST, elements=selectors.framework_tree(), studies=studies)
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

"""Effects on the study page, entered through the effect-size calculator.

The calculator previews g, its CI and significance with the engine's own conversion, as typed.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from evidence.stats.effect_sizes import INPUT_KINDS, EffectSizeError

from .. import services
from ..forms import EffectForm, EffectKindForm
from ..models import EffectSize
from .access import add_errors, editable_study, workspace_required

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
        add_errors(form, exc)
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
    study = editable_study(request, pk)
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
    study = editable_study(request, pk)
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
    study = editable_study(request, pk)
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

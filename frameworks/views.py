from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render

from convenings.selectors import findings_for_element
from evidence import forest
from evidence.selectors import element_summaries
from studies.models import Study
from studies.selectors import element_study_list

from . import selectors
from .models import Component


def home(request):
    framework, components = selectors.framework_overview()
    return render(
        request, "frameworks/home.html", {"framework": framework, "components": components}
    )


def component_detail(request, code: str):
    component = get_object_or_404(
        Component.objects.filter(framework__is_current=True).prefetch_related(
            "elements",
            "open_questions",
            # A highlight keeps its text, but cites its study only while that is published.
            Prefetch("highlights__study", queryset=Study.objects.published()),
        ),
        code=code,
    )
    return render(request, "frameworks/component.html", {"component": component})


def element_detail(request, code: str):
    element = selectors.element_by_code(code)
    study_filter, page = element_study_list(element, request.GET)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "element": element,
        "filter": study_filter,
        "page": page,
        "query": params.urlencode(),
    }
    if request.htmx:
        return render(request, "frameworks/_element_studies.html", context)
    summaries = element_summaries(element)
    overall = summaries["overall"]
    context |= {
        "summary": overall,
        **summaries,
        "forest": forest.build(overall.forest, _pooled(overall), k_total=overall.k)
        if overall
        else None,
        "findings": findings_for_element(element),
        "open_questions": element.component.open_questions.all(),
    }
    return render(request, "frameworks/element.html", context)


def about_ratings(request):
    from django.conf import settings

    from evidence import plain, rules

    return render(
        request,
        "pages/about_ratings.html",
        {
            "rules_version": rules.RULES_VERSION,
            "jargon": list(plain.JARGON.values()),
            "method": settings.EVIDENCE_TAU2_METHOD,
            "ci_method": "Knapp-Hartung" if settings.EVIDENCE_CI_METHOD == "hksj" else "Wald",
        },
    )


def _pooled(summary) -> dict | None:
    if summary.estimate is None:
        return None
    return {
        name: getattr(summary, name)
        for name in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
    }

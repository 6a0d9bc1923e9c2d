from django.shortcuts import get_object_or_404, render

from evidence.selectors import element_summaries
from studies.selectors import published_studies_for_element

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
            "elements", "open_questions", "highlights__study"
        ),
        code=code,
    )
    return render(request, "frameworks/component.html", {"component": component})


def element_detail(request, code: str):
    element = selectors.element_by_code(code)
    studies = published_studies_for_element(element)
    summaries = element_summaries(element)
    return render(
        request,
        "frameworks/element.html",
        {"element": element, "studies": studies, "summary": summaries["overall"], **summaries},
    )

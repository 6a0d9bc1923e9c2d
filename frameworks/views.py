import logging

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from convenings.selectors import findings_for_element
from evidence import forest
from evidence.selectors import EVIDENCE_VERSION_KEY, element_summaries, evidence_version
from studies.models import Study
from studies.selectors import element_study_list

from . import selectors
from .models import Component

logger = logging.getLogger(__name__)


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


# Findings and open questions are not part of the evidence version: they show within this time.
ELEMENT_PAGE_TTL = 300


def _shared_page(request) -> bool:
    """Whether this request gets the page every anonymous reader gets (no session, no flash
    message, no filters), which may be served from the cache."""
    return (
        request.method == "GET"
        and not request.GET
        and not request.htmx
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def element_detail(request, code: str):
    """The element page; the anonymous, unfiltered one is cached with the evidence version it
    was rendered at and served while that is still the version (one cache round trip), as it is
    most of the traffic and its rendering most of its cost."""
    if not _shared_page(request):
        return _element_detail(request, code)
    # The static manifest's hash: after a deploy no page links static files that are gone.
    key = f"element-page:{code}:{getattr(staticfiles_storage, 'manifest_hash', '')}"
    try:
        found = cache.get_many([EVIDENCE_VERSION_KEY, key])
        version = found.get(EVIDENCE_VERSION_KEY) or evidence_version()
    except Exception:  # the cache is down: the page is still the database's to give
        logger.warning("element page cache unavailable", exc_info=True)
        return _element_detail(request, code)
    cached_version, html = found.get(key, (None, None))
    if cached_version == version:
        return HttpResponse(html)
    response = _element_detail(request, code)
    if response.status_code == 200:
        try:
            cache.set(key, (version, response.content), ELEMENT_PAGE_TTL)
        except Exception:
            logger.warning("element page cache unavailable", exc_info=True)
    return response


def _element_detail(request, code: str):
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

"""Every HTML page route of the site, read from the URL conf (config/urls.py and what it includes).

The page permission matrix iterates over this instead of a hand-kept list, so a new page is covered
the day it is routed and fails until someone writes down who may read and write it. Left out: the
admin (Django's own, tested in tests/test_admin.py), the API and its docs (tests/api/), and Django's
stock password views, which hold no data of ours.
"""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver

import config.urls

SKIPPED_PREFIXES = ("admin/", "api/")
# django.contrib.auth.urls: sign-in and sign-out are in the matrix; the password views are not.
STOCK_PASSWORD_VIEWS = frozenset(
    {
        "password_change",
        "password_change_done",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
    }
)


@dataclass(frozen=True)
class PageRoute:
    name: str  # what reverse() takes, e.g. "workspace:study-edit"
    route: str  # the path pattern, for messages
    kwargs: tuple[str, ...]  # the URL's keyword arguments, e.g. ("pk", "effect_pk")


def _walk(patterns, namespace: str | None = None, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, pattern.namespace or namespace, route)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield PageRoute(name=name, route=route, kwargs=tuple(pattern.pattern.regex.groupindex))


def page_routes() -> dict[str, PageRoute]:
    """Every named page route (the first of two with one name, as resolve() serves it)."""
    routes: dict[str, PageRoute] = {}
    for page in _walk(config.urls.urlpatterns):
        assert page.name, f"{page.route} has no name: name it so the matrix can reverse it"
        if page.name not in STOCK_PASSWORD_VIEWS:
            routes.setdefault(page.name, page)
    return routes


def stock_password_view_names() -> set[str]:
    """The stock password views the URL conf really routes (so the skip list cannot go stale)."""
    return {page.name for page in _walk(config.urls.urlpatterns)} & STOCK_PASSWORD_VIEWS

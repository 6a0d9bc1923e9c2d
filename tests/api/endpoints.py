"""Every endpoint of /api/v1/, read from the URL conf (the routers and paths of each app).

Contract tests iterate over this instead of a hand-kept list, so a new route is covered the day it
is added and fails until someone writes down who may use it.
"""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver

import config.api_urls

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Endpoint:
    name: str  # what reverse() takes, e.g. "study-detail" or "evidence:job"
    route: str
    kwargs: tuple[str, ...]  # the URL's keyword arguments: pk, code or slug
    methods: tuple[str, ...]  # upper case; HEAD and OPTIONS left out
    view: type
    actions: dict  # a viewset route's method -> action; empty for a plain APIView

    @property
    def is_list(self) -> bool:
        """A router's list route (paginated, filterable)."""
        return self.actions.get("get") == "list"


def _methods(view: type, actions: dict | None) -> tuple[str, ...]:
    allowed = set(getattr(view, "http_method_names", HTTP_METHODS))
    if actions is not None:  # a viewset route: what the router mapped, less what the view refuses
        names = [m for m in actions if m in allowed]
    else:
        names = [m for m in HTTP_METHODS if m in allowed and hasattr(view, m)]
    return tuple(m.upper() for m in HTTP_METHODS if m in names)


def _walk(patterns, namespace: str | None = None, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(
                pattern.url_patterns, pattern.namespace or namespace, prefix + str(pattern.pattern)
            )
        elif isinstance(pattern, URLPattern):
            kwargs = tuple(pattern.pattern.regex.groupindex)
            if "format" in kwargs:  # the router's `.json` suffix twins of the same view
                continue
            callback = pattern.callback
            view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            actions = getattr(callback, "actions", None)
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield Endpoint(
                name=name,
                route=prefix + str(pattern.pattern),
                kwargs=kwargs,
                methods=_methods(view, actions),
                view=view,
                actions=dict(actions or {}),
            )


def api_endpoints() -> dict[str, Endpoint]:
    """Every named endpoint under /api/v1/ (each router adds an `api-root`; it is one endpoint)."""
    endpoints: dict[str, Endpoint] = {}
    for endpoint in _walk(config.api_urls.urlpatterns):
        endpoints.setdefault(endpoint.name, endpoint)
    return endpoints

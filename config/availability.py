"""What the site answers about its own availability: a health check for the proxy and the
container, and 503 (not a traceback or a dropped connection) while the database is unreachable."""

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

# Seconds a client should wait before trying again; PostgreSQL restarts in a few.
RETRY_AFTER = 5
UNAVAILABLE_MESSAGE = (
    "The evidence base cannot reach its database just now. Nothing you sent was saved unless "
    "you were told so; please try again in a few seconds."
)


def healthz(request) -> HttpResponse:
    """The web process is up and answering (no database, so it stays cheap and says only that)."""
    return HttpResponse("ok", content_type="text/plain")


class DatabaseUnavailableMiddleware:
    """Answer 503 with a page (or JSON under /api/) when a view fails to reach the database.

    OperationalError and InterfaceError are what psycopg raises when PostgreSQL is restarting or
    the connection was cut; Django would answer them with a generic 500. The failed transaction
    was rolled back, and CONN_HEALTH_CHECKS makes the next request open a fresh connection, so
    the site recovers by itself once the database is back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": UNAVAILABLE_MESSAGE}, status=503)
        else:
            # A page of its own, not base.html: that one asks for the user, i.e. the database.
            html = render_to_string("503.html", {"message": UNAVAILABLE_MESSAGE})
            response = HttpResponse(html, status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response

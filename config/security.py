"""Site-wide protections Django has no setting for: a Content-Security-Policy, request bodies
refused by their declared size before they are read, and sign-in throttling per username and
address against password guessing."""

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

# No inline scripts or styles on our own pages: every script is a static file (htmx), and the
# server draws the charts as SVG. The Django admin and Swagger UI are vendor pages that set
# inline styles from their templates, so they alone may (never inline scripts).
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
VENDOR_PAGES = ("/admin/", "/api/docs/")


def _header(policy: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in policy.items())


CSP_HEADER = _header(CSP)
VENDOR_CSP_HEADER = _header(CSP | {"style-src": "'self' 'unsafe-inline'"})


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy header on every response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        vendor = request.path.startswith(VENDOR_PAGES)
        response.headers.setdefault(
            "Content-Security-Policy", VENDOR_CSP_HEADER if vendor else CSP_HEADER
        )
        return response


# --- Request size ------------------------------------------------------------------------------

# Room for the multipart envelope and the other form fields around an import file.
MULTIPART_OVERHEAD = 1024 * 1024


def request_size_limit(content_type: str) -> int:
    """The largest body accepted: an import file (plus envelope) for uploads, else
    DATA_UPLOAD_MAX_MEMORY_SIZE (JSON and form posts are read into memory whole)."""
    if content_type.startswith("multipart/form-data"):
        return settings.IMPORT_MAX_BYTES + MULTIPART_OVERHEAD
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


class RequestSizeLimitMiddleware:
    """Answer 413 to a request whose Content-Length is over the limit, without reading its body.

    Django would read a multipart upload to the end (to a temporary file) before a form could
    refuse it, and answers an oversized JSON body with a bare 400; this refuses both at once,
    with a message. Bodies without a Content-Length are still bounded by Django's own limits.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        limit = request_size_limit(request.META.get("CONTENT_TYPE", ""))
        if size > limit:
            return self._refuse(request, size, limit)
        return self.get_response(request)

    def _refuse(self, request, size: int, limit: int) -> HttpResponse:
        message = (
            f"The request is {_megabytes(size)}; at most {_megabytes(limit)} is accepted. "
            f"Reference files can be imported up to {_megabytes(settings.IMPORT_MAX_BYTES)}: "
            "export the references in several smaller files."
        )
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": message}, status=413)
        else:
            html = render_to_string("413.html", {"message": message}, request=request)
            response = HttpResponse(html, status=413)
        # The body was not read: close the connection rather than read it to reach the next one.
        response["Connection"] = "close"
        return response


# --- Sign-in throttling ---------------------------------------------------------------------


def _client_ip(request) -> str:
    # REMOTE_ADDR is the proxy's address behind one; the proxy is trusted to set X-Forwarded-For
    # only when SECURE_PROXY_SSL_HEADER says a proxy is there (production settings).
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if settings.LOGIN_TRUST_PROXY else ""
    return forwarded.split(",")[-1].strip() or request.META.get("REMOTE_ADDR", "") or "unknown"


def _keys(request, username: str) -> tuple[str, str]:
    name = (username or "").strip().lower()[:150]
    ip = _client_ip(request) if request is not None else "unknown"
    # One counter per account and address (guessing one password), one per address across
    # accounts (trying one password on many accounts).
    return f"login-failures:{name}:{ip}", f"login-failures:*:{ip}"


def login_is_locked(request, username: str) -> bool:
    """Whether this username (or this address) has failed to sign in too often lately."""
    user_key, ip_key = _keys(request, username)
    counts = cache.get_many([user_key, ip_key])
    return (
        counts.get(user_key, 0) >= settings.LOGIN_FAILURE_LIMIT
        or counts.get(ip_key, 0) >= settings.LOGIN_FAILURE_LIMIT * 4
    )


def login_failed(request, username: str) -> None:
    """Count one failed sign-in for the username and the address (counters expire on their own)."""
    for key in _keys(request, username):
        cache.add(key, 0, settings.LOGIN_FAILURE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, settings.LOGIN_FAILURE_WINDOW)


def login_succeeded(request, username: str) -> None:
    cache.delete(_keys(request, username)[0])


class ThrottledLoginMixin:
    """An authentication form that refuses to check passwords after too many failures."""

    throttled_message = (
        "Too many failed sign-in attempts for this account from your address. "
        "Wait %(minutes)s minutes and try again, or reset your password."
    )

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if login_is_locked(self.request, username):
            raise ValidationError(
                self.throttled_message,
                code="throttled",
                params={"minutes": max(1, settings.LOGIN_FAILURE_WINDOW // 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            login_failed(self.request, username)
            raise
        login_succeeded(self.request, username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass

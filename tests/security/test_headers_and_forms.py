"""The Content-Security-Policy allows no inline script; every form that posts carries a CSRF token
and a post without one is refused."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from studies.constants import ReviewStatus
from tests.factories import (
    ConveningFactory,
    EffectSizeFactory,
    ElementFactory,
    FindingFactory,
    SessionFactory,
    StudyFactory,
    StudyTagFactory,
)

pytestmark = pytest.mark.django_db


class Page(HTMLParser):
    """The scripts, inline event handlers, style attributes and forms of an HTML page."""

    def __init__(self, html: str):
        super().__init__()
        self.inline_scripts: list[str] = []
        self.handlers: list[str] = []
        self.styles: list[str] = []
        self.forms: list[dict] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [f"<{tag} {name}>" for name in attrs if name.startswith("on")]
        self.handlers += [
            f"<{tag} {name}={value}>"
            for name, value in attrs.items()
            if (value or "").strip().lower().startswith("javascript:")
        ]
        if "style" in attrs:
            self.styles.append(f"<{tag} style={attrs['style']}>")
        if tag == "script" and not attrs.get("src"):
            self._in_script = True
            self.inline_scripts.append("")
        if tag == "style":
            self.styles.append("<style>")
        if tag == "form":
            self.forms.append(
                {"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action")}
            )
        if tag == "input" and self.forms and attrs.get("name") == "csrfmiddlewaretoken":
            self.forms[-1]["csrf"] = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


# --- Content-Security-Policy --------------------------------------------------------------------


def csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize(
    "url", ["/", "/studies/", "/search/?q=x", "/gaps/", "/api/v1/studies/", "/accounts/login/"]
)
def test_every_response_forbids_inline_scripts_and_styles(client, url):
    policy = csp(client.get(url))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'" and policy["form-action"] == "'self'"


@pytest.mark.parametrize("url", ["/admin/login/", "/api/docs/"])
def test_vendor_pages_may_inline_styles_but_never_scripts(client, url):
    response = client.get(url)
    assert response.status_code == 200
    policy = csp(response)
    assert policy["script-src"] == "'self'" and "unsafe-inline" in policy["style-src"]
    assert not Page(response.content.decode()).inline_scripts, url


def test_the_api_docs_load_their_script_from_a_url_not_inline(client):
    html = client.get("/api/docs/").content.decode()
    script = re.search(r'<script src="([^"]*\?script=[^"]*)"', html)
    assert script, "Swagger UI's start-up script must be a separate file for the CSP"
    response = client.get(script.group(1).replace("&amp;", "&"))
    assert response.status_code == 200 and "SwaggerUIBundle" in response.content.decode()


def test_no_template_has_an_inline_script_handler_or_style():
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        for pattern in (
            r"<script(?![^>]*\ssrc=)[^>]*>",
            r"\son[a-z]+\s*=",
            r"\sstyle\s*=",
            "<style",
        ):
            offenders += [f"{path.name}: {m.group()}" for m in re.finditer(pattern, text)]
        offenders += [f"{path.name}: javascript: URL" for _ in re.finditer("javascript:", text)]
    assert not offenders


# --- Every page's forms ------------------------------------------------------------------------


@pytest.fixture
def data(researcher):
    element = ElementFactory(code="LL.3")
    published = StudyFactory()
    StudyTagFactory(study=published, element=element)
    draft = StudyFactory(status=ReviewStatus.DRAFT, created_by=researcher)
    effect = EffectSizeFactory(study=draft)
    tag = StudyTagFactory(study=draft, element=element)
    submitted = StudyFactory(status=ReviewStatus.SUBMITTED, created_by=researcher)
    convening = ConveningFactory(slug="national")
    session = SessionFactory(convening=convening)
    finding = FindingFactory(session=session)
    return locals()


PAGES = {
    None: lambda d: [
        "/",
        "/studies/",
        "/search/?q=learning",
        "/elements/LL.3/",
        "/gaps/",
        "/convenings/",
        "/convenings/national/",
        f"/convenings/national/sessions/{d['session'].pk}/",
        "/accounts/login/",
        "/accounts/password_reset/",
        "/admin/login/",
    ],
    "researcher": lambda d: [
        reverse("workspace:dashboard"),
        reverse("workspace:studies"),
        reverse("workspace:study-create"),
        reverse("workspace:study", args=[d["draft"].pk]),
        reverse("workspace:study-edit", args=[d["draft"].pk]),
        reverse("workspace:effect-create", args=[d["draft"].pk]) + "?input_kind=means",
        reverse("workspace:effect-edit", args=[d["draft"].pk, d["effect"].pk]),
        reverse("workspace:study-tags", args=[d["draft"].pk]),
        reverse("workspace_import:upload"),
    ],
    "curator": lambda d: [
        reverse("workspace:review-queue"),
        reverse("workspace:review", args=[d["submitted"].pk]),
        reverse("workspace:merge"),
    ],
    "organiser": lambda d: [
        "/convenings/new/",
        "/convenings/national/",
        "/convenings/national/edit/",
        "/convenings/national/sessions/new/",
        f"/convenings/national/sessions/{d['session'].pk}/",
        f"/convenings/national/sessions/{d['session'].pk}/edit/",
        f"/convenings/national/sessions/{d['session'].pk}/presenters/new/",
        f"/convenings/national/sessions/{d['session'].pk}/findings/new/",
        f"/convenings/findings/{d['finding'].pk}/edit/",
    ],
    "admin_user": lambda d: ["/admin/", f"/admin/studies/study/{d['draft'].pk}/change/"],
}


@pytest.mark.parametrize("actor", PAGES)
def test_every_form_that_posts_carries_a_csrf_token(client, request, data, actor):
    if actor:
        client.force_login(request.getfixturevalue(actor))
    posting = 0
    for url in PAGES[actor](data):
        response = client.get(url)
        assert response.status_code == 200, url
        page = Page(response.content.decode())
        assert not page.inline_scripts and not page.handlers, (url, page.handlers)
        for form in page.forms:
            if form["method"] == "post":
                posting += 1
                assert form.get("csrf"), f"{url}: a form posting to {form['action']} has no token"
    assert posting >= 1


@pytest.mark.parametrize(
    "actor, url, body",
    [
        (None, "/accounts/login/", {"username": "x", "password": "y"}),
        ("researcher", "/workspace/studies/new/", {"title": "A study", "year": "2020"}),
        ("organiser", "/convenings/new/", {"title": "A convening"}),
        ("researcher", "/api/v1/studies/", {"title": "A study", "year": 2020}),
    ],
)
def test_a_post_without_the_csrf_token_is_refused(request, researcher, actor, url, body):
    client = Client(enforce_csrf_checks=True)
    if actor:
        client.force_login(request.getfixturevalue(actor))
    assert client.post(url, body).status_code == 403

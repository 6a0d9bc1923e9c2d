"""The page permission matrix: every HTML route × every actor × GET and POST.

The routes come from the URL conf (tests/security/pages.py): a new page fails here until POLICY
says who may read and who may write it. The API has its own matrix (tests/api/test_permissions.py);
this one holds the pages to the same rules, in the way pages refuse:

- an anonymous visitor at a page that needs an account is redirected to the login page, with the
  page as ``next`` (LOGIN below), never shown a 403;
- a signed-in actor without the role the page needs gets 403;
- an actor with that role who may not see the record in the URL (someone else's draft, someone
  else's import) gets 404, and so does everyone at a public page for an unpublished study;
- an actor who may see the record but not change it gets 403;
- a route that only takes POST answers GET with 405, before it asks who is there.

POST carries an empty body: enough to pass or meet the gate (an allowed actor then gets the form
back with its errors, 200, or the redirect the action makes, 302). The test client skips the CSRF
check so the request reaches the gate (tests/security/test_headers_and_forms.py covers CSRF). A page
that writes nothing answers a POST as it answers a GET.

Every page an actor gets must also hold no title of an unpublished study they may not see: public
pages show published data only, and the workspace shows a draft to its owner and curators alone.

Each request runs in a savepoint that is rolled back, so every actor meets the same data, built
once per route.
"""

from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from evidence import services as evidence_services
from frameworks.models import Highlight
from studies.constants import ImportBatchStatus
from studies.models import ImportBatch
from tests.actors import (
    ACTORS,
    CURATORS,
    EVERYONE,
    NOBODY,
    ORGANISERS,
    OWNER,
    OWNER_AND_CURATORS,
    RESEARCHERS,
)
from tests.factories import (
    ConveningFactory,
    EffectSizeFactory,
    ElementFactory,
    FindingFactory,
    PresenterFactory,
    SessionFactory,
    StudyFactory,
    StudyTagFactory,
)

from .pages import STOCK_PASSWORD_VIEWS, page_routes, stock_password_view_names

LOGIN = "login"  # a redirect to the login page, back to the page asked for

# The owner's studies that are not published, and who may see each behind a role gate (the
# workspace). On a public page nobody sees them.
UNPUBLISHED = ("draft", "submitted", "retracted")
TITLES = {
    state: f"Peer tutoring {state} study in grade five" for state in ("published", *UNPUBLISHED)
}
VISIBLE_TO = {
    "draft": OWNER_AND_CURATORS,
    "submitted": OWNER_AND_CURATORS,
    "retracted": OWNER_AND_CURATORS,
    "draft_effect": OWNER_AND_CURATORS,
    "draft_tag": OWNER_AND_CURATORS,
    "batch": OWNER,  # an import is its uploader's alone, curators included
}


@dataclass(frozen=True)
class Access:
    """Who may GET and who may POST one route, for one record in its URL."""

    target: str | None  # a key of world.targets (the URL's kwargs); None for a URL without any
    read: frozenset | None  # who gets the page; None: the route takes POST only (GET is 405)
    write: frozenset | None  # whose POST passes; None: the page writes nothing
    gate: frozenset  # who holds the role the route needs; EVERYONE for a public page
    posted: str = "200"  # what an allowed POST with an empty body gets
    url: dict = field(default_factory=dict)  # fixed URL kwargs (export format, review action)
    query: str = ""  # a query string for the GET

    @property
    def sees(self) -> frozenset:
        """Who may see the record in the URL (the others who pass the gate get 404)."""
        if self.gate == EVERYONE:  # a public page: published data only
            return NOBODY if self.target in UNPUBLISHED else EVERYONE
        return VISIBLE_TO.get(self.target, EVERYONE)

    def expected(self, method: str, actor: str) -> str:
        if method == "GET" and self.read is None:
            return "405"
        if method == "POST" and self.write is None:
            return self.expected("GET", actor)
        if actor not in self.gate:
            return LOGIN if actor == "anonymous" else "403"
        if actor not in self.sees:
            return "404"
        if method == "GET":
            return "200" if actor in self.read else "403"
        return self.posted if actor in self.write else "403"


def page(target=None, *, read=EVERYONE, gate=EVERYONE, **kwargs) -> Access:
    """A page that only shows (a POST gets what a GET gets)."""
    return Access(target, read=read, write=None, gate=gate, **kwargs)


def form(target=None, *, may, gate, **kwargs) -> Access:
    """A form page: whoever may submit it may also open it."""
    return Access(target, read=may, write=may, gate=gate, **kwargs)


def action(target=None, *, may, gate, posted="302", **kwargs) -> Access:
    """A POST-only route (a button): it acts, then redirects."""
    return Access(target, read=None, write=may, gate=gate, posted=posted, **kwargs)


POLICY: dict[str, list[Access]] = {
    # Signing in and out: anyone (an empty sign-in is the form again with its errors).
    "login": [form(may=EVERYONE, gate=EVERYONE)],
    # The proxy's and compose's health check: public, no data, no database.
    "healthz": [page()],
    "logout": [action(may=EVERYONE, gate=EVERYONE)],
    # The framework, the evidence and the gap report: public.
    "frameworks:home": [page()],
    "frameworks:component": [page("component")],
    "frameworks:element": [page("element")],
    "frameworks:about-ratings": [page()],
    "gaps:report": [page()],
    "gaps:matrix-csv": [page()],
    "gaps:ranked-csv": [page()],
    # Studies: the public pages show published studies; an unpublished one is 404 for everyone
    # there (its owner and curators open it in the workspace).
    "search": [page(query="q=tutoring")],
    "studies:list": [page()],
    "studies:list-export": [page(url={"fmt": "csv"})],
    "studies:detail": [page(state) for state in ("published", *UNPUBLISHED)],
    "studies:export": [page(state, url={"fmt": "ris"}) for state in ("published", *UNPUBLISHED)],
    # Convenings: public pages.
    "convenings:list": [page()],
    "convenings:findings": [page()],
    "convenings:detail": [page("convening")],
    "convenings:session": [page("session")],
    "convenings:person": [page("person")],
    "convenings:organization": [page("organization")],
    # The workspace: researchers (and curators). A researcher sees published studies and their
    # own; edits their own drafts; curators see and edit everything and run the review.
    "workspace:dashboard": [page(read=RESEARCHERS, gate=RESEARCHERS)],
    "workspace:studies": [page(read=RESEARCHERS, gate=RESEARCHERS)],
    "workspace:export": [page(read=RESEARCHERS, gate=RESEARCHERS, url={"fmt": "csv"})],
    # Asking about someone else's draft says that it exists, never what it is.
    "workspace:doi-check": [
        page(
            read=RESEARCHERS,
            gate=RESEARCHERS,
            query=urlencode({"title": TITLES["draft"], "year": 2015}),
        )
    ],
    "workspace:bulk-tag": [action(may=RESEARCHERS, gate=RESEARCHERS)],
    "workspace:study-create": [form(may=RESEARCHERS, gate=RESEARCHERS)],
    "workspace:study": [
        page(state, read=RESEARCHERS, gate=RESEARCHERS) for state in ("published", *UNPUBLISHED)
    ],
    "workspace:study-edit": [
        form("draft", may=OWNER_AND_CURATORS, gate=RESEARCHERS),
        form("submitted", may=CURATORS, gate=RESEARCHERS),
        form("published", may=CURATORS, gate=RESEARCHERS),
    ],
    "workspace:transition": [
        action("draft", may=OWNER_AND_CURATORS, gate=RESEARCHERS, url={"action": "submit"}),
        action("submitted", may=CURATORS, gate=RESEARCHERS, url={"action": "publish"}),
        action("submitted", may=CURATORS, gate=RESEARCHERS, url={"action": "return"}),
        action("published", may=CURATORS, gate=RESEARCHERS, url={"action": "retract"}),
    ],
    "workspace:effect-create": [
        form("draft", may=OWNER_AND_CURATORS, gate=RESEARCHERS),
        form("published", may=CURATORS, gate=RESEARCHERS),
    ],
    "workspace:effect-edit": [
        form("draft_effect", may=OWNER_AND_CURATORS, gate=RESEARCHERS),
        form("published_effect", may=CURATORS, gate=RESEARCHERS),
    ],
    "workspace:effect-delete": [
        action("draft_effect", may=OWNER_AND_CURATORS, gate=RESEARCHERS),
        action("published_effect", may=CURATORS, gate=RESEARCHERS),
    ],
    "workspace:study-tags": [
        form("draft", may=OWNER_AND_CURATORS, gate=RESEARCHERS),
        form("published", may=CURATORS, gate=RESEARCHERS),
    ],
    "workspace:tag-remove": [
        action("draft_tag", may=OWNER_AND_CURATORS, gate=RESEARCHERS),
        action("published_tag", may=CURATORS, gate=RESEARCHERS),
    ],
    "workspace:effect-preview": [action(may=RESEARCHERS, gate=RESEARCHERS, posted="200")],
    "workspace:review-queue": [page(read=CURATORS, gate=CURATORS)],
    "workspace:review": [page("submitted", read=CURATORS, gate=CURATORS)],
    "workspace:merge": [form(may=CURATORS, gate=CURATORS)],
    # Imports: researchers; a background import is seen and confirmed by its uploader only.
    "workspace_import:upload": [form(may=RESEARCHERS, gate=RESEARCHERS)],
    "workspace_import:confirm": [action(may=RESEARCHERS, gate=RESEARCHERS)],
    "workspace_import:cancel": [action(may=RESEARCHERS, gate=RESEARCHERS)],
    "workspace_import:batch": [page("batch", read=OWNER, gate=RESEARCHERS)],
    "workspace_import:batch-confirm": [action("batch", may=OWNER, gate=RESEARCHERS)],
    "workspace_import:batch-cancel": [action("batch", may=OWNER, gate=RESEARCHERS)],
    # Recording convenings: organisers.
    "convenings:create": [form(may=ORGANISERS, gate=ORGANISERS)],
    "convenings:edit": [form("convening", may=ORGANISERS, gate=ORGANISERS)],
    "convenings:session_create": [form("convening", may=ORGANISERS, gate=ORGANISERS)],
    "convenings:session_edit": [form("session", may=ORGANISERS, gate=ORGANISERS)],
    "convenings:session_move": [action("session", may=ORGANISERS, gate=ORGANISERS)],
    "convenings:presenter_create": [form("session", may=ORGANISERS, gate=ORGANISERS)],
    "convenings:presenter_remove": [action("presenter", may=ORGANISERS, gate=ORGANISERS)],
    "convenings:finding_create": [form("session", may=ORGANISERS, gate=ORGANISERS)],
    "convenings:finding_edit": [form("finding", may=ORGANISERS, gate=ORGANISERS)],
}

ROUTES = page_routes()


@pytest.fixture
def world(actors, researcher) -> SimpleNamespace:
    """One of each record the pages show, the studies owned by `researcher`, every one of them
    tagged, highlighted and cited by a finding, so an unpublished one has every chance to leak."""
    element = ElementFactory(code="LL.3")
    studies = {
        state: StudyFactory(status=state, title=TITLES[state], created_by=researcher)
        for state in TITLES
    }
    effects = {state: EffectSizeFactory(study=studies[state]) for state in ("draft", "published")}
    tags = {
        state: StudyTagFactory(study=study, element=element) for state, study in studies.items()
    }
    for order, study in enumerate(studies.values()):
        Highlight.objects.create(
            component=element.component, text=f"Highlight {order}", study=study, order=order
        )
    evidence_services.element_evidence_recompute(element_id=element.pk)
    convening = ConveningFactory(slug="spring")
    SessionFactory(convening=convening, order=1)
    session = SessionFactory(convening=convening, order=2)
    presenter = PresenterFactory(session=session)
    finding = FindingFactory(session=session, source_study=studies["draft"])
    finding.elements.add(element)
    finding.studies.add(*studies.values())
    batch = ImportBatch.objects.create(
        created_by=researcher,
        filename="scopus.ris",
        data=b"",
        size=1,
        status=ImportBatchStatus.CHECKING,
        total=10,
    )
    return SimpleNamespace(
        users=actors,
        studies=studies,
        targets={
            "component": {"code": element.component.code},
            "element": {"code": element.code},
            **{state: {"pk": study.pk} for state, study in studies.items()},
            **{
                f"{state}_effect": {"pk": effect.study_id, "effect_pk": effect.pk}
                for state, effect in effects.items()
            },
            **{
                f"{state}_tag": {"pk": tags[state].study_id, "tag_pk": tags[state].pk}
                for state in ("draft", "published")
            },
            "batch": {"pk": batch.pk},
            "convening": {"slug": convening.slug},
            "session": {"slug": convening.slug, "pk": session.pk},
            "presenter": {"slug": convening.slug, "pk": session.pk, "presenter_pk": presenter.pk},
            "finding": {"pk": finding.pk},
            "person": {"slug": presenter.person.slug},
            "organization": {"slug": presenter.organization.slug},
        },
    )


def _url(world, route, access: Access) -> str:
    kwargs = {**world.targets.get(access.target, {}), **access.url}
    assert set(kwargs) == set(route.kwargs), (
        f"{route.name} ({route.route}) takes {route.kwargs}; the policy gives {sorted(kwargs)}"
    )
    url = reverse(route.name, kwargs=kwargs)
    return f"{url}?{access.query}" if access.query else url


def _outcome(response, asked: str) -> str:
    """The status, or LOGIN for a redirect to the login page that comes back to `asked`."""
    if response.status_code == 302:
        location = urlsplit(response["Location"])
        if location.path == reverse("login"):
            back = parse_qs(location.query).get("next")
            return LOGIN if back == [asked] else f"302 to the login page with next={back}"
    return str(response.status_code)


def _request(world, method: str, url: str, actor: str):
    cache.clear()  # the sign-in throttle counts in the cache: every request starts afresh
    client = Client()
    with transaction.atomic():
        if world.users[actor] is not None:
            client.force_login(world.users[actor])
        response = client.get(url) if method == "GET" else client.post(url, {})
        transaction.set_rollback(True)  # the next actor meets the same data
    return response


def _leaked(world, response, access: Access, actor: str) -> list[str]:
    """Titles of unpublished studies on a page that should not show them to this actor."""
    if response.status_code != 200 or getattr(response, "streaming", False):
        return []
    body = response.content.decode(errors="replace")
    hidden = [
        state for state in UNPUBLISHED if access.gate == EVERYONE or actor not in VISIBLE_TO[state]
    ]
    return [state for state in hidden if TITLES[state] in body]


def test_every_policy_row_names_a_real_page():
    assert set(POLICY) <= set(ROUTES), set(POLICY) - set(ROUTES)


def test_the_skipped_password_views_are_still_routed():
    assert stock_password_view_names() == STOCK_PASSWORD_VIEWS


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_each_actor_gets_what_the_policy_gives_on_every_page(name, world):
    route = ROUTES[name]
    rules = POLICY.get(name)
    assert rules, f"{name} ({route.route}) has no row in POLICY: say who may read and write it"
    wrong = []
    for access in rules:
        url = _url(world, route, access)
        for method in ("GET", "POST"):
            for actor in ACTORS:
                response = _request(world, method, url, actor)
                outcome, expected = _outcome(response, url), access.expected(method, actor)
                what = f"{method} {url} ({access.target or name}) as {actor}"
                if outcome != expected:
                    wrong.append(f"{what}: {outcome}, expected {expected}")
                for state in _leaked(world, response, access, actor):
                    wrong.append(f"{what}: shows the {state} study's title")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
def test_an_unpublished_study_is_404_in_public_and_shown_in_the_workspace_to_owner_and_curators(
    world, actor
):
    for state in UNPUBLISHED:
        pk = world.studies[state].pk
        public = _request(world, "GET", reverse("studies:detail", args=[pk]), actor)
        assert public.status_code == 404, (state, actor)
        workspace_url = reverse("workspace:study", args=[pk])
        workspace = _request(world, "GET", workspace_url, actor)
        if actor in OWNER_AND_CURATORS:
            assert workspace.status_code == 200 and TITLES[state] in workspace.content.decode()
        else:
            assert _outcome(workspace, workspace_url) in {LOGIN, "403", "404"}, (state, actor)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
def test_public_pages_list_the_published_study_and_no_other(world, actor):
    """The other side of the leak check: the published study does show where the others hide."""
    pages = [
        reverse("studies:list"),
        f"{reverse('search')}?q=tutoring",
        reverse("frameworks:component", kwargs=world.targets["component"]),
        reverse("frameworks:element", args=["LL.3"]),
        reverse("convenings:findings"),
        reverse("convenings:session", kwargs=world.targets["session"]),
    ]
    for url in pages:
        body = _request(world, "GET", url, actor).content.decode()
        assert TITLES["published"] in body, (url, actor)
        assert not [s for s in UNPUBLISHED if TITLES[s] in body], (url, actor)

"""The permission matrix: every API endpoint × every actor × every method the endpoint allows.

The endpoints come from the URL conf (tests/api/endpoints.py): a new route fails here until POLICY
says who may use it. POLICY is the contract of ../shared/API.md and the REST API issue, written per
endpoint as who may read and who may write; the expected status follows from it:

- an actor the policy lets in gets the endpoint's success status (or the status a deliberately
  incomplete request earns, e.g. 400 for an upload without a file);
- an actor without the role the request needs gets 403;
- an actor who has that role but may not even see the record (someone else's draft) gets 404,
  as does anyone reading a record hidden from them: visibility lives in the querysets.

Each request runs in a savepoint that is rolled back, so every actor meets the same data, built
once per endpoint.
"""

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from evidence import services as evidence_services
from evidence.models import RecomputeJob
from tests.actors import ACTORS, CURATORS, EVERYONE, ORGANISERS, OWNER_AND_CURATORS, RESEARCHERS
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

from .endpoints import api_endpoints

# Who may see each record the matrix uses; everything else is public.
VISIBLE_TO = {
    "draft": OWNER_AND_CURATORS,
    "submitted": OWNER_AND_CURATORS,
    "draft_effect": OWNER_AND_CURATORS,
    "draft_tag": OWNER_AND_CURATORS,
}


@dataclass(frozen=True)
class Rule:
    method: str
    target: (
        str | None
    )  # the record in the URL (a key of the `world` fixture), None for a collection
    may: frozenset  # the actors let in
    ok: int  # their status
    gate: frozenset = EVERYONE  # the actors holding the role the request needs at all

    def expected(self, actor: str) -> int:
        hidden = self.target is not None and actor not in VISIBLE_TO.get(self.target, EVERYONE)
        if actor in self.may and not hidden:
            return self.ok
        return 404 if hidden and actor in self.gate else 403


def read(target=None, may=EVERYONE, gate=EVERYONE) -> Rule:
    return Rule("GET", target, may, 200, gate)


def write(method, target, may, ok, gate=None) -> Rule:
    return Rule(method, target, may, ok, may if gate is None else gate)


def edits(target, may, *, gate=None, put=True, delete=True) -> list[Rule]:
    """PUT, PATCH and DELETE of one record."""
    rules = [write("PATCH", target, may, 200, gate)]
    if put:
        rules.append(write("PUT", target, may, 200, gate))
    if delete:
        rules.append(write("DELETE", target, may, 204, gate))
    return rules


POLICY: dict[str, list[Rule]] = {
    "api-root": [read()],
    # Anyone may ask for a token; without credentials that is a field error, never a 403.
    # Revoking needs to be signed in (the caller's own token).
    "api-token": [
        write("POST", None, EVERYONE, 400),
        write("DELETE", None, EVERYONE - {"anonymous"}, 204),
    ],
    # The taxonomy and the evidence: public reads.
    "framework-list": [read()],
    "framework-detail": [read("framework")],
    "component-list": [read()],
    "component-detail": [read("component")],
    "element-list": [read()],
    "element-detail": [read("element")],
    "evidence:element-evidence": [read("element")],
    "evidence:gaps": [read()],
    "evidence:recompute": [write("POST", None, CURATORS, 202)],
    "evidence:job": [read("job", may=CURATORS, gate=CURATORS)],
    # Studies: the public reads published ones; researchers create and edit their own drafts;
    # curators edit anything and run the review.
    "study-list": [read(), write("POST", None, RESEARCHERS, 201)],
    "study-detail": [
        read("draft"),
        read("published"),
        *edits("draft", OWNER_AND_CURATORS, gate=RESEARCHERS),
        *edits("published", CURATORS, gate=RESEARCHERS, put=False),
    ],
    "study-submit": [write("POST", "draft", OWNER_AND_CURATORS, 200, RESEARCHERS)],
    "study-publish": [write("POST", "submitted", CURATORS, 200)],
    "study-return": [write("POST", "submitted", CURATORS, 200)],
    "study-retract": [write("POST", "published", CURATORS, 200)],
    # The audit trail is for the people who enter and review studies, as in the workspace.
    "study-history": [
        read("draft", may=OWNER_AND_CURATORS, gate=RESEARCHERS),
        read("published", may=RESEARCHERS, gate=RESEARCHERS),
    ],
    # Effects and tags: as their study.
    "study-effects": [
        read("draft"),
        read("published"),
        write("POST", "draft", OWNER_AND_CURATORS, 201, RESEARCHERS),
        write("POST", "published", CURATORS, 201, RESEARCHERS),
    ],
    "study-tags": [
        read("draft"),
        read("published"),
        write("POST", "draft", OWNER_AND_CURATORS, 201, RESEARCHERS),
        write("POST", "published", CURATORS, 201, RESEARCHERS),
    ],
    "effect-detail": [
        read("draft_effect"),
        read("published_effect"),
        *edits("draft_effect", OWNER_AND_CURATORS, gate=RESEARCHERS, put=False),
        *edits("published_effect", CURATORS, gate=RESEARCHERS, put=False),
    ],
    "tag-detail": [
        read("draft_tag"),
        read("published_tag"),
        write("DELETE", "draft_tag", OWNER_AND_CURATORS, 204, RESEARCHERS),
        write("DELETE", "published_tag", CURATORS, 204, RESEARCHERS),
    ],
    # An upload without a file: a field error once the role lets you in.
    "import": [write("POST", None, RESEARCHERS, 400)],
    # Convenings: public reads, organisers write.
    "convening-list": [read(), write("POST", None, ORGANISERS, 201)],
    "convening-detail": [read("convening"), *edits("convening", ORGANISERS)],
    "session-list": [read(), write("POST", None, ORGANISERS, 201)],
    "session-detail": [read("session"), *edits("session", ORGANISERS)],
    "session-move": [write("POST", "session", ORGANISERS, 200)],
    "session-presenters": [read("session"), write("POST", "session", ORGANISERS, 201)],
    "presenter-detail": [read("presenter"), write("DELETE", "presenter", ORGANISERS, 204)],
    "finding-list": [read(), write("POST", None, ORGANISERS, 201)],
    "finding-detail": [read("finding"), *edits("finding", ORGANISERS)],
}


def _version(world, obj) -> dict:
    return {"version": obj.version}


# What each write sends (valid, so the allowed actors reach the success status).
BODIES = {
    ("study-list", "POST"): lambda w, obj: {"title": "Mastery learning in grade 7", "year": 2020},
    ("study-detail", "PUT"): lambda w, obj: {
        "title": "Retitled",
        "year": 2019,
        "version": obj.version,
    },
    ("study-return", "POST"): lambda w, obj: {"comment": "Add the sample size, please."},
    ("study-retract", "POST"): lambda w, obj: {"comment": "The journal retracted it."},
    ("study-effects", "POST"): lambda w, obj: {
        "input": "smd",
        "value": 0.2,
        "se": 0.1,
        "outcome_domain": "mathematics",
    },
    ("study-tags", "POST"): lambda w, obj: {"element": w.other_element.code},
    ("convening-list", "POST"): lambda w, obj: {"title": "Autumn convening"},
    ("convening-detail", "PUT"): lambda w, obj: {"title": "Renamed", "version": obj.version},
    ("session-list", "POST"): lambda w, obj: {
        "convening": w.convening.slug,
        "kind": "research",
        "title": "A new session",
    },
    ("session-detail", "PUT"): lambda w, obj: {
        "kind": "research",
        "title": "Renamed",
        "version": obj.version,
    },
    ("session-move", "POST"): lambda w, obj: {"direction": "up"},
    ("session-presenters", "POST"): lambda w, obj: {"name": "Pat Presenter"},
    ("finding-list", "POST"): lambda w, obj: {
        "session": w.session.pk,
        "kind": "finding",
        "text": "Students set goals weekly.",
    },
    ("finding-detail", "PUT"): lambda w, obj: {
        "kind": "finding",
        "text": "Rewritten",
        "version": obj.version,
    },
}
MULTIPART = {"import"}

ENDPOINTS = api_endpoints()


@pytest.fixture
def world(actors, researcher, curator) -> SimpleNamespace:
    """One of each record the API serves, the studies owned by `researcher`."""
    element = ElementFactory(code="LL.3")
    w = SimpleNamespace(
        users=actors,
        element=element,
        other_element=ElementFactory(code="LL.4", component=element.component),
        component=element.component,
        framework=element.framework,
    )
    for state in ("draft", "submitted", "published"):
        study = StudyFactory(status=state, created_by=researcher)
        setattr(w, state, study)
    w.draft_effect = EffectSizeFactory(study=w.draft)
    w.published_effect = EffectSizeFactory(study=w.published)
    w.draft_tag = StudyTagFactory(study=w.draft, element=element)
    w.published_tag = StudyTagFactory(study=w.published, element=element)
    evidence_services.element_evidence_recompute(element_id=element.pk)
    w.job = RecomputeJob.objects.create(requested_by=curator)
    w.convening = ConveningFactory(slug="spring")
    SessionFactory(convening=w.convening, order=1)
    w.session = SessionFactory(convening=w.convening, order=2)
    w.presenter = PresenterFactory(session=w.session)
    w.finding = FindingFactory(session=w.session)
    return w


def _url(endpoint, obj) -> str:
    kwargs = {name: getattr(obj, name) for name in endpoint.kwargs}
    return reverse(endpoint.name, kwargs=kwargs)


def _status(world, endpoint, rule, actor) -> int:
    obj = getattr(world, rule.target) if rule.target else None
    client = APIClient()
    if world.users[actor] is not None:
        client.force_authenticate(world.users[actor])
    body = BODIES.get((endpoint.name, rule.method), lambda w, o: {})(world, obj)
    if rule.method == "PATCH":
        body = _version(world, obj)
    cache.clear()  # the throttles count in the cache: every request starts afresh
    with transaction.atomic():
        response = getattr(client, rule.method.lower())(
            _url(endpoint, obj),
            body,
            format="multipart" if endpoint.name in MULTIPART else "json",
        )
        transaction.set_rollback(True)  # the next actor meets the same data
    return response.status_code


def test_every_policy_row_names_a_real_endpoint():
    assert set(POLICY) <= set(ENDPOINTS), set(POLICY) - set(ENDPOINTS)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_each_actor_gets_the_status_the_policy_gives(name, world):
    endpoint = ENDPOINTS[name]
    rules = POLICY.get(name)
    assert rules, f"{name} ({endpoint.route}) has no row in POLICY: say who may read and write it"
    assert {r.method for r in rules} == set(endpoint.methods), (
        f"{name} allows {endpoint.methods}; POLICY covers {sorted({r.method for r in rules})}"
    )
    wrong = []
    for rule in rules:
        for actor in ACTORS:
            status, expected = _status(world, endpoint, rule, actor), rule.expected(actor)
            if status != expected:
                wrong.append(
                    f"{rule.method} {name} ({rule.target or 'collection'}) as {actor}: "
                    f"{status}, expected {expected}"
                )
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS)
def test_an_unpublished_study_is_listed_only_to_who_may_see_it(world, actor):
    client = APIClient()
    if world.users[actor] is not None:
        client.force_authenticate(world.users[actor])
    ids = {s["id"] for s in client.get("/api/v1/studies/").json()["results"]}
    assert (world.draft.pk in ids) == (actor in VISIBLE_TO["draft"])
    assert world.published.pk in ids
    assert (world.submitted.pk in ids) == (actor in VISIBLE_TO["submitted"])

"""The convenings API: public reads, filters, organiser-only writes through the services,
optimistic concurrency, and query budgets."""

import datetime

import pytest
from rest_framework.test import APIClient

from convenings.models import Convening, Finding, Organization, Person, Session
from studies.constants import ReviewStatus
from tests.factories import (
    ConveningFactory,
    ElementFactory,
    FindingFactory,
    PresenterFactory,
    SessionFactory,
    StudyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def convening():
    return ConveningFactory(slug="spring", title="Spring convening", date=datetime.date(2020, 4, 1))


@pytest.fixture
def session(convening):
    return SessionFactory(convening=convening, order=1, kind="keynote", title="Keynote")


def test_the_public_reads_convenings_by_slug_with_their_agenda(convening, session):
    SessionFactory(convening=convening, order=2, kind="closing", title="Closing")
    listed = api().get("/api/v1/convenings/").json()
    assert listed["count"] == 1 and listed["results"][0]["slug"] == "spring"
    response = api().get("/api/v1/convenings/spring/")
    body = response.json()
    assert response["ETag"] == f'"convening-{convening.pk}-v1"'
    assert [(s["order"], s["kind"], s["title"]) for s in body["agenda"]] == [
        (1, "keynote", "Keynote"),
        (2, "closing", "Closing"),
    ]
    assert body["page"] == "/convenings/spring/"


def test_sessions_carry_their_presenters_and_filter_by_convening_and_kind(convening, session):
    PresenterFactory(session=session, title="Senior Director")
    SessionFactory(kind="keynote")  # another convening's
    body = api().get("/api/v1/sessions/", {"convening": "spring", "kind": "keynote"}).json()
    assert body["count"] == 1
    presenter = body["results"][0]["presenters"][0]
    assert presenter["title"] == "Senior Director"
    assert set(presenter["person"]) == {"id", "name", "slug", "page"}
    assert presenter["organization"]["page"].startswith("/convenings/organizations/")


def test_findings_filter_by_kind_audience_element_and_convening(convening, session):
    element = ElementFactory(code="LL.3")
    match = FindingFactory(session=session, kind="open_question", audience="researchers")
    match.elements.add(element)
    FindingFactory(session=session, kind="open_question", audience="funders").elements.add(element)
    FindingFactory(session=session, kind="recommendation", audience="researchers").elements.add(
        element
    )
    FindingFactory(kind="open_question", audience="researchers").elements.add(element)
    params = {
        "kind": "open_question",
        "audience": "researchers",
        "element": "ll.3",
        "convening": "spring",
    }
    body = api().get("/api/v1/findings/", params).json()
    assert [f["id"] for f in body["results"]] == [match.pk]
    assert body["results"][0]["elements"] == ["LL.3"]
    assert api().get("/api/v1/findings/", {"kind": "gossip"}).status_code == 400


def test_a_finding_shows_only_its_published_studies(session):
    published, draft = StudyFactory(), StudyFactory(status=ReviewStatus.DRAFT)
    finding = FindingFactory(session=session)
    finding.studies.add(published, draft)
    assert api().get(f"/api/v1/findings/{finding.pk}/").json()["studies"] == [published.pk]


NEW_CONVENING = {"title": "Autumn convening", "date": "2021-10-20", "host": "Aurora Institute"}


@pytest.mark.parametrize(
    "actor, expected",
    [("researcher", 403), ("curator", 403), ("organiser", 201), ("admin_user", 201)],
)
def test_only_organisers_and_admins_write(request, actor, expected):
    user = request.getfixturevalue(actor)
    assert (
        api(user).post("/api/v1/convenings/", NEW_CONVENING, format="json").status_code == expected
    )


def test_anonymous_writes_are_refused(convening, session):
    finding = FindingFactory(session=session)
    assert api().post("/api/v1/convenings/", NEW_CONVENING, format="json").status_code in (401, 403)
    assert api().patch(
        f"/api/v1/findings/{finding.pk}/", {"text": "x", "version": 1}
    ).status_code in (
        401,
        403,
    )
    assert api().delete("/api/v1/convenings/spring/").status_code in (401, 403)
    assert api(UserFactory()).delete("/api/v1/convenings/spring/").status_code == 403
    assert Convening.objects.filter(slug="spring").exists()


def test_an_organiser_builds_a_convening_through_the_api(organiser):
    client = api(organiser)
    element = ElementFactory(code="LF.1")
    study = StudyFactory()
    convening = client.post("/api/v1/convenings/", NEW_CONVENING, format="json").json()
    assert convening["slug"] == "autumn-convening" and convening["version"] == 1
    sessions = [
        client.post(
            "/api/v1/sessions/",
            {
                "convening": "autumn-convening",
                "kind": kind,
                "title": kind.title(),
                "media_links": [{"label": "Video", "url": "https://example.org/v"}],
            },
            format="json",
        ).json()
        for kind in ("opening", "keynote", "closing")
    ]
    assert [s["order"] for s in sessions] == [1, 2, 3]
    assert sessions[0]["media_links"] == [{"label": "Video", "url": "https://example.org/v"}]
    keynote = sessions[1]["id"]

    moved = client.post(f"/api/v1/sessions/{keynote}/move/", {"direction": "up"}, format="json")
    assert moved.status_code == 200 and moved.json()["order"] == 1

    url = f"/api/v1/sessions/{keynote}/presenters/"
    first = client.post(
        url, {"name": "Jilliam Joe", "organization": "LEAP Innovations"}, format="json"
    )
    assert first.status_code == 201, first.json()
    assert first.json()["organization"]["name"] == "LEAP Innovations"
    duplicate = client.post(url, {"name": " jilliam  joe "}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()
    other = client.post(
        f"/api/v1/sessions/{sessions[2]['id']}/presenters/",
        {"name": "JILLIAM JOE", "organization": "leap innovations"},
        format="json",
    )
    assert other.status_code == 201
    assert Person.objects.count() == 1 and Organization.objects.count() == 1
    assert len(client.get(url).json()) == 1

    finding = client.post(
        "/api/v1/findings/",
        {
            "session": keynote,
            "kind": "open_question",
            "audience": "researchers",
            "text": "Does the practice help create more equitable environments?",
            "quote": "Does the practice help?",
            "attribution": "Jilliam Joe, LEAP Innovations",
            "elements": ["LF.1"],
            "studies": [study.pk],
        },
        format="json",
    )
    assert finding.status_code == 201, finding.json()
    body = finding.json()
    assert body["convening"] == "autumn-convening" and body["elements"] == ["LF.1"]
    assert body["studies"] == [study.pk]
    saved = Finding.objects.get()
    assert list(saved.elements.all()) == [element]
    assert saved.history.first().history_user == organiser


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"elements": ["LX.9"]}, "elements"),
        ({"studies": [999999]}, "studies"),
        ({"kind": "rumour"}, "kind"),
        ({"session": None, "convening": None, "source": ""}, "non_field_errors"),
        ({"quote": "Exact words", "attribution": ""}, "attribution"),
    ],
)
def test_bad_finding_input_is_a_400_on_its_field(organiser, session, payload, field):
    ElementFactory(code="LL.3")
    data = {"session": session.pk, "kind": "finding", "text": "Found.", **payload}
    response = api(organiser).post("/api/v1/findings/", data, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


def test_an_unpublished_study_cannot_be_linked(organiser, session):
    draft = StudyFactory(status=ReviewStatus.DRAFT)
    response = api(organiser).post(
        "/api/v1/findings/",
        {"session": session.pk, "kind": "finding", "text": "Found.", "studies": [draft.pk]},
        format="json",
    )
    assert response.status_code == 400 and "studies" in response.json()


def test_a_report_finding_needs_only_its_source(organiser):
    response = api(organiser).post(
        "/api/v1/findings/",
        {
            "source": "RAND Informing Progress",
            "kind": "recommendation",
            "audience": "funders",
            "text": "Fund stronger designs.",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["convening"] is None and response.json()["session"] is None


@pytest.fixture(params=["convening", "session", "finding"])
def editable(request, convening, session):
    """One record of each editable kind: its URL and a harmless change."""
    if request.param == "convening":
        return "/api/v1/convenings/spring/", {"title": "Renamed"}, {"host": "Someone"}
    if request.param == "session":
        return f"/api/v1/sessions/{session.pk}/", {"title": "Renamed"}, {"summary": "New"}
    finding = FindingFactory(session=session)
    return f"/api/v1/findings/{finding.pk}/", {"text": "Reworded"}, {"audience": "funders"}


def test_two_editors_from_the_same_version_one_wins_and_the_other_is_told(organiser, editable):
    url, first_change, second_change = editable
    client = api(organiser)
    first = client.patch(url, {**first_change, "version": 1}, format="json")
    second = client.patch(url, {**second_change, "version": 1}, format="json")
    assert first.status_code == 200, first.json()
    assert first.json()["version"] == 2
    assert second.status_code == 409 and second.json()["current_version"] == 2
    field, value = next(iter(second_change.items()))
    assert client.get(url).json()[field] != value


def test_a_stale_if_match_is_a_412_and_a_missing_version_a_428(organiser, editable):
    url, change, _ = editable
    client = api(organiser)
    etag = client.get(url)["ETag"]
    assert client.patch(url, change, format="json", HTTP_IF_MATCH=etag).status_code == 200
    assert client.patch(url, change, format="json", HTTP_IF_MATCH=etag).status_code == 412
    assert client.patch(url, change, format="json").status_code == 428


def test_a_session_and_a_finding_stay_where_they_were_recorded(organiser, session):
    elsewhere = ConveningFactory()
    finding = FindingFactory(session=session)
    moved_session = api(organiser).patch(
        f"/api/v1/sessions/{session.pk}/",
        {"convening": elsewhere.slug, "version": 1},
        format="json",
    )
    moved_finding = api(organiser).patch(
        f"/api/v1/findings/{finding.pk}/", {"source": "A report", "version": 1}, format="json"
    )
    assert moved_session.status_code == 400 and "convening" in moved_session.json()
    assert moved_finding.status_code == 400 and "source" in moved_finding.json()


def test_organisers_delete_and_the_deletion_is_audited(organiser, convening, session):
    finding = FindingFactory(session=session)
    presenter = PresenterFactory(session=session)
    client = api(organiser)
    assert api(UserFactory()).delete(f"/api/v1/findings/{finding.pk}/").status_code == 403
    assert client.delete(f"/api/v1/presenters/{presenter.pk}/").status_code == 204
    assert client.delete(f"/api/v1/findings/{finding.pk}/").status_code == 204
    assert Finding.history.filter(id=finding.pk, history_type="-").get().history_user == organiser
    assert client.delete(f"/api/v1/sessions/{session.pk}/").status_code == 204
    assert client.delete("/api/v1/convenings/spring/").status_code == 204
    assert not Session.objects.exists() and not Convening.objects.exists()


def test_the_lists_have_query_budgets(django_assert_max_num_queries):
    elements = [ElementFactory() for _ in range(3)]
    studies = [StudyFactory() for _ in range(2)]
    for n in range(10):
        convening = ConveningFactory(date=datetime.date(2000 + n, 1, 1))
        for order in range(1, 4):
            session = SessionFactory(convening=convening, order=order)
            for _ in range(3):
                PresenterFactory(session=session)
            finding = FindingFactory(session=session)
            finding.elements.set(elements)
            finding.studies.set(studies)
    client = api()
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/convenings/").json()["count"] == 10
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/sessions/").json()["count"] == 30
    with django_assert_max_num_queries(4):
        body = client.get("/api/v1/findings/").json()
    assert body["count"] == 30 and all(len(f["elements"]) == 3 for f in body["results"])


def test_the_schema_documents_the_convenings_api(anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/convenings/",
        "/api/v1/convenings/{slug}/",
        "/api/v1/sessions/{id}/move/",
        "/api/v1/sessions/{id}/presenters/",
        "/api/v1/findings/",
    ):
        assert path in schema["paths"], path
    assert schema["components"]["schemas"]["FindingKindEnum"]["enum"][2] == "open_question"

"""The organiser's workflow on server-rendered forms (no JavaScript): who may do it, and what it
writes through the services (de-duplicated people, agenda order, links, audit trail)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from convenings import selectors, services
from convenings.models import Convening, Finding, Organization, Person, Presenter, Session
from studies.constants import ReviewStatus
from tests.factories import (
    ConveningFactory,
    ElementFactory,
    FindingFactory,
    PresenterFactory,
    SessionFactory,
    StudyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def convening():
    return ConveningFactory(slug="spring-convening", title="Spring convening")


@pytest.fixture
def session(convening):
    return SessionFactory(convening=convening, order=1, title="Opening Session", kind="opening")


@pytest.fixture
def as_organiser(client, organiser):
    client.force_login(organiser)
    return client


def form_pages(convening, session, finding):
    slug, pk = convening.slug, session.pk
    return [
        reverse("convenings:create"),
        reverse("convenings:edit", args=[slug]),
        reverse("convenings:session_create", args=[slug]),
        reverse("convenings:session_edit", args=[slug, pk]),
        reverse("convenings:presenter_create", args=[slug, pk]),
        reverse("convenings:finding_create", args=[slug, pk]),
        reverse("convenings:finding_edit", args=[finding.pk]),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(anonymous, convening, session):
    presenter = PresenterFactory(session=session)
    for url in form_pages(convening, session, FindingFactory(session=session)):
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}"
    move = reverse("convenings:session_move", args=[convening.slug, session.pk])
    remove = reverse("convenings:presenter_remove", args=[convening.slug, session.pk, presenter.pk])
    for url in (move, remove):
        assert anonymous.post(url, {"direction": "down"}).status_code == 302
    assert Presenter.objects.filter(pk=presenter.pk).exists()


@pytest.mark.parametrize("actor", ["researcher", "curator"])
def test_people_without_the_organiser_role_are_refused(client, request, actor, convening, session):
    client.force_login(request.getfixturevalue(actor))
    finding = FindingFactory(session=session)
    for url in form_pages(convening, session, finding):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("convenings:create"), {"title": "Sneaky"}).status_code == 403
    move = reverse("convenings:session_move", args=[convening.slug, session.pk])
    assert client.post(move, {"direction": "down"}).status_code == 403
    assert not Convening.objects.filter(title="Sneaky").exists()


@pytest.mark.parametrize("actor", ["organiser", "admin_user"])
def test_organisers_and_admins_open_every_form(client, request, actor, convening, session):
    client.force_login(request.getfixturevalue(actor))
    for url in form_pages(convening, session, FindingFactory(session=session)):
        assert client.get(url).status_code == 200, url


def test_an_organiser_records_a_convening_and_the_audit_trail_names_them(as_organiser, organiser):
    response = as_organiser.post(
        reverse("convenings:create"),
        {
            "title": "National Research Convening",
            "date": "2020-10-20",
            "host": "Aurora Institute",
            "sponsor": "Leon Lowenstein Foundation",
            "goals": "Strengthen the evidence base.",
        },
    )
    convening = Convening.objects.get()
    assert response.status_code == 302 and response["Location"] == convening.get_absolute_url()
    assert convening.slug == "national-research-convening" and convening.version == 1
    record = convening.history.get()
    assert record.history_user == organiser and record.history_type == "+"


def test_a_convening_never_takes_a_slug_that_is_a_page(as_organiser):
    as_organiser.post(reverse("convenings:create"), {"title": "Findings"})
    as_organiser.post(reverse("convenings:create"), {"title": "Findings"})
    assert sorted(Convening.objects.values_list("slug", flat=True)) == [
        "findings-convening",
        "findings-convening-2",
    ]
    assert as_organiser.get(reverse("convenings:findings")).status_code == 200


def test_an_edit_from_a_stale_page_is_refused_not_overwritten(as_organiser, convening):
    url = reverse("convenings:edit", args=[convening.slug])
    first = as_organiser.post(url, {"title": "First title", "version": 1})
    second = as_organiser.post(url, {"title": "Second title", "version": 1})
    assert first.status_code == 302 and second.status_code == 200
    assert "Someone else saved a change" in second.content.decode()
    convening.refresh_from_db()
    assert convening.title == "First title" and convening.version == 2


def test_sessions_are_added_at_the_end_and_moved_without_javascript(
    as_organiser, organiser, convening
):
    for title, kind in (("Opening", "opening"), ("Keynote", "keynote"), ("Closing", "closing")):
        response = as_organiser.post(
            reverse("convenings:session_create", args=[convening.slug]),
            {"title": title, "kind": kind, "summary": "", "media_links": ""},
        )
        assert response.status_code == 302

    def titles():
        return list(convening.sessions.order_by("order").values_list("title", flat=True))

    assert titles() == ["Opening", "Keynote", "Closing"]
    assert list(convening.sessions.values_list("order", flat=True)) == [1, 2, 3]

    closing = convening.sessions.get(title="Closing")
    move = reverse("convenings:session_move", args=[convening.slug, closing.pk])
    response = as_organiser.post(move, {"direction": "up"})
    assert response.status_code == 302
    assert response["Location"] == f"{convening.get_absolute_url()}#session-{closing.pk}"
    assert titles() == ["Opening", "Closing", "Keynote"]
    as_organiser.post(move, {"direction": "up"})
    as_organiser.post(move, {"direction": "up"})  # already first: stays
    assert titles() == ["Closing", "Opening", "Keynote"]
    as_organiser.post(move, {"direction": "down"})
    assert titles() == ["Opening", "Closing", "Keynote"]
    assert as_organiser.get(move).status_code == 405  # moves are POSTs only

    closing.refresh_from_db()
    latest = closing.history.first()
    assert latest.history_user == organiser and latest.history_change_reason == "Session moved down"
    page = as_organiser.get(convening.get_absolute_url()).content.decode()
    assert page.index(">Opening</a>") < page.index(">Closing</a>") < page.index(">Keynote</a>")


def test_moving_keeps_every_slot_unique_with_gaps_in_the_agenda(convening):
    first = SessionFactory(convening=convening, order=1)
    third = SessionFactory(convening=convening, order=5)
    services.session_move(session=third, direction="up")
    first.refresh_from_db()
    third.refresh_from_db()
    assert (third.order, first.order) == (1, 5)
    with pytest.raises(ValidationError):
        services.session_move(session=third, direction="sideways")


def test_people_and_organizations_are_reused_however_their_names_are_typed(
    as_organiser, convening, session
):
    other = SessionFactory(convening=convening, order=2)
    for target, name, organization in (
        (session, "Susan Patrick", "Aurora Institute"),
        (other, " Susan  Patrick", "aurora  institute"),
    ):
        response = as_organiser.post(
            reverse("convenings:presenter_create", args=[convening.slug, target.pk]),
            {"name": name, "title": "President/CEO", "organization": organization},
        )
        assert response.status_code == 302
    assert services.person_get_or_create(name="susan patrick") == Person.objects.get()
    assert Person.objects.get().name == "Susan Patrick"
    assert Organization.objects.get().name == "Aurora Institute"
    assert Presenter.objects.count() == 2

    again = as_organiser.post(
        reverse("convenings:presenter_create", args=[convening.slug, session.pk]),
        {"name": "SUSAN PATRICK"},
    )
    assert again.status_code == 200
    assert "already presents in this session" in again.content.decode()
    assert Presenter.objects.count() == 2


def test_names_without_latin_letters_still_get_one_person_each():
    first = services.person_get_or_create(name="张伟")
    assert services.person_get_or_create(name=" 张伟 ") == first
    assert services.person_get_or_create(name="李娜") != first
    assert first.get_absolute_url()
    with pytest.raises(ValidationError):
        services.person_get_or_create(name="   ")


def test_a_presenter_is_removed_but_the_person_stays(as_organiser, convening, session):
    presenter = PresenterFactory(session=session)
    url = reverse("convenings:presenter_remove", args=[convening.slug, session.pk, presenter.pk])
    assert as_organiser.post(url).status_code == 302
    assert not Presenter.objects.exists()
    assert Person.objects.filter(pk=presenter.person_id).exists()


def test_an_organiser_adds_a_finding_linked_to_elements_and_studies(
    as_organiser, organiser, convening, session
):
    element = ElementFactory(code="LL.3")
    study = StudyFactory(doi="10.1080/abc.123")
    other = StudyFactory()
    response = as_organiser.post(
        reverse("convenings:finding_create", args=[convening.slug, session.pk]),
        {
            "kind": "open_question",
            "audience": "researchers",
            "text": "Does self-assessment transfer to how educators teach?",
            "quote": "Do learning experiences transfer?",
            "attribution": "Beth Holland, The Learning Accelerator",
            "elements": [element.pk],
            "studies": f"https://doi.org/10.1080/ABC.123, {other.pk}",
        },
    )
    assert response.status_code == 302 and response["Location"] == session.get_absolute_url()
    finding = Finding.objects.get()
    assert finding.convening == convening and finding.session == session
    assert list(finding.elements.all()) == [element]
    assert set(finding.studies.all()) == {study, other}
    assert list(selectors.findings_for_element(element)) == [finding]
    assert list(selectors.open_questions_for_element(element)) == [finding]
    assert all(r.history_user == organiser for r in finding.history.all())

    page = as_organiser.get(session.get_absolute_url()).content.decode()
    assert "Does self-assessment transfer" in page and element.get_absolute_url() in page


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"studies": "999999"}, "studies", "No published study"),
        ({"studies": "not-a-doi"}, "studies", "No published study"),
        ({"quote": "Exact words", "attribution": ""}, "attribution", "Say who said"),
        ({"text": ""}, "text", "required"),
    ],
)
def test_a_bad_finding_is_refused_with_a_message(
    as_organiser, convening, session, change, field, message
):
    data = {"kind": "finding", "text": "Something was found.", **change}
    response = as_organiser.post(
        reverse("convenings:finding_create", args=[convening.slug, session.pk]), data
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Finding.objects.exists()


def test_an_unpublished_study_cannot_be_linked(as_organiser, convening, session):
    draft = StudyFactory(status=ReviewStatus.DRAFT)
    response = as_organiser.post(
        reverse("convenings:finding_create", args=[convening.slug, session.pk]),
        {"kind": "finding", "text": "Found.", "studies": str(draft.pk)},
    )
    assert response.status_code == 200 and not Finding.objects.exists()
    with pytest.raises(ValidationError):
        services.finding_add(session=session, kind="finding", text="Found.", studies=[draft])


def test_editing_a_finding_relinks_it_and_bumps_its_version(as_organiser, session):
    old, new = ElementFactory(code="LF.1"), ElementFactory(code="LD.4")
    finding = FindingFactory(session=session, text="Culturally responsive mastery learning.")
    finding.elements.add(old)
    url = reverse("convenings:finding_edit", args=[finding.pk])
    assert 'value="1"' in as_organiser.get(url).content.decode()  # the version, hidden
    response = as_organiser.post(
        url, {"kind": "open_question", "text": finding.text, "elements": [new.pk], "version": 1}
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.kind == "open_question" and finding.version == 2
    assert list(finding.elements.all()) == [new]
    assert list(selectors.findings_for_element(old)) == []


def test_media_links_are_one_a_line_and_must_be_web_addresses(as_organiser, convening, session):
    url = reverse("convenings:session_edit", args=[convening.slug, session.pk])
    bad = as_organiser.post(
        url,
        {"title": "Opening", "kind": "opening", "media_links": "javascript:alert(1)", "version": 1},
    )
    assert bad.status_code == 200 and "is not a web address" in bad.content.decode()
    good = as_organiser.post(
        url,
        {
            "title": "Opening",
            "kind": "opening",
            "media_links": "Video | https://example.org/v\nhttps://example.org/slides.pdf",
            "version": 1,
        },
    )
    assert good.status_code == 302
    session.refresh_from_db()
    assert session.media_links == [
        {"label": "Video", "url": "https://example.org/v"},
        {"label": "https://example.org/slides.pdf", "url": "https://example.org/slides.pdf"},
    ]
    form = as_organiser.get(url).content.decode()
    assert "Video | https://example.org/v" in form


def test_adding_sessions_from_the_service_numbers_them_after_the_last(convening):
    SessionFactory(convening=convening, order=7)
    added = services.session_add(convening=convening, data={"kind": "closing", "title": "Closing"})
    assert added.order == 8
    assert list(Session.objects.filter(convening=convening).values_list("order", flat=True)) == [
        7,
        8,
    ]

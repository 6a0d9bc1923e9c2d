"""The public convening pages: what they show, in what order, and in how many queries."""

import datetime

import pytest
from django.urls import reverse

from studies.constants import ReviewStatus
from tests.factories import (
    ConveningFactory,
    ElementFactory,
    FindingFactory,
    OrganizationFactory,
    PersonFactory,
    PresenterFactory,
    SessionFactory,
    StudyFactory,
)

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def convening():
    return ConveningFactory(
        slug="national-research-convening",
        title="National Research Convening",
        date=datetime.date(2020, 10, 20),
        host="Aurora Institute",
        context="pre-conference event",
        sponsor="Leon Lowenstein Foundation",
        attendance="more than 60 researchers and 40 others",
        goals="to strengthen knowledge and communication of the evidence base",
    )


def agenda(convening, kinds=("opening", "keynote", "research", "communications", "closing")):
    return [
        SessionFactory(convening=convening, order=i, kind=kind, title=f"{kind.title()} session")
        for i, kind in enumerate(kinds, start=1)
    ]


def busy_convening(convening, *, sessions=15, presenters=3, findings=4):
    """Enough sessions, presenters, findings and links to expose any N+1."""
    elements = [ElementFactory() for _ in range(3)]
    studies = [StudyFactory() for _ in range(2)]
    for order in range(1, sessions + 1):
        session = SessionFactory(convening=convening, order=order)
        for _ in range(presenters):
            PresenterFactory(session=session)
        for _ in range(findings):
            finding = FindingFactory(session=session)
            finding.elements.set(elements)
            finding.studies.set(studies)
    return convening


def test_the_list_shows_convenings_newest_first(anonymous):
    ConveningFactory(title="Undated convening", date=None)
    ConveningFactory(title="Older convening", date=datetime.date(2017, 5, 1))
    ConveningFactory(title="Newer convening", date=datetime.date(2021, 10, 20))
    page = html(anonymous.get(reverse("convenings:list")))
    assert page.index("Newer convening") < page.index("Older convening") < page.index("Undated")


def test_the_list_has_a_query_budget(anonymous, django_assert_max_num_queries):
    for n in range(25):
        agenda(ConveningFactory(date=datetime.date(2000 + n, 1, 1)))
    with django_assert_max_num_queries(2):
        page = html(anonymous.get(reverse("convenings:list")))
    assert page.count("5 sessions") == 25


def test_the_convening_page_gives_its_facts_and_agenda_in_order(anonymous, convening):
    first, keynote, *_, closing = agenda(convening)
    keynote.order, closing.order = 9, 2  # stored out of creation order on purpose
    keynote.save()
    closing.save()
    PresenterFactory(
        session=first,
        person=PersonFactory(name="Susan Patrick", slug="susan-patrick"),
        organization=OrganizationFactory(name="Aurora Institute", slug="aurora-institute"),
        title="President/CEO",
    )
    page = html(anonymous.get(convening.get_absolute_url()))
    for fact in ("October 20, 2020", "Aurora Institute", "Leon Lowenstein Foundation"):
        assert fact in page
    assert "more than 60 researchers" in page and "strengthen knowledge" in page
    assert (
        page.index("Opening session")
        < page.index("Closing session")
        < page.index("Keynote session")
    )
    for badge in ("Opening", "Keynote", "Research", "Communications", "Closing"):
        assert f'<span class="badge">{badge}</span>' in page
    assert "Susan Patrick</a>, President/CEO" in page
    assert "/convenings/people/susan-patrick/" in page
    assert "/convenings/organizations/aurora-institute/" in page


def test_the_convening_page_has_a_query_budget(anonymous, convening, django_assert_max_num_queries):
    busy_convening(convening)
    with django_assert_max_num_queries(4):
        page = html(anonymous.get(convening.get_absolute_url()))
    assert page.count("(4 findings)") == 15


def test_the_session_page_shows_presenters_media_and_findings_with_links(anonymous, convening):
    session = SessionFactory(
        convening=convening,
        kind="keynote",
        title="How Will Your Research Narrate Our History?",
        summary="Hard conversations about equity.",
        media_links=[{"label": "Video", "url": "https://example.org/video"}],
    )
    PresenterFactory(
        session=session,
        person=PersonFactory(name="Jilliam Joe"),
        organization=OrganizationFactory(name="LEAP Innovations"),
        title="Senior Director of Learning Insights and Research",
    )
    element = ElementFactory(code="LF.1")
    published = StudyFactory(title="A published study of equity")
    draft = StudyFactory(title="A draft nobody may see yet", status=ReviewStatus.DRAFT)
    question = FindingFactory(
        session=session,
        kind="open_question",
        audience="researchers",
        text="Do these practices help to close the opportunity gap?",
        quote="Moreover, do these practices help to close the opportunity gap?",
        attribution="Jilliam Joe, LEAP Innovations",
    )
    question.elements.add(element)
    question.studies.add(published, draft)

    page = html(anonymous.get(session.get_absolute_url()))
    assert '<span class="badge">Keynote</span>' in page and "Hard conversations" in page
    assert "Jilliam Joe</a>, Senior Director of Learning Insights and Research" in page
    assert "LEAP Innovations</a>" in page
    assert '<a href="https://example.org/video" rel="noopener">Video</a>' in page
    assert "Open question" in page and "for researchers" in page
    assert "“Moreover, do these practices help to close the opportunity gap?”" in page
    assert "— Jilliam Joe, LEAP Innovations" in page
    assert f'href="{element.get_absolute_url()}"' in page
    assert published.get_absolute_url() in page
    assert "A draft nobody may see yet" not in page


def test_the_session_page_has_a_query_budget(
    anonymous, client, organiser, convening, django_assert_max_num_queries
):
    busy_convening(convening, sessions=3, presenters=10, findings=30)
    session = convening.sessions.get(order=2)
    with django_assert_max_num_queries(7):
        page = html(anonymous.get(session.get_absolute_url()))
    assert page.count('class="finding"') == 30
    assert 'rel="prev"' in page and 'rel="next"' in page
    client.force_login(organiser)
    with django_assert_max_num_queries(10):  # + the login session, the user and their roles
        assert html(client.get(session.get_absolute_url())).count("Edit this finding") == 30


def test_a_session_is_found_only_under_its_own_convening(anonymous, convening):
    session = SessionFactory(convening=convening)
    other = ConveningFactory()
    assert anonymous.get(f"/convenings/{other.slug}/sessions/{session.pk}/").status_code == 404
    assert anonymous.get("/convenings/no-such-convening/").status_code == 404


def test_a_person_page_lists_their_sessions_across_convenings_with_the_organization_then(
    anonymous, django_assert_max_num_queries
):
    person = PersonFactory(name="Beth Holland", slug="beth-holland")
    early = SessionFactory(
        convening=ConveningFactory(title="First convening", date=datetime.date(2018, 1, 1)),
        title="Early talk",
    )
    late = SessionFactory(
        convening=ConveningFactory(title="Second convening", date=datetime.date(2021, 1, 1)),
        title="Later talk",
    )
    PresenterFactory(session=early, person=person, organization=OrganizationFactory(name="Old Org"))
    PresenterFactory(session=late, person=person, organization=OrganizationFactory(name="New Org"))
    for _ in range(20):
        PresenterFactory(person=person)
    with django_assert_max_num_queries(2):
        page = html(anonymous.get(person.get_absolute_url()))
    assert page.index("Later talk") < page.index("Early talk")
    assert "Old Org" in page and "New Org" in page


def test_an_organization_page_lists_its_peoples_sessions(anonymous, django_assert_max_num_queries):
    organization = OrganizationFactory(name="KnowledgeWorks", slug="knowledgeworks")
    for name in ("Eric Toshalis", "Rebecca E. Wolfe", "Kate Westrich"):
        PresenterFactory(person=PersonFactory(name=name), organization=organization)
    for _ in range(20):
        PresenterFactory(organization=organization)
    with django_assert_max_num_queries(2):
        page = html(anonymous.get(organization.get_absolute_url()))
    assert "Eric Toshalis" in page and "Kate Westrich" in page


def report_findings(source="RAND Informing Progress (Pane et al., 2017)"):
    made = []
    for audience, texts in (
        ("funders", ["Direct funding to technology developers."]),
        ("policymakers", ["Incorporate flexibility into policies.", "Revise grading policies."]),
        ("implementers", ["Provide teachers with time to collaborate."]),
    ):
        for text in texts:
            made.append(
                FindingFactory(
                    session=None,
                    convening=None,
                    source=source,
                    kind="recommendation",
                    audience=audience,
                    text=text,
                    order=len(made) + 1,
                )
            )
    made.append(
        FindingFactory(
            session=None,
            convening=None,
            source=source,
            kind="finding",
            text="Students gained about 3 percentile points in mathematics.",
            order=len(made) + 1,
        )
    )
    return made


def test_report_recommendations_are_grouped_by_audience(anonymous):
    report_findings()
    FindingFactory(kind="recommendation", text="A convening recommendation")
    page = html(
        anonymous.get(reverse("convenings:findings"), {"source": "RAND", "kind": "recommendation"})
    )
    assert "A convening recommendation" not in page and "3 percentile points" not in page
    assert page.index("For policymakers") < page.index("Incorporate flexibility")
    assert page.index("Revise grading") < page.index("For district and school implementers")
    assert page.index("For district and school implementers") < page.index("For funders")
    assert "4 findings." in page


def test_the_findings_page_has_a_query_budget(anonymous, convening, django_assert_max_num_queries):
    busy_convening(convening, sessions=5, findings=10)
    report_findings()
    with django_assert_max_num_queries(5):
        page = html(anonymous.get(reverse("convenings:findings")))
    assert page.count('class="finding"') == 55


def test_organiser_controls_are_shown_to_organisers_only(anonymous, client, organiser, convening):
    session = agenda(convening)[0]
    public = html(anonymous.get(convening.get_absolute_url()))
    assert "Add a session" not in public and "Move down" not in public
    assert "Add a finding" not in html(anonymous.get(session.get_absolute_url()))
    client.force_login(organiser)
    page = html(client.get(convening.get_absolute_url()))
    assert "Add a session" in page and "Move down" in page
    assert "Add a finding" in html(client.get(session.get_absolute_url()))

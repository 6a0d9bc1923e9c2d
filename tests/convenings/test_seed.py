"""The seed content: the National Research Convening complete, the keynote's questions, the
closing session, and the reports' recommendations by audience. Each test loads the real seed."""

import json
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from convenings import selectors, services
from convenings.models import Convening, Finding, Organization, Person, Presenter, Session
from frameworks.models import Element

pytestmark = pytest.mark.django_db

NAMED_PRESENTERS = [
    ("Susan Patrick", "President/CEO", "Aurora Institute"),
    ("Stewart Hudson", "Executive Director", "Leon Lowenstein Foundation"),
    ("Jilliam Joe", "Senior Director of Learning Insights and Research", "LEAP Innovations"),
    ("Robert Balfanz", "Research Professor", "Johns Hopkins University School of Education"),
    ("Eva Dundas", "Chief Learning Officer", "Branching Minds"),
    ("Amalia Lopez", "Director of Special Projects", "Lindsay Unified School District"),
    ("Kate Westrich", "Vice President, Marketing and Communications", "KnowledgeWorks"),
]


def test_the_national_research_convening_has_every_session_and_presenter(seeded):
    convening = Convening.objects.get()
    assert convening.slug == "national-research-convening"
    assert convening.host == "Aurora Institute"
    assert convening.sponsor == "Leon Lowenstein Foundation"
    assert (convening.researchers_count, convening.others_count) == (60, 40)
    assert Session.objects.count() == 11 and Presenter.objects.count() == 27
    sessions = list(convening.sessions.order_by("order"))
    assert [s.order for s in sessions] == list(range(1, 12))
    assert [s.kind for s in sessions] == (
        ["opening", "keynote"] + ["research"] * 6 + ["communications"] * 2 + ["closing"]
    )
    assert sessions[1].title == "How Will Your Research Narrate Our History?"
    assert sessions[-1].title == "Closing Session" and "chat box" in sessions[-1].summary
    for name, title, organization in NAMED_PRESENTERS:
        assert Presenter.objects.filter(
            person__name=name, title=title, organization__name=organization
        ).exists(), name
    # People and organizations are shared, never duplicated.
    assert Person.objects.count() == 27
    assert Organization.objects.count() == 18
    assert Presenter.objects.filter(organization__name="KnowledgeWorks").count() == 3


def test_the_keynote_leaves_its_questions_open_and_links_equity_to_lf1(seeded):
    keynote = Session.objects.get(kind="keynote")
    questions = keynote.findings.filter(kind="open_question")
    assert questions.count() == 2
    assert all(q.attribution == "Jilliam Joe, LEAP Innovations" for q in questions)
    lf1 = Element.objects.current().get(code="LF.1")
    linked = list(selectors.open_questions_for_element(lf1))
    assert any("equitable and inclusive" in q.text for q in linked)
    assert all(q.kind == "open_question" for q in linked)


def test_the_rand_recommendations_are_grouped_by_audience(seeded, anonymous):
    rand = Finding.objects.filter(source__startswith="RAND", kind="recommendation")
    assert Counter(rand.values_list("audience", flat=True)) == {
        "policymakers": 6,
        "implementers": 5,
        "funders": 2,
    }
    page = anonymous.get("/convenings/findings/", {"source": "RAND", "kind": "recommendation"})
    html = page.content.decode()
    assert "13 findings." in html
    assert html.index("For policymakers") < html.index("For district and school implementers")
    assert html.index("For district and school implementers") < html.index("For funders")


def test_the_seeded_pages_stay_within_their_budgets(
    seeded, anonymous, django_assert_max_num_queries
):
    convening = Convening.objects.get()
    with django_assert_max_num_queries(4):
        page = anonymous.get(convening.get_absolute_url()).content.decode()
    assert "Susan Patrick" in page and "Closing Session" in page
    keynote = Session.objects.select_related("convening").get(kind="keynote")
    with django_assert_max_num_queries(7):
        page = anonymous.get(keynote.get_absolute_url()).content.decode()
    assert "Jilliam Joe" in page and "/elements/LF.1/" in page


def test_loading_the_seed_again_changes_nothing_and_keeps_an_organisers_agenda(seeded):
    keynote = Session.objects.get(kind="keynote")
    services.session_move(session=keynote, direction="down")
    out = StringIO()
    call_command("load_seed_data", "--json", stdout=out)
    assert json.loads(out.getvalue())["changed"] == 0
    assert Session.objects.count() == 11 and Presenter.objects.count() == 27
    assert Person.objects.count() == 27
    keynote.refresh_from_db()
    assert keynote.order == 3
    assert [p.person.name for p in keynote.presenters.all()] == ["Jilliam Joe"]
    assert keynote.findings.count() == 3

"""A convening organiser records a finding in the browser and educators see it on the element page."""

import pytest

from convenings.models import Session
from studies import roles
from tests.factories import UserFactory

from .conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser


def test_an_organiser_adds_a_finding_that_appears_on_the_linked_element_page(page, seeded_live):
    UserFactory(username="olga", roles=[roles.CONVENING_ORGANISER])
    session = Session.objects.filter(kind="research").select_related("convening").first()

    page.goto(seeded_live + "/accounts/login/")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(seeded_live + "/")

    page.goto(
        f"{seeded_live}/convenings/{session.convening.slug}/sessions/{session.pk}/findings/new/"
    )
    assert not axe_violations(page)
    page.get_by_label("What was said").fill(
        "Self-assessment rubrics need validation with younger students."
    )
    page.get_by_label("LL.3", exact=False).check()
    page.get_by_role("button", name="Save", exact=False).first.click()
    page.wait_for_load_state()
    screenshot(page, "organiser-finding")

    page.goto(seeded_live + "/elements/LL.3/")
    assert page.get_by_text(
        "Self-assessment rubrics need validation with younger students."
    ).is_visible()

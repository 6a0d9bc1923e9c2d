"""The Content-Security-Policy breaks nothing: pages, htmx updates, the API docs and the admin
run in Chromium without a single CSP violation."""

import pytest

from studies import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


def test_no_page_violates_the_content_security_policy(page, seeded_live):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    for path in ("/", "/components/LL/", "/studies/", "/gaps/", "/convenings/", "/search/?q=x"):
        page.goto(seeded_live + path)
        page.wait_for_load_state("networkidle")

    # htmx replaces the element page's study list in place.
    page.goto(seeded_live + "/elements/LL.3/")
    page.select_option("#id_design", "qed")
    page.wait_for_url("**design=qed**")

    # Swagger UI starts from its own script file and renders the operations.
    page.goto(seeded_live + "/api/docs/")
    page.wait_for_selector(".opblock", timeout=20_000)

    UserFactory(username="rita", roles=[roles.RESEARCHER], is_staff=True, is_superuser=True)
    page.goto(seeded_live + "/accounts/login/")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(seeded_live + "/")
    for path in ("/workspace/", "/workspace/studies/new/", "/workspace/import/", "/admin/"):
        page.goto(seeded_live + path)
        page.wait_for_load_state("networkidle")
    assert not violations

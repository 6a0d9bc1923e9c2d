"""A researcher enters a study in the browser, a curator publishes it, educators see it.

The whole workspace flow in Chromium: the study form (a DOI typed as a URL, normalised as you
type), the effect-size calculator (g updates live as the numbers are typed), tagging from the
framework tree, submitting, the curator's queue and publishing, and the public element page.
axe-core checks every workspace page on the way.
"""

import re
import time

import pytest
from playwright.sync_api import expect

from evidence.models import EvidenceSummary
from studies import roles
from studies.models import Study
from tests.factories import UserFactory

from .conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser

TITLE = "Self-assessment rubrics and sixth-grade persuasive writing: a classroom trial"
PASSWORD = "correct horse battery staple"


def sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/accounts/login/?next=/workspace/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/workspace/")


def accessible(page) -> None:
    violations = axe_violations(page)
    assert not violations, f"{page.url}: {violations}"


def test_a_study_entered_by_a_researcher_is_published_by_a_curator_and_seen_by_educators(
    page, seeded_live, celery_worker_on_redis
):
    UserFactory(username="rosa", roles=[roles.RESEARCHER])
    UserFactory(username="carl", roles=[roles.CURATOR])

    # The researcher enters the study; the DOI is typed as a URL and normalised at once.
    sign_in(page, seeded_live, "rosa")
    accessible(page)
    page.goto(seeded_live + "/workspace/studies/new/")
    accessible(page)
    page.fill("#id_title", TITLE)
    page.fill("#id_authors", "Andrade, H.\nDu, Y.")
    page.fill("#id_year", "2010")
    page.fill("#id_venue", "Assessment in Education")
    page.fill("#id_doi", "https://doi.org/10.1080/ABC.4242")
    expect(page.locator("#doi-check")).to_contain_text("10.1080/abc.4242")
    page.select_option("#id_design", "rct")
    page.fill("#id_sample_size", "420")
    page.select_option("#id_sample_unit", "students")
    page.fill("#id_n_sites", "3")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/workspace/studies/\d+/$"))
    study = Study.objects.get(title=TITLE)
    assert study.doi == "10.1080/abc.4242" and study.authors == ["Andrade, H.", "Du, Y."]
    accessible(page)
    screenshot(page, "researcher-study")

    # An effect through the calculator: g appears and changes as the numbers are typed.
    page.get_by_role("link", name="Add an effect (calculator)").click()
    accessible(page)
    page.check("input[name=input_kind][value=means]")
    page.wait_for_selector("#id_mean_t")
    result = page.locator("#calculator-result")
    for field, value in [("mean_t", "52"), ("sd_t", "10"), ("n_t", "210"), ("mean_c", "48")]:
        page.fill(f"#id_{field}", value)
    page.fill("#id_sd_c", "10")
    page.fill("#id_n_c", "210")
    expect(result).to_contain_text("g = 0.399")
    expect(result).to_contain_text("means_sd_hedges_exact_j")
    page.fill("#id_mean_t", "54")  # the result follows the typing, no save needed
    expect(result).to_contain_text("g = 0.599")
    page.select_option("#id_outcome_domain", "literacy")
    page.fill("#id_measure", "Writing rubric score")
    accessible(page)
    screenshot(page, "researcher-calculator")
    page.get_by_role("button", name="Save the effect").click()
    page.wait_for_url(re.compile(rf"/workspace/studies/{study.pk}/$"))
    assert study.effects.get().g == pytest.approx(0.599, abs=0.001)

    # A second effect, reported as a t statistic.
    page.get_by_role("link", name="Add an effect (calculator)").click()
    page.check("input[name=input_kind][value=t]")
    page.wait_for_selector("#id_t")
    page.fill("#id_t", "2.5")
    page.fill("#id_n_t", "210")
    page.fill("#id_n_c", "210")
    expect(page.locator("#calculator-result")).to_contain_text("g = 0.24")
    page.select_option("#id_outcome_domain", "mathematics")
    page.fill("#id_measure", "State mathematics test")
    page.get_by_role("button", name="Save the effect").click()
    page.wait_for_url(re.compile(rf"/workspace/studies/{study.pk}/$"))
    assert study.effects.count() == 2

    # Tagged to LL.3 from the searchable framework tree.
    page.get_by_role("link", name="Tag to framework elements").click()
    accessible(page)
    page.fill("#tree-q", "LL.3")
    page.keyboard.press("Enter")
    page.get_by_label("LL.3", exact=False).first.check()
    page.get_by_role("button", name="Add the chosen tags").click()
    page.wait_for_url(re.compile(rf"/workspace/studies/{study.pk}/$"))
    assert list(study.tags.values_list("element__code", flat=True)) == ["LL.3"]

    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Study submitted for review.")).to_be_visible()
    accessible(page)

    # The curator publishes it from the review queue.
    sign_in(page, seeded_live, "carl")
    accessible(page)
    page.goto(seeded_live + "/workspace/review/")
    accessible(page)
    page.get_by_role("link", name=TITLE[:40], exact=False).first.click()
    page.wait_for_url(re.compile(rf"/workspace/review/{study.pk}/$"))
    accessible(page)
    screenshot(page, "curator-review")
    before = EvidenceSummary.objects.get(
        element__code="LL.3", outcome_domain="", population=None
    ).k_studies
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(r"/workspace/review/$"))
    assert Study.objects.get(pk=study.pk).status == "published"

    # The real Celery worker on Redis recomputes LL.3 with the new study in it.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        summary = EvidenceSummary.objects.get(
            element__code="LL.3", outcome_domain="", population=None
        )
        if summary.k_studies == before + 1:
            break
        time.sleep(0.2)
    assert summary.k_studies == before + 1
    assert {row["study_id"] for row in summary.forest} >= {study.pk}

    # Educators see it on the element page, no account needed.
    page.context.clear_cookies()
    page.goto(seeded_live + "/elements/LL.3/")
    expect(page.locator("#element-studies")).to_contain_text(TITLE[:40])
    expect(page.locator("figure.forest")).to_contain_text("Andrade & Du (2010)")

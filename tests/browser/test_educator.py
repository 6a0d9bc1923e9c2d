"""An educator browses the evidence with a real browser: pages, filters, search, keyboard, axe."""

import pytest

from .conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser


def test_an_educator_browses_from_the_framework_to_a_study(page, seeded_live):
    page.goto(seeded_live + "/")
    assert not axe_violations(page)
    screenshot(page, "home")
    page.get_by_role("link", name="Learner Led").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Learner Led"
    assert not axe_violations(page)
    page.get_by_role("link", name="LL.3", exact=False).first.click()
    assert "How strong is the evidence?" in page.content()
    assert not axe_violations(page)
    screenshot(page, "element")
    page.locator("#element-studies a").first.click()
    assert page.get_by_text("Cite this study").is_visible()
    assert not axe_violations(page)
    screenshot(page, "study")


def test_the_element_filters_update_in_place_and_the_url_can_be_shared(page, seeded_live):
    page.goto(seeded_live + "/elements/LL.3/")
    before = page.locator("#element-studies li").count()
    page.select_option("#id_design", "qed")
    page.wait_for_url("**design=qed**")
    page.wait_for_function(
        f"document.querySelectorAll('#element-studies li').length < {max(before, 1)}"
    )
    shared = page.url
    page.goto(shared)
    assert page.locator("#id_design option[selected]").first.get_attribute("value") == "qed"


def test_the_filters_work_with_the_keyboard_alone(page, seeded_live):
    page.goto(seeded_live + "/elements/LL.3/")
    page.locator("#id_grade_band").focus()
    for _ in range(6):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent || document.activeElement.id")
        if focused.strip() == "Apply":
            break
    assert focused.strip() == "Apply"
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator("#element-studies").is_visible()


def test_search_finds_studies_and_is_accessible(page, seeded_live):
    page.goto(seeded_live + "/search/")
    page.get_by_label("Search studies").fill("motivation")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=motivation**")
    assert "Studies (" in page.content()
    assert not axe_violations(page)
    screenshot(page, "search")


def test_the_about_page_and_convenings_are_accessible(page, seeded_live):
    for path in ["/about/ratings/", "/convenings/", "/studies/"]:
        page.goto(seeded_live + path)
        assert not axe_violations(page), path

"""A funder reads the gap report with a real browser: columns, filters, a cell's studies, the CSV,
accessibility, and the map printed on one landscape page."""

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from .conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser

# A PDF page object (not the /Pages tree) and its size in points.
PDF_PAGE = re.compile(rb"/Type\s*/Page\b")
PDF_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]")


def test_a_funder_switches_columns_filters_and_opens_a_cells_studies(page, seeded_live):
    page.goto(seeded_live + "/gaps/")
    assert page.get_by_role("heading", name="Gap map: elements by outcome domain").is_visible()
    assert not axe_violations(page)

    page.get_by_label("Columns", exact=True).select_option("grade_band")
    page.get_by_label("Component", exact=True).select_option("LC")
    page.get_by_role("button", name="Update the report").click()
    page.wait_for_url("**dimension=grade_band**")
    assert "component=LC" in page.url
    assert page.get_by_role("heading", name="Gap map: elements by grade band").is_visible()
    summary = page.locator(".gap-summary li").first.inner_text()
    assert re.match(r"This report covers 5 elements and \d+ published stud", summary), summary
    rows = page.locator("table.gap-map tbody tr:not(.component-row)")
    assert rows.count() == 5  # LC.1-LC.5 only
    assert page.locator("table.gap-map td.gap-cell.gap").first.is_visible()  # a visible gap
    assert not axe_violations(page)
    screenshot(page, "gaps-grade-band")

    cell = page.locator("td.gap-cell:not([data-column='all']):has(a)").first
    element, column = cell.get_attribute("data-element"), cell.get_attribute("data-column")
    n_studies = int(cell.get_attribute("data-studies"))
    assert cell.inner_text().strip().startswith(str(n_studies))
    cell.locator("a").click()
    page.wait_for_url("**/studies/?**")
    assert urlsplit(page.url).path == "/studies/"
    query = dict(parse_qsl(urlsplit(page.url).query))
    assert query["element"] == element and query["grade_band"] == column
    listed = "study" if n_studies == 1 else "studies"
    assert page.get_by_text(f"{n_studies} published {listed}.").is_visible()
    assert page.locator("ul.studies li a").count() == n_studies
    assert not axe_violations(page)


def test_a_funder_downloads_the_map_as_csv(page, seeded_live):
    page.goto(seeded_live + "/gaps/?dimension=grade_band")
    with page.expect_download() as download:
        page.get_by_role("link", name="the map as CSV").click()
    assert download.value.suggested_filename == "evidence-gaps-matrix.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    on_page = page.locator("td.gap-cell")
    assert len(rows) == on_page.count() == 18 * 7  # 18 elements × (all + 6 grade bands)
    assert {r["dimension"] for r in rows} == {"grade_band"}
    first = on_page.first
    row = next(r for r in rows if r["element"] == first.get_attribute("data-element"))
    assert row["column"] == "all" and row["n_studies"] == first.get_attribute("data-studies")


def test_the_map_prints_on_one_landscape_page(page, seeded_live):
    page.goto(seeded_live + "/gaps/")
    # Print the map section alone (the print stylesheet gives it a page of its own; the site
    # header and the rest of the report flow onto the pages around it).
    # (Through the CSSOM: the Content-Security-Policy refuses an injected <style>.)
    page.evaluate(
        "document.querySelectorAll('.site-header, .gaps-page > :not(.gap-map-section)')"
        ".forEach(e => { e.style.display = 'none'; })"
    )
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(PDF_PAGE.findall(pdf)) == 1
    width, height = map(float, PDF_MEDIA_BOX.search(pdf).groups())
    assert width > height

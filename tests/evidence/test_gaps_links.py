"""Where a gap cell's studies are listed: the study list page, or the API's for studies under review."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from studies.constants import ReviewStatus

from .test_gaps import framework, recompute, report, row, study  # noqa: F401 (framework: a fixture)

pytestmark = pytest.mark.django_db


def test_cells_link_to_the_study_list_page_and_under_review_to_the_api_list(framework):  # noqa: F811
    recompute(
        study(framework["LL.3"], level=3, grade_bands=["6-8"]),
        study(framework["LL.3"], level=1, status=ReviewStatus.SUBMITTED),
    )
    published = row(report(dimension="grade_band", year_min="2000"), "LL.3")
    url = urlsplit(published.cells[[c.column for c in published.cells].index("6-8")].studies_url)
    assert url.path == "/studies/"
    assert parse_qsl(url.query) == [
        ("element", "LL.3"),
        ("grade_band", "6-8"),
        ("year_min", "2000"),
    ]
    with_review = row(report(_curator=True, include_under_review="1"), "LL.3").total
    assert with_review.n_studies == 2
    assert urlsplit(with_review.studies_url).path == "/api/v1/studies/"

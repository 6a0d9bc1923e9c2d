import pytest
from django.db import IntegrityError, transaction

from studies.identifiers import InvalidDOI, normalize_doi
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "spelling",
    [
        "https://doi.org/10.3102/0002831214541669",
        "http://dx.doi.org/10.3102/0002831214541669",
        "doi:10.3102/0002831214541669",
        "10.3102/0002831214541669",
        "DOI: 10.3102/0002831214541669",
    ],
)
def test_every_doi_spelling_normalises_to_one(spelling):
    assert (
        normalize_doi(spelling.upper() if "doi:" in spelling else spelling)
        == "10.3102/0002831214541669"
    )


def test_a_duplicate_doi_in_another_spelling_is_refused():
    StudyFactory(doi="10.3102/0002831214541669")
    with pytest.raises(IntegrityError), transaction.atomic():
        StudyFactory(
            doi="https://doi.org/10.3102/0002831214541669".upper().replace(
                "HTTPS://DOI.ORG/", "https://doi.org/"
            )
        )


def test_text_that_is_not_a_doi_is_rejected():
    with pytest.raises(InvalidDOI):
        normalize_doi("not a doi")


def test_the_database_refuses_a_year_out_of_range():
    with pytest.raises(IntegrityError), transaction.atomic():
        StudyFactory(year=1800)


def test_the_database_refuses_a_non_positive_variance():
    from tests.factories import EffectSizeFactory

    with pytest.raises(IntegrityError), transaction.atomic():
        EffectSizeFactory(variance=0)

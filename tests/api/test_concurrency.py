"""Two curators act on the same study at the same moment: one publishes, one edits from the version
they loaded. Whatever the interleaving, the publication stands and the edit is either applied on
top of it or refused with 409 and the current version, never silently lost or overwriting."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from studies import roles
from studies.constants import ReviewStatus
from studies.models import Study
from tests.factories import StudyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _at_once(*requests) -> list:
    """Run the requests in threads released together; each thread uses its own connection."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(i, request):
        try:
            barrier.wait()
            results[i] = request()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.parametrize("round_", range(8))
def test_a_publish_and_an_edit_at_the_same_moment_lose_nothing(round_):
    first = UserFactory(username=f"carl-{round_}", roles=[roles.CURATOR])
    second = UserFactory(username=f"cora-{round_}", roles=[roles.CURATOR])
    study = StudyFactory(status=ReviewStatus.SUBMITTED, title="As submitted")
    loaded = Study.objects.get(pk=study.pk).version

    published, edited = _at_once(
        lambda: _client(first).post(f"/api/v1/studies/{study.pk}/publish/", {}, format="json"),
        lambda: _client(second).patch(
            f"/api/v1/studies/{study.pk}/",
            {"title": "Edited by the second curator", "version": loaded},
            format="json",
        ),
    )

    study.refresh_from_db()
    assert published.status_code == 200 and study.status == ReviewStatus.PUBLISHED
    if edited.status_code == 200:  # the edit went first, or after the publish had not begun
        assert study.title == "Edited by the second curator"
        assert study.version == loaded + 2
    else:  # the publish committed first: the stale edit is refused, and says so
        assert edited.status_code == 409
        assert edited.json()["current_version"] == loaded + 1
        assert study.title == "As submitted" and study.version == loaded + 1

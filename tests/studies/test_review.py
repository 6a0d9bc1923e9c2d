"""Curator review in the workspace: the queue, the diff since publication, publish / return /
retract, and merging duplicates (the study_merge service and its page)."""

import pytest
from django.urls import reverse

from evidence.models import DirtyElement
from studies import services
from studies.constants import ReviewStatus
from studies.models import EffectSize, Study, StudyTag
from tests.factories import (
    EffectSizeFactory,
    ElementFactory,
    FindingFactory,
    StudyFactory,
    StudyTagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def submitted(researcher):
    return StudyFactory(status=ReviewStatus.SUBMITTED, created_by=researcher)


# --- The queue ---------------------------------------------------------------------------------


def test_the_review_queue_lists_submitted_studies_oldest_first(client, curator):
    older = StudyFactory(status=ReviewStatus.SUBMITTED, title="Submitted first")
    StudyFactory(status=ReviewStatus.SUBMITTED, title="Submitted second")
    StudyFactory(status=ReviewStatus.DRAFT, title="Still a draft")
    Study.objects.filter(pk=older.pk).update(updated_at="2020-01-01T00:00Z")
    page = html(login(client, curator).get(reverse("workspace:review-queue")))
    assert page.index("Submitted first") < page.index("Submitted second")
    assert "Still a draft" not in page


@pytest.mark.parametrize(
    "url", ["workspace:review-queue", "workspace:merge", "workspace:review"], ids=str
)
def test_review_pages_are_for_curators_only(client, anonymous, researcher, curator, submitted, url):
    path = reverse(url, args=[submitted.pk]) if url == "workspace:review" else reverse(url)
    assert anonymous.get(path).status_code == 302
    assert login(client, researcher).get(path).status_code == 403
    assert login(client, curator).get(path).status_code == 200


def test_the_review_queue_has_a_query_budget(client, curator, django_assert_max_num_queries):
    for study in StudyFactory.create_batch(60, status=ReviewStatus.SUBMITTED, created_by=curator):
        EffectSizeFactory.create_batch(2, study=study)
        StudyTagFactory(study=study)
    login(client, curator)
    with django_assert_max_num_queries(5):
        assert client.get(reverse("workspace:review-queue")).status_code == 200


def test_the_review_page_has_a_query_budget(
    client, curator, submitted, django_assert_max_num_queries
):
    EffectSizeFactory.create_batch(10, study=submitted)
    StudyTagFactory.create_batch(5, study=submitted)
    login(client, curator)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("workspace:review", args=[submitted.pk])).status_code == 200


# --- What changed since publication -------------------------------------------------------------


def test_a_never_published_study_says_so(client, curator, submitted):
    page = html(login(client, curator).get(reverse("workspace:review", args=[submitted.pk])))
    assert "Never published" in page


def test_the_review_shows_what_changed_since_the_published_version(client, curator, submitted):
    kept = EffectSizeFactory(study=submitted, g=0.3)
    dropped = EffectSizeFactory(study=submitted, outcome_domain="attendance")
    old_tag = StudyTagFactory(study=submitted, element=ElementFactory(code="LL.1"))
    services.study_transition(study=submitted, action="publish", user=curator)
    # A curator's edits to the published study, after publication:
    study = Study.objects.get(pk=submitted.pk)
    services.study_update(
        study=study, data={"title": "A corrected title", "sample_size": 999}, user=curator
    )
    EffectSizeFactory(study=study, outcome_domain="engagement")
    services.effect_delete(effect=dropped)
    kept.reported = {"value": 0.5, "variance": 0.01}
    services.effect_save(effect=kept)
    services.tag_remove(tag=old_tag)
    services.tag_add(study=study, element=ElementFactory(code="LC.2"))

    changes = (
        login(client, curator).get(reverse("workspace:review", args=[study.pk])).context["changes"]
    )
    fields = {row["label"]: (row["old"], row["new"]) for row in changes["fields"]}
    assert fields == {
        "title": (submitted.title, "A corrected title"),
        "sample size": ("400", "999"),
    }
    assert [e.outcome_domain for e in changes["effects_added"]] == ["engagement"]
    assert [e.outcome_domain for e in changes["effects_removed"]] == ["attendance"]
    assert [(a.g, b.g) for a, b in changes["effects_changed"]] == [(0.3, pytest.approx(0.5))]
    assert [t.element.code for t in changes["tags_added"]] == ["LC.2"]
    assert [t.element.code for t in changes["tags_removed"]] == ["LL.1"]


# --- Publish, return, retract -----------------------------------------------------------------


def test_a_curator_publishes_and_the_audit_trail_names_them(client, curator, submitted):
    response = login(client, curator).post(
        reverse("workspace:transition", args=[submitted.pk, "publish"])
    )
    assert response.status_code == 302 and response.url == reverse("workspace:review-queue")
    submitted.refresh_from_db()
    assert submitted.status == ReviewStatus.PUBLISHED and submitted.published_at
    assert submitted.history.first().history_user == curator


@pytest.mark.parametrize("action", ["publish", "return", "retract"])
def test_researchers_cannot_take_curator_actions(client, researcher, submitted, action):
    url = reverse("workspace:transition", args=[submitted.pk, action])
    response = login(client, researcher).post(url, {"comment": "Looks fine to me"})
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == ReviewStatus.SUBMITTED


def test_returning_needs_a_comment_and_the_researcher_sees_it(
    client, curator, researcher, submitted
):
    url = reverse("workspace:transition", args=[submitted.pk, "return"])
    response = login(client, curator).post(url, {"comment": "  ", "back": "review"}, follow=True)
    assert "Say why" in html(response)
    submitted.refresh_from_db()
    assert submitted.status == ReviewStatus.SUBMITTED

    client.post(url, {"comment": "Report the attrition per group."})
    submitted.refresh_from_db()
    assert submitted.status == ReviewStatus.RETURNED
    dashboard = html(login(client, researcher).get(reverse("workspace:dashboard")))
    assert "Report the attrition per group." in dashboard


def test_retracting_needs_a_reason(client, curator):
    study = StudyFactory(status=ReviewStatus.PUBLISHED)
    url = reverse("workspace:transition", args=[study.pk, "retract"])
    response = login(client, curator).post(url, {"comment": ""}, follow=True)
    assert "Give the reason" in html(response)
    client.post(url, {"comment": "Data fabricated, journal retraction 2021."})
    study.refresh_from_db()
    assert study.status == ReviewStatus.RETRACTED
    assert study.review_comment == "Data fabricated, journal retraction 2021."


def test_an_action_the_status_does_not_allow_is_explained(client, curator, researcher):
    draft = StudyFactory(status=ReviewStatus.DRAFT, created_by=researcher)
    url = reverse("workspace:transition", args=[draft.pk, "publish"])
    response = login(client, curator).post(url, follow=True)
    assert "Cannot publish a study that is draft." in html(response)
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.DRAFT


# --- Merging duplicates ------------------------------------------------------------------------


@pytest.fixture
def duplicates(researcher):
    shared, only_removed = ElementFactory(code="LL.2"), ElementFactory(code="LL.5")
    keep = StudyFactory(status=ReviewStatus.PUBLISHED, doi="10.1/keep")
    remove = StudyFactory(status=ReviewStatus.PUBLISHED, created_by=researcher)
    EffectSizeFactory(study=keep)
    moved = EffectSizeFactory.create_batch(2, study=remove)
    StudyTagFactory(study=keep, element=shared)
    StudyTagFactory(study=remove, element=shared)
    StudyTagFactory(study=remove, element=only_removed, relevance="secondary")
    return keep, remove, moved, only_removed


def test_a_merge_moves_effects_and_tags_and_deletes_the_duplicate(curator, duplicates):
    keep, remove, moved, only_removed = duplicates
    remove_pk = remove.pk
    result = services.study_merge(keep=keep, remove=remove, user=curator)
    assert result.pk == keep.pk and not Study.objects.filter(pk=remove_pk).exists()
    assert keep.effects.count() == 3
    assert set(
        EffectSize.objects.filter(pk__in=[e.pk for e in moved]).values_list("study", flat=True)
    ) == {keep.pk}
    tags = {(t.element.code, t.relevance) for t in StudyTag.objects.filter(study=keep)}
    assert tags == {("LL.2", "primary"), ("LL.5", "secondary")}  # the shared tag once
    assert StudyTag.objects.count() == 2
    assert Study.objects.get(pk=keep.pk).version == 2


def test_a_merge_keeps_the_history_of_both_studies(curator, duplicates):
    keep, remove, moved, _ = duplicates
    remove_pk = remove.pk
    services.study_merge(keep=keep, remove=remove, user=curator)
    removed_history = Study.history.filter(id=remove_pk).order_by("history_date")
    assert [r.history_type for r in removed_history] == ["+", "-"]
    assert removed_history.last().history_change_reason == f"Merged into study {keep.pk}"
    assert f"Merged study {remove_pk}" in keep.history.first().history_change_reason
    effect_history = EffectSize.history.filter(id=moved[0].pk).order_by("history_date")
    assert [r.study_id for r in effect_history] == [remove_pk, keep.pk]
    assert effect_history.last().history_change_reason == f"Moved from study {remove_pk} by a merge"


def test_a_merge_moves_links_from_findings(curator, duplicates):
    keep, remove, _, _ = duplicates
    finding = FindingFactory(source_study=remove)
    finding.studies.add(remove)
    services.study_merge(keep=keep, remove=remove, user=curator)
    finding.refresh_from_db()
    assert finding.source_study == keep and list(finding.studies.all()) == [keep]


def test_merging_a_published_duplicate_marks_its_elements_for_recompute(curator, duplicates):
    keep, remove, _, only_removed = duplicates
    DirtyElement.objects.all().delete()
    services.study_merge(keep=keep, remove=remove, user=curator)
    assert only_removed.pk in set(DirtyElement.objects.values_list("element_id", flat=True))


def test_a_study_cannot_be_merged_with_itself(curator, duplicates):
    keep = duplicates[0]
    with pytest.raises(services.InvalidMerge):
        services.study_merge(keep=keep, remove=keep, user=curator)


def test_the_merge_page_compares_then_merges_on_confirmation(client, curator, duplicates):
    keep, remove, _, _ = duplicates
    login(client, curator)
    compare = client.get(reverse("workspace:merge"), {"keep": keep.pk, "remove": remove.pk})
    page = html(compare)
    assert f"Merge #{remove.pk} into #{keep.pk}" in page and "10.1/keep" in page
    assert Study.objects.filter(pk=remove.pk).exists()  # looking changes nothing

    response = client.post(reverse("workspace:merge"), {"keep": keep.pk, "remove": remove.pk})
    assert response.status_code == 302 and response.url == reverse(
        "workspace:study", args=[keep.pk]
    )
    assert not Study.objects.filter(pk=remove.pk).exists()


def test_the_merge_page_refuses_the_same_study_twice(client, curator, duplicates):
    keep = duplicates[0]
    response = login(client, curator).post(
        reverse("workspace:merge"), {"keep": keep.pk, "remove": keep.pk}
    )
    assert response.status_code == 200 and "Choose two different studies." in html(response)


def test_researchers_cannot_merge(client, researcher, duplicates):
    keep, remove, _, _ = duplicates
    response = login(client, researcher).post(
        reverse("workspace:merge"), {"keep": keep.pk, "remove": remove.pk}
    )
    assert response.status_code == 403 and Study.objects.filter(pk=remove.pk).exists()


def test_the_review_page_suggests_likely_duplicates(client, curator, submitted):
    twin = StudyFactory(title=f"{submitted.title}: a replication", year=submitted.year)
    StudyFactory(title="Something else entirely", year=submitted.year)
    page = html(login(client, curator).get(reverse("workspace:review", args=[submitted.pk])))
    assert "Possible duplicates" in page and f"#{twin.pk}" in page
    assert "Something else entirely" not in page


def test_people_without_a_role_cannot_review(client, submitted):
    user = UserFactory()
    url = reverse("workspace:transition", args=[submitted.pk, "publish"])
    assert login(client, user).post(url).status_code == 403

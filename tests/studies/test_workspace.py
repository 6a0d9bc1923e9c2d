"""The researcher workspace through HTTP: the whole flow, the study form, the calculator, tagging,
bulk tagging, exports and password reset, with a positive and a negative test per permission."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from evidence.models import EvidenceSummary
from studies.constants import ReviewStatus
from studies.models import EffectSize, Study, StudyTag
from tests.factories import (
    EffectSizeFactory,
    ElementFactory,
    FacetFactory,
    StudyFactory,
    StudyTagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

STUDY = {
    "title": "Self-assessment rubrics and sixth-grade writing",
    "authors": "Andrade, H.\nDu, Y.",
    "year": "2010",
    "publication_type": "journal_article",
    "venue": "Assessment in Education",
    "doi": "https://doi.org/10.1080/ABC.123",
    "design": "rct",
    "sample_size": "420",
    "sample_unit": "students",
    "n_sites": "3",
}
MEANS = {
    "input_kind": "means",
    "outcome_domain": "literacy",
    "measure": "Writing rubric score",
    "higher_is_better": "on",
    "mean_t": "52",
    "sd_t": "10",
    "n_t": "210",
    "mean_c": "48",
    "sd_c": "10",
    "n_c": "210",
}
T_TEST = {
    "input_kind": "t",
    "outcome_domain": "literacy",
    "measure": "State writing test",
    "higher_is_better": "on",
    "t": "2.5",
    "n_t": "200",
    "n_c": "200",
}


def login(client, user):
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def draft(researcher):
    return StudyFactory(status=ReviewStatus.DRAFT, created_by=researcher, doi="10.1234/draft")


# --- The whole flow ----------------------------------------------------------------------------


def test_a_study_goes_from_entry_to_a_changed_element_rating_through_the_workspace(
    client, researcher, curator, django_capture_on_commit_callbacks
):
    element = ElementFactory(code="LL.3")
    login(client, researcher)

    response = client.post(reverse("workspace:study-create"), STUDY)
    study = Study.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "workspace:study", args=[study.pk]
    )
    assert study.doi == "10.1080/abc.123" and study.authors == ["Andrade, H.", "Du, Y."]
    assert study.status == ReviewStatus.DRAFT and study.created_by == researcher

    preview = client.post(reverse("workspace:effect-preview"), MEANS)
    assert "g = 0.399" in html(preview) and "means_sd_hedges_exact_j" in html(preview)
    for data in (MEANS, T_TEST):
        url = (
            f"{reverse('workspace:effect-create', args=[study.pk])}?input_kind={data['input_kind']}"
        )
        assert client.post(url, data).status_code == 302
    assert study.effects.count() == 2
    assert all(effect.g > 0 and effect.significant for effect in study.effects.all())

    response = client.post(
        reverse("workspace:study-tags", args=[study.pk]),
        {"targets": [f"e:{element.pk}"], "relevance": "primary"},
    )
    assert response.status_code == 302 and study.tags.get().element == element
    client.post(reverse("workspace:transition", args=[study.pk, "submit"]))
    assert Study.objects.get().status == ReviewStatus.SUBMITTED
    assert not EvidenceSummary.objects.filter(element=element).exists()

    login(client, curator)
    assert study.title in html(client.get(reverse("workspace:review-queue")))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("workspace:transition", args=[study.pk, "publish"]))
    assert response.status_code == 302
    assert Study.objects.get().status == ReviewStatus.PUBLISHED
    summary = EvidenceSummary.objects.get(element=element, outcome_domain="", population=None)
    assert summary.k_studies == 1 and summary.estimate > 0
    assert summary.rating not in ("", "no_evidence")


# --- Dashboard ---------------------------------------------------------------------------------


def test_the_dashboard_sends_anonymous_visitors_to_sign_in(anonymous):
    response = anonymous.get(reverse("workspace:dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role", [[], ["convening organiser"]])
def test_the_dashboard_refuses_accounts_without_a_research_role(client, role):
    assert (
        login(client, UserFactory(roles=role)).get(reverse("workspace:dashboard")).status_code
        == 403
    )


def test_the_dashboard_groups_a_researchers_studies_by_where_they_stand(client, researcher):
    StudyFactory(status=ReviewStatus.DRAFT, created_by=researcher, title="A draft study")
    StudyFactory(
        status=ReviewStatus.RETURNED,
        created_by=researcher,
        title="A returned study",
        review_comment="Please add the attrition figures.",
    )
    StudyFactory(status=ReviewStatus.SUBMITTED, created_by=researcher, title="A submitted study")
    StudyFactory(status=ReviewStatus.PUBLISHED, created_by=researcher, title="A published study")
    StudyFactory(status=ReviewStatus.DRAFT, title="Somebody else's draft")
    page = html(login(client, researcher).get(reverse("workspace:dashboard")))
    for title in ("A draft study", "A returned study", "A submitted study", "A published study"):
        assert title in page
    assert "Please add the attrition figures." in page
    assert "Somebody else" not in page and "Waiting for your review" not in page


def test_curators_see_the_review_queue_on_their_dashboard(client, curator):
    StudyFactory(status=ReviewStatus.SUBMITTED, title="Waiting to be reviewed")
    page = html(login(client, curator).get(reverse("workspace:dashboard")))
    assert "Waiting for your review" in page and "Waiting to be reviewed" in page


def test_the_dashboard_has_a_query_budget(client, curator, django_assert_max_num_queries):
    for status in [*ReviewStatus.values] * 8:
        study = StudyFactory(status=status, created_by=curator)
        EffectSizeFactory.create_batch(2, study=study)
        StudyTagFactory(study=study)
    StudyFactory.create_batch(25, status=ReviewStatus.SUBMITTED)
    login(client, curator)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("workspace:dashboard")).status_code == 200


# --- Study form --------------------------------------------------------------------------------


def test_the_study_form_is_grouped_and_keeps_quality_for_curators(client, researcher, curator):
    page = html(login(client, researcher).get(reverse("workspace:study-create")))
    for legend in ("Citation", "Design and sample", "Populations and settings"):
        assert f"<legend>{legend}</legend>" in page
    assert "Quality" not in page and 'name="wwc_rating"' not in page
    page = html(login(client, curator).get(reverse("workspace:study-create")))
    assert "Quality (curators)" in page and 'name="wwc_rating"' in page


def test_a_researcher_cannot_set_quality_fields_by_posting_them(client, researcher):
    login(client, researcher).post(
        reverse("workspace:study-create"), {**STUDY, "wwc_rating": "meets_without"}
    )
    assert Study.objects.get().wwc_rating == "not_reviewed"


def test_people_without_a_research_role_cannot_create_studies(client, anonymous):
    assert anonymous.post(reverse("workspace:study-create"), STUDY).status_code == 302
    assert (
        login(client, UserFactory()).post(reverse("workspace:study-create"), STUDY).status_code
        == 403
    )
    assert not Study.objects.exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("year", "1700", "greater than or equal to 1900"),
        ("doi", "not-a-doi", "is not a DOI"),
        ("title", "", "This field is required"),
        ("n_sites", "0", "greater than or equal to 1"),
    ],
)
def test_bad_input_gets_its_message_next_to_its_field(client, researcher, field, value, message):
    response = login(client, researcher).post(
        reverse("workspace:study-create"), {**STUDY, field: value}
    )
    assert response.status_code == 200 and not Study.objects.exists()
    assert message in response.context["form"].errors[field][0]
    # Rendered in the field's own block, right after its input.
    block = re.search(
        rf'<div class="field has-error">.*?name="{field}".*?</div>', html(response), re.S
    )
    assert block and "field-error" in block.group(0)


@pytest.mark.parametrize(
    "spelling", ["10.1080/abc.123", "doi:10.1080/ABC.123", "http://dx.doi.org/10.1080/abc.123"]
)
def test_a_duplicate_doi_in_any_spelling_is_refused_with_a_form_error(client, researcher, spelling):
    existing = StudyFactory(doi="10.1080/abc.123")
    response = login(client, researcher).post(
        reverse("workspace:study-create"), {**STUDY, "doi": spelling, "title": "Another title"}
    )
    assert response.status_code == 200 and Study.objects.count() == 1
    assert f"#{existing.pk}" in response.context["form"].errors["doi"][0]


def test_the_doi_check_normalises_and_warns_about_a_duplicate_at_once(client, researcher):
    existing = StudyFactory(doi="10.1080/abc.123")
    login(client, researcher)
    url = reverse("workspace:doi-check")
    fine = html(client.get(url, {"doi": "https://doi.org/10.5555/NEW.1"}))
    assert "10.5555/new.1" in fine and "Already in the database" not in fine
    duplicate = html(client.get(url, {"doi": "DOI:10.1080/ABC.123"}))
    assert "Already in the database" in duplicate
    assert reverse("workspace:study", args=[existing.pk]) in duplicate  # published: can open
    assert "is not a DOI" in html(client.get(url, {"doi": "nonsense"}))
    # Editing the study itself is not a duplicate of itself.
    assert "Already" not in html(client.get(url, {"doi": "10.1080/abc.123", "study": existing.pk}))


def test_the_doi_check_also_finds_the_same_title_and_year(client, researcher):
    StudyFactory(title="Personalized Learning: A Field Study", year=2018, doi=None)
    response = login(client, researcher).get(
        reverse("workspace:doi-check"),
        {"doi": "", "title": "personalized learning -- a field study", "year": "2018"},
    )
    assert "Already in the database" in html(response)


def test_the_doi_check_does_not_link_a_draft_the_user_cannot_open(client, researcher):
    StudyFactory(status=ReviewStatus.DRAFT, doi="10.1080/abc.123")
    page = html(
        login(client, researcher).get(reverse("workspace:doi-check"), {"doi": "10.1080/abc.123"})
    )
    assert "a draft by another researcher" in page


def test_the_doi_check_is_for_the_workspace_only(client, anonymous):
    url = reverse("workspace:doi-check")
    assert anonymous.get(url, {"doi": "10.1/x"}).status_code == 302
    assert login(client, UserFactory()).get(url, {"doi": "10.1/x"}).status_code == 403


QUALITY = {"wwc_rating": "not_reviewed", "attrition": "unknown", "baseline_equivalence": "unknown"}


def _edit_data(study, **changes):
    """The edit form as posted: the study's values (quality too, for curators) and its version."""
    doi = study.doi or ""
    return {
        **STUDY,
        **QUALITY,
        "title": study.title,
        "doi": doi,
        "version": study.version,
        **changes,
    }


def test_an_edit_saves_and_raises_the_version(client, researcher, draft):
    url = reverse("workspace:study-edit", args=[draft.pk])
    form = login(client, researcher).get(url).context["form"]
    assert form["version"].value() == 1
    response = client.post(url, _edit_data(draft, title="A better title"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "A better title" and draft.version == 2


def test_a_stale_edit_is_refused_and_shows_the_current_values(client, researcher, curator, draft):
    url = reverse("workspace:study-edit", args=[draft.pk])
    stale = _edit_data(draft, title="The researcher's title")
    other = login(Client(), curator)
    assert other.post(url, _edit_data(draft, title="The curator's title")).status_code == 302

    response = login(client, researcher).post(url, stale)
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.title == "The curator's title" and draft.version == 2  # not overwritten
    page = html(response)
    assert "someone else saved this study" in page and "now version 2" in page
    assert response.context["form"]["title"].value() == "The curator's title"
    assert response.context["form"]["version"].value() == 2
    assert "The researcher&#x27;s title" in page  # what they typed, to re-apply


def test_an_edit_without_a_version_is_refused(client, researcher, draft):
    data = _edit_data(draft)
    del data["version"]
    response = login(client, researcher).post(
        reverse("workspace:study-edit", args=[draft.pk]), data
    )
    assert response.status_code == 200 and "version" in response.context["form"].errors


def test_who_may_edit_a_study(client, researcher, curator, draft):
    url = reverse("workspace:study-edit", args=[draft.pk])
    assert login(client, researcher).get(url).status_code == 200
    assert login(client, curator).get(url).status_code == 200
    other = UserFactory(roles=["researcher"])
    assert login(client, other).get(url).status_code == 404  # someone else's draft is invisible
    Study.objects.filter(pk=draft.pk).update(status=ReviewStatus.SUBMITTED)
    assert login(client, researcher).get(url).status_code == 403  # under review: hands off


# --- The study page ----------------------------------------------------------------------------


def test_the_study_page_shows_effects_tags_and_history_to_its_author(client, researcher, draft):
    EffectSizeFactory(study=draft, conversion="reported_smd")
    StudyTagFactory(study=draft, element=ElementFactory(code="LC.2"))
    page = html(login(client, researcher).get(reverse("workspace:study", args=[draft.pk])))
    assert "LC.2" in page and "g = " not in page and "0.30" in page
    assert "the reported g, as is" in page and "Change history" in page
    assert "Submit for review" in page


def test_the_study_page_is_hidden_from_other_researchers_and_the_public(client, anonymous, draft):
    url = reverse("workspace:study", args=[draft.pk])
    assert anonymous.get(url).status_code == 302
    assert login(client, UserFactory(roles=["researcher"])).get(url).status_code == 404


def test_a_researcher_submits_their_draft_but_not_someone_elses(client, researcher, draft):
    other = StudyFactory(status=ReviewStatus.PUBLISHED)
    login(client, researcher)
    assert (
        client.post(reverse("workspace:transition", args=[draft.pk, "submit"])).status_code == 302
    )
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.SUBMITTED
    assert (
        client.post(reverse("workspace:transition", args=[other.pk, "submit"])).status_code == 403
    )


def test_an_unknown_review_action_is_not_found(client, researcher, draft):
    url = reverse("workspace:transition", args=[draft.pk, "approve"])
    assert login(client, researcher).post(url).status_code == 404


# --- Effects and the calculator ---------------------------------------------------------------


def test_adding_an_effect_starts_with_the_kind_then_shows_its_fields(client, researcher, draft):
    url = reverse("workspace:effect-create", args=[draft.pk])
    first = html(login(client, researcher).get(url))
    assert 'name="input_kind"' in first and 'type="radio"' in first and 'name="mean_t"' not in first
    means = html(client.get(url, {"input_kind": "means"}))
    for name in ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c"):
        assert f'name="{name}"' in means
    assert 'name="t"' not in means and 'name="odds_ratio"' not in means
    odds = html(client.get(url, {"input_kind": "odds_ratio"}))
    assert 'name="odds_ratio"' in odds and 'name="method"' in odds and 'name="mean_t"' not in odds


def test_a_reported_d_is_saved_through_its_own_form(client, researcher, draft):
    # An smd has a statistic named "kind" (g or d): the input kind must survive the round trip.
    url = reverse("workspace:effect-create", args=[draft.pk])
    page = html(login(client, researcher).get(url, {"input_kind": "smd"}))
    assert "?input_kind=smd" in page and 'name="input_kind" value="smd"' in page
    data = {"input_kind": "smd", "outcome_domain": "mathematics", "kind": "d", "value": "0.4"}
    response = client.post(f"{url}?input_kind=smd", {**data, "n_t": "50", "n_c": "50"})
    assert response.status_code == 302
    effect = draft.effects.get()
    assert effect.input_kind == "smd" and effect.reported["kind"] == "d"
    assert effect.conversion == "reported_d_hedges_exact_j_ls_variance"


def test_the_kind_step_returns_only_the_form_to_htmx(client, researcher, draft):
    url = reverse("workspace:effect-create", args=[draft.pk])
    response = login(client, researcher).get(url, {"input_kind": "t"}, HTTP_HX_REQUEST="true")
    assert 'name="t"' in html(response) and "<html" not in html(response)


@pytest.mark.parametrize(
    "data, expected",
    [
        (MEANS, "g = 0.399"),
        (T_TEST, "g = 0.250"),
        ({"input_kind": "r", "outcome_domain": "engagement", "r": "0.3", "n": "100"}, "r_to_d"),
        (
            {
                "input_kind": "two_by_two",
                "outcome_domain": "completion",
                "events_t": "40",
                "n_t": "100",
                "events_c": "0",
                "n_c": "100",
            },
            "0.5 added to every cell",
        ),
        (
            {
                "input_kind": "smd",
                "outcome_domain": "mathematics",
                "value": "0.2",
                "ci_low": "0.05",
                "ci_high": "0.35",
            },
            "variance from the 95% CI",
        ),
    ],
)
def test_the_calculator_preview_shows_g_its_ci_and_the_formula(client, researcher, data, expected):
    page = html(login(client, researcher).post(reverse("workspace:effect-preview"), data))
    assert expected in page and "95% CI" in page and "Formula:" in page


def test_the_calculator_waits_for_missing_numbers_and_names_the_bad_one(client, researcher):
    login(client, researcher)
    url = reverse("workspace:effect-preview")
    waiting = html(client.post(url, {**MEANS, "sd_c": ""}))
    assert "Waiting for Comparison SD" in waiting
    bad = html(client.post(url, {**MEANS, "sd_t": "-3"}))
    assert "Treatment SD (sd_t): sd_t must be greater than 0" in bad
    assert "Enter a number" in html(client.post(url, {**MEANS, "n_t": "many"}))


def test_the_calculator_is_for_the_workspace_only(client, anonymous):
    url = reverse("workspace:effect-preview")
    assert anonymous.post(url, MEANS).status_code == 302
    assert login(client, UserFactory()).post(url, MEANS).status_code == 403


def test_a_conversion_error_on_save_is_put_on_its_field(client, researcher, draft):
    url = f"{reverse('workspace:effect-create', args=[draft.pk])}?input_kind=means"
    response = login(client, researcher).post(url, {**MEANS, "n_c": "1"})
    assert response.status_code == 200 and not draft.effects.exists()
    assert "n_c must be at least 2" in response.context["form"].errors["n_c"][0]


def test_an_effect_is_edited_with_its_version_and_a_stale_edit_is_refused(
    client, researcher, draft
):
    effect = EffectSizeFactory(study=draft, input_kind="means", reported={})
    url = reverse("workspace:effect-edit", args=[draft.pk, effect.pk])
    login(client, researcher)
    assert client.post(f"{url}?input_kind=means", {**MEANS, "version": 1}).status_code == 302
    effect.refresh_from_db()
    assert effect.version == 2 and effect.g == pytest.approx(0.399, abs=1e-3)
    assert effect.reported["n_t"] == 210

    response = client.post(f"{url}?input_kind=means", {**MEANS, "mean_t": "60", "version": 1})
    assert response.status_code == 200 and "now version 2" in html(response)
    effect.refresh_from_db()
    assert effect.reported["mean_t"] == 52


def test_changing_an_effects_kind_starts_from_empty_statistics(client, researcher, draft):
    effect = EffectSizeFactory(study=draft, input_kind="smd", reported={"value": 0.3, "se": 0.1})
    url = reverse("workspace:effect-edit", args=[draft.pk, effect.pk])
    login(client, researcher)
    assert 'type="radio"' in html(client.get(url, {"choose": "kind"}))
    form = client.get(url, {"input_kind": "t"}).context["form"]
    assert form["t"].value() is None and "value" not in form.fields
    assert client.post(f"{url}?input_kind=t", {**T_TEST, "version": 1}).status_code == 302
    effect.refresh_from_db()
    assert effect.input_kind == "t" and effect.reported == {"t": 2.5, "n_t": 200, "n_c": 200}


def test_an_effect_is_deleted_by_whoever_may_edit_the_study(client, researcher, draft):
    effect = EffectSizeFactory(study=draft)
    url = reverse("workspace:effect-delete", args=[draft.pk, effect.pk])
    assert login(client, UserFactory(roles=["researcher"])).post(url).status_code == 404
    assert login(client, researcher).post(url).status_code == 302
    assert not EffectSize.objects.exists()


def test_effects_of_a_submitted_study_are_locked_for_its_author(client, researcher, draft):
    effect = EffectSizeFactory(study=draft)
    Study.objects.filter(pk=draft.pk).update(status=ReviewStatus.SUBMITTED)
    login(client, researcher)
    assert client.get(reverse("workspace:effect-create", args=[draft.pk])).status_code == 403
    assert (
        client.get(reverse("workspace:effect-edit", args=[draft.pk, effect.pk])).status_code == 403
    )
    assert (
        client.post(reverse("workspace:effect-delete", args=[draft.pk, effect.pk])).status_code
        == 403
    )


# --- Tagging -----------------------------------------------------------------------------------


def test_the_framework_tree_is_searchable(client, researcher, draft):
    ElementFactory(code="LL.3", title="Learner voice and choice")
    element = ElementFactory(code="LC.4", title="Learning beyond school")
    FacetFactory(element=element, name="Workplace experience")
    url = reverse("workspace:study-tags", args=[draft.pk])
    login(client, researcher)
    everything = html(client.get(url))
    assert "LL.3" in everything and "LC.4" in everything
    found = html(client.get(url, {"q": "workplace"}, HTTP_HX_REQUEST="true"))
    assert "LC.4" in found and "Workplace experience" in found and "LL.3" not in found
    assert "<html" not in found


def test_a_study_is_tagged_to_elements_and_facets_with_a_relevance(client, researcher, draft):
    element = ElementFactory(code="LC.4")
    facet = FacetFactory(element=element, name="Workplace experience")
    other = ElementFactory(code="LL.3")
    StudyTagFactory(study=draft, element=other)
    response = login(client, researcher).post(
        reverse("workspace:study-tags", args=[draft.pk]),
        {"targets": [f"f:{facet.pk}", f"e:{other.pk}"], "relevance": "secondary"},
    )
    assert response.status_code == 302
    tags = {(t.element.code, t.facet_id, t.relevance) for t in draft.tags.all()}
    assert tags == {("LC.4", facet.pk, "secondary"), ("LL.3", None, "primary")}  # no duplicate


def test_a_tag_is_removed(client, researcher, draft):
    tag = StudyTagFactory(study=draft)
    url = reverse("workspace:tag-remove", args=[draft.pk, tag.pk])
    assert login(client, UserFactory(roles=["researcher"])).post(url).status_code == 404
    assert login(client, researcher).post(url).status_code == 302
    assert not StudyTag.objects.exists()


def test_tagging_needs_edit_rights(client, anonymous, researcher):
    published = StudyFactory(created_by=researcher)
    url = reverse("workspace:study-tags", args=[published.pk])
    assert anonymous.get(url).status_code == 302
    assert login(client, researcher).get(url).status_code == 403  # published: curators only


# --- The workspace list: bulk tagging and exports -------------------------------------------


@pytest.fixture
def my_drafts(researcher):
    return [
        StudyFactory(status=ReviewStatus.DRAFT, created_by=researcher, year=year)
        for year in (2010, 2011, 2020)
    ]


def test_the_workspace_list_shows_a_researchers_own_studies(client, researcher, my_drafts):
    StudyFactory(title="Somebody else's study")
    page = html(login(client, researcher).get(reverse("workspace:studies")))
    assert all(study.title in page for study in my_drafts) and "Somebody else" not in page


def test_chosen_studies_are_tagged_in_bulk(client, researcher, my_drafts):
    element = ElementFactory(code="LD.1")
    StudyTagFactory(study=my_drafts[0], element=element)
    response = login(client, researcher).post(
        reverse("workspace:bulk-tag"),
        {
            "target": f"e:{element.pk}",
            "relevance": "primary",
            "studies": [s.pk for s in my_drafts[:2]],
        },
        follow=True,
    )
    assert "Tagged 1 study to LD.1. 1 already had that tag." in html(response)
    assert set(StudyTag.objects.values_list("study_id", flat=True)) == {s.pk for s in my_drafts[:2]}


def test_every_study_matching_the_filter_is_tagged_in_bulk(client, researcher, my_drafts):
    element = ElementFactory(code="LD.1")
    login(client, researcher).post(
        f"{reverse('workspace:bulk-tag')}?year_max=2015",
        {"target": f"e:{element.pk}", "relevance": "secondary", "everything": "on"},
    )
    tagged = set(StudyTag.objects.filter(relevance="secondary").values_list("study_id", flat=True))
    assert tagged == {my_drafts[0].pk, my_drafts[1].pk}


def test_bulk_tagging_cannot_reach_other_peoples_studies(client, researcher, my_drafts):
    element = ElementFactory(code="LD.1")
    foreign = StudyFactory(status=ReviewStatus.DRAFT)
    response = login(client, researcher).post(
        reverse("workspace:bulk-tag"),
        {"target": f"e:{element.pk}", "relevance": "primary", "studies": [foreign.pk]},
        follow=True,
    )
    assert not StudyTag.objects.exists() and "Select a valid choice" in html(response)


def test_bulk_tagging_leaves_a_researchers_published_studies_to_curators(client, researcher):
    element = ElementFactory(code="LD.1")
    published = StudyFactory(created_by=researcher)
    response = login(client, researcher).post(
        reverse("workspace:bulk-tag"),
        {"target": f"e:{element.pk}", "relevance": "primary", "everything": "on"},
        follow=True,
    )
    assert "1 you may not edit were left alone" in html(response)
    assert not published.tags.exists()


def test_curators_tag_anyones_studies_in_bulk(client, curator, my_drafts):
    element = ElementFactory(code="LD.1")
    login(client, curator).post(
        reverse("workspace:bulk-tag"),
        {"target": f"e:{element.pk}", "relevance": "primary", "everything": "on"},
    )
    assert StudyTag.objects.count() == 3


def test_bulk_tagging_needs_the_workspace(client, anonymous):
    url = reverse("workspace:bulk-tag")
    assert anonymous.post(url, {}).status_code == 302
    assert login(client, UserFactory()).post(url, {}).status_code == 403


@pytest.mark.parametrize(
    "fmt, marker", [("ris", "TY  - "), ("bib", "@article{"), ("csv", "title,")]
)
def test_the_filtered_workspace_list_exports(client, researcher, my_drafts, fmt, marker):
    StudyFactory(title="Somebody else's study")
    response = login(client, researcher).get(
        reverse("workspace:export", args=[fmt]), {"year_min": "2011"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and marker in body
    assert my_drafts[1].title in body and my_drafts[2].title in body
    assert my_drafts[0].title not in body and "Somebody else" not in body


def test_workspace_exports_need_the_workspace(client, anonymous):
    url = reverse("workspace:export", args=["ris"])
    assert anonymous.get(url).status_code == 302
    assert login(client, UserFactory()).get(url).status_code == 403


def test_the_workspace_list_has_a_query_budget(client, curator, django_assert_max_num_queries):
    for study in StudyFactory.create_batch(40, status=ReviewStatus.DRAFT):
        EffectSizeFactory(study=study)
        StudyTagFactory(study=study)
    login(client, curator)
    # Constant in the data size; the vocabulary filters each cost one lookup when validated.
    with django_assert_max_num_queries(12):
        assert client.get(reverse("workspace:studies")).status_code == 200


# --- Password reset ----------------------------------------------------------------------------


def test_a_password_is_reset_through_an_emailed_link(client, researcher):
    assert "Reset your password" in html(client.get(reverse("password_reset")))
    response = client.post(reverse("password_reset"), {"email": researcher.email})
    assert response.status_code == 302
    assert "Check your email" in html(client.get(response.url))
    link = re.search(r"https?://\S+/reset/\S+/", mail.outbox[0].body).group(0)
    page = client.get(link, follow=True)
    assert "Choose a new password" in html(page)
    response = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a much longer secret 42", "new_password2": "a much longer secret 42"},
        follow=True,
    )
    assert "Your password is changed" in html(response)
    assert client.login(username=researcher.username, password="a much longer secret 42")


def test_a_used_reset_link_says_it_no_longer_works(client):
    response = client.get(reverse("password_reset_confirm", args=["MQ", "bad-token"]))
    assert "This link no longer works" in html(response)

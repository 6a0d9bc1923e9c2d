"""Publishing, editing and retracting evidence updates the stored element summaries."""

import pytest

from evidence.models import DirtyElement, EvidenceHistory, EvidenceSummary
from evidence.services import (
    element_evidence_recompute_if_dirty,
    elements_mark_dirty,
    evidence_recompute_all,
)
from studies import services as study_services
from studies.constants import ReviewStatus
from studies.models import EffectSize, Study
from tests.factories import ElementFactory, StudyFactory, StudyTagFactory

pytestmark = pytest.mark.django_db


def _submitted_study_with_effect(element, g, variance, **study_fields):
    study = StudyFactory(status=ReviewStatus.SUBMITTED, wwc_rating="meets_without", **study_fields)
    StudyTagFactory(study=study, element=element)
    effect = EffectSize(
        study=study,
        outcome_domain="mathematics",
        input_kind="smd",
        reported={"value": g, "variance": variance},
    )
    study_services.effect_save(effect=effect)
    return study


def _evidence(client, code):
    response = client.get(f"/api/v1/elements/{code}/evidence/")
    assert response.status_code == 200, response.content
    return response.json()


def test_publishing_studies_tagged_to_ll3_produces_its_pooled_summary(
    client, django_capture_on_commit_callbacks
):
    element = ElementFactory(code="LL.3")
    with django_capture_on_commit_callbacks(execute=True):
        first = _submitted_study_with_effect(element, 0.2, 0.01)
        second = _submitted_study_with_effect(element, 0.4, 0.01)
    assert not EvidenceSummary.objects.exists()  # drafts and submissions are not evidence yet
    with django_capture_on_commit_callbacks(execute=True):
        study_services.study_transition(study=first, action="publish")
        study_services.study_transition(study=second, action="publish")

    evidence = _evidence(client, "LL.3")
    pooled = evidence["pooled"]
    # Equal variances: REML τ² = sample variance − v = 0.02 − 0.01; μ = mean; SE = √((v+τ²)/k).
    assert pooled["k"] == 2 and pooled["method"] == "REML"
    assert pooled["estimate"] == pytest.approx(0.3)
    assert pooled["tau2"] == pytest.approx(0.01)
    assert pooled["se"] == pytest.approx(0.1)
    assert pooled["ci_low"] == pytest.approx(0.3 - 1.959964 * 0.1, abs=1e-6)
    assert evidence["rating"] == "strong"
    assert evidence["k_studies"] == 2 and evidence["total_n"] == 800
    assert evidence["by_domain"][0]["outcome_domain"] == "mathematics"
    assert {r["code"] for r in evidence["reasons"]} >= {"tier_1_2_studies", "pooled_favorable"}
    assert not DirtyElement.objects.exists()


def test_editing_an_effect_updates_the_summary_and_records_history(
    client, django_capture_on_commit_callbacks
):
    element = ElementFactory(code="LL.3")
    with django_capture_on_commit_callbacks(execute=True):
        study = _submitted_study_with_effect(element, 0.3, 0.01)
        study_services.study_transition(study=study, action="publish")
    assert _evidence(client, "LL.3")["pooled"]["estimate"] == pytest.approx(0.3)

    effect = study.effects.get()
    effect.reported = {"value": -0.5, "variance": 0.01}
    with django_capture_on_commit_callbacks(execute=True):
        study_services.effect_save(effect=effect, expected_version=effect.version)

    evidence = _evidence(client, "LL.3")
    assert evidence["pooled"]["estimate"] == pytest.approx(-0.5)
    assert evidence["rating"] == "no_detectable_effect" or evidence["rating"] == "emerging"
    history = list(
        EvidenceHistory.objects.filter(element=element, outcome_domain="").order_by("id")
    )
    assert [h.rating_after for h in history][0] == "moderate"
    assert history[-1].estimate_after == pytest.approx(-0.5)


def test_retracting_the_only_study_takes_the_element_back_to_no_evidence(
    client, django_capture_on_commit_callbacks
):
    element = ElementFactory(code="LL.3")
    with django_capture_on_commit_callbacks(execute=True):
        study = _submitted_study_with_effect(element, 0.3, 0.01)
        study_services.study_transition(study=study, action="publish")
    with django_capture_on_commit_callbacks(execute=True):
        study_services.study_transition(study=study, action="retract", comment="Data error")
    evidence = _evidence(client, "LL.3")
    assert evidence["rating"] == "no_evidence" and evidence["pooled"] is None


def test_a_rerun_with_nothing_changed_writes_no_history(django_capture_on_commit_callbacks):
    element = ElementFactory(code="LL.3")
    with django_capture_on_commit_callbacks(execute=True):
        study = _submitted_study_with_effect(element, 0.3, 0.01)
        study_services.study_transition(study=study, action="publish")
    rows = EvidenceHistory.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        elements_mark_dirty(element_ids=[element.pk])
        elements_mark_dirty(element_ids=[element.pk])
    assert EvidenceHistory.objects.count() == rows
    assert EvidenceSummary.objects.filter(element=element, outcome_domain="").count() == 1


def test_a_full_recompute_rewrites_only_the_summaries_that_changed(
    django_capture_on_commit_callbacks,
):
    ll3, lc1 = ElementFactory(code="LL.3"), ElementFactory(code="LC.1")
    with django_capture_on_commit_callbacks(execute=True):
        walsh = _submitted_study_with_effect(ll3, 0.3, 0.01, authors=["Walsh, K."], year=2014)
        other = _submitted_study_with_effect(lc1, 0.2, 0.02)
        for study in (walsh, other):
            study_services.study_transition(study=study, action="publish")

    def stored():
        return {
            (s.element_id, s.outcome_domain): (s.pk, s.computed_at)
            for s in EvidenceSummary.objects.all()
        }

    before = stored()
    assert len(before) == 4  # overall and mathematics, for each element
    evidence_recompute_all()
    assert stored() == before  # nothing changed, nothing written: same rows, same times

    # A change behind the services' back (no dirty mark): the nightly recompute repairs it.
    Study.objects.filter(pk=walsh.pk).update(authors=["Okafor, N."])
    evidence_recompute_all()
    after = stored()
    assert EvidenceSummary.objects.get(element=ll3, outcome_domain="").forest[0]["label"] == (
        "Okafor (2014)"
    )
    assert {key for key in before if after[key] != before[key]} == {
        (ll3.pk, ""),
        (ll3.pk, "mathematics"),
    }


def test_a_recompute_that_dies_midway_leaves_the_old_summary_and_the_dirty_mark(
    monkeypatch, django_capture_on_commit_callbacks
):
    element = ElementFactory(code="LL.3")
    with django_capture_on_commit_callbacks(execute=True):
        study = _submitted_study_with_effect(element, 0.3, 0.01)
        study_services.study_transition(study=study, action="publish")
    before = EvidenceSummary.objects.get(element=element, outcome_domain="")

    StudyTagFactory(study=StudyFactory(), element=element)  # a second study, not yet recomputed
    elements_mark_dirty(element_ids=[element.pk])

    def die(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(EvidenceHistory.objects, "bulk_create", die)
    with pytest.raises(SystemExit):
        element_evidence_recompute_if_dirty(element_id=element.pk)
    after = EvidenceSummary.objects.get(element=element, outcome_domain="")
    assert (after.pk, after.k_studies) == (before.pk, 1)
    assert DirtyElement.objects.filter(element=element).exists()

    monkeypatch.undo()
    assert element_evidence_recompute_if_dirty(element_id=element.pk) is True
    assert EvidenceSummary.objects.get(element=element, outcome_domain="").k_studies == 2
    assert not DirtyElement.objects.exists()


def test_an_unknown_element_has_no_evidence_endpoint(client, db):
    assert client.get("/api/v1/elements/ZZ.1/evidence/").status_code == 404


def test_only_curators_can_start_a_full_recompute(
    client, researcher, curator, seeded, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    assert client.post("/api/v1/evidence/recompute/").status_code == 403
    client.force_login(curator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/evidence/recompute/")
    assert response.status_code == 202
    job = client.get(f"/api/v1/jobs/{response.json()['id']}/").json()
    assert job["state"] == "succeeded" and job["done"] == job["total"] == 18

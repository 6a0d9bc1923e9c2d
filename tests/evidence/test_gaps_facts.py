"""The gap report's stored facts stay exact through every way studies change: the services, the
seed loader, a backup restore, the engine's new tiers, the admin; the nightly rebuild repairs the
rest. "Exact" is checked twice: against a fresh derivation (gap_facts_stale) and, at the end of a
study's life, against the study-by-study count of test_gaps_counts."""

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from evidence.gaps.facts import gap_facts_stale
from evidence.models import GapFact
from evidence.services import evidence_recompute_all
from studies import services
from studies.constants import ReviewStatus
from studies.models import EffectSize, GradeBand, Population, Setting, Study, StudyTag
from tests.factories import FacetFactory

from .test_gaps import framework, recompute, report, study  # noqa: F401 (framework: a fixture)
from .test_gaps_counts import _expected

pytestmark = pytest.mark.django_db


def assert_exact():
    extra, missing = gap_facts_stale()
    assert (sorted(extra), sorted(missing)) == ([], [])


def assert_report_counts_every_study():
    # The counting is under test, not the cache: its version changes when a write commits,
    # which never happens inside a test's transaction.
    cache.clear()
    for filters in ({}, {"include_under_review": "1"}):
        for dimension in ("outcome_domain", "population", "grade_band", "design"):
            rep = report(dimension=dimension, _curator=True, **filters)
            got = {
                (r.code, c.column or "all"): (c.n_studies, c.best_tier, c.latest_year)
                for r in rep.rows
                for c in (r.total, *r.cells)
                if c.n_studies
            }
            assert got == _expected(filters, dimension), (filters, dimension)


def _effect(study_, domain="mathematics", g=0.4, population=None):
    return services.effect_save(
        effect=EffectSize(
            study=study_,
            outcome_domain=domain,
            input_kind="smd",
            reported={"value": g, "variance": 0.01},
            population=Population.objects.get(code=population) if population else None,
            subgroup=population or "",
        )
    )


def test_the_services_keep_the_facts_exact_through_a_study_s_life(framework, curator):  # noqa: F811
    ll1, ll2 = framework["LL.1"], framework["LL.2"]
    s = services.study_create(
        data={
            "title": "Playlists and mastery in grade 7",
            "authors": ["Doe, J."],
            "year": 2014,
            "design": "rct",
            "sample_size": 500,
            "sample_unit": "students",
            "n_sites": 4,
            "wwc_rating": "meets_without",
            "populations": list(Population.objects.filter(code="english_learners")),
            "grade_bands": list(GradeBand.objects.filter(code="6-8")),
            "settings": list(Setting.objects.filter(code="school_day")),
        }
    )
    assert_exact()
    services.tag_add(study=s, element=ll1)
    services.tag_add(
        study=s, element=ll1, facet=FacetFactory(element=ll1)
    )  # a second tag, one pair
    assert_exact()
    whole = _effect(s, "mathematics", 0.4)
    _effect(s, "literacy", 0.3, population="low_income")  # a favorable subgroup effect
    assert_exact()
    services.study_transition(study=s, action="submit")
    services.study_transition(study=s, action="publish")
    s.refresh_from_db()
    assert GapFact.objects.filter(study=s, status=ReviewStatus.PUBLISHED, tier=1).exists()
    assert_exact()
    assert_report_counts_every_study()

    # Edits: the study's year, design and vocabularies; an effect moved to another domain and
    # made unfavorable; a new tag; an effect and a tag removed.
    s = services.study_update(
        study=s,
        data={
            "year": 2019,
            "design": "qed",
            "populations": list(Population.objects.filter(code="black")),
            "grade_bands": list(GradeBand.objects.filter(code__in=["3-5", "9-12"])),
        },
    )
    assert_exact()
    whole.outcome_domain, whole.reported = "attendance", {"value": -0.01, "variance": 0.01}
    services.effect_save(effect=whole, expected_version=whole.version)
    assert_exact()
    services.tag_add(study=s, element=ll2)
    assert_exact()
    services.effect_delete(effect=whole)
    services.tag_remove(tag=StudyTag.objects.get(study=s, element=ll1, facet=None))
    assert_exact()
    assert_report_counts_every_study()

    services.study_transition(study=s, action="retract")
    assert set(GapFact.objects.filter(study=s).values_list("status", flat=True)) == {"retracted"}
    assert_exact()
    services.study_delete(study=s)
    assert not GapFact.objects.exists()


def test_merging_bulk_tagging_and_deleting_keep_the_facts_exact(framework):  # noqa: F811
    keep = study(framework["LL.1"], level=1, populations=["black"], grade_bands=["k-2"])
    remove = study(framework["LL.2"], level=2, subgroups=[("low_income", "literacy", True)])
    other = study(framework["LL.3"], level=3)
    recompute(keep, remove, other)
    assert_exact()
    services.study_tags_bulk_add(studies=[keep, other], element=framework["LD.1"])
    assert_exact()
    services.study_merge(keep=keep, remove=remove)
    assert not GapFact.objects.filter(study_id=remove.pk).exists()
    assert GapFact.objects.filter(study=keep, element=framework["LL.2"]).exists()
    assert_exact()
    services.study_delete(study=other)
    assert_exact()
    assert_report_counts_every_study()


def test_the_engine_s_new_tiers_reach_the_facts(framework):  # noqa: F811
    s = study(framework["LL.1"], level=1)
    recompute(s)
    assert GapFact.objects.filter(study=s, tier=1).count() == 2  # the element, its domain
    # The study's rating changes past the services (as a data fix would); the nightly full
    # recompute stores its new tier, and the facts follow.
    Study.objects.filter(pk=s.pk).update(wwc_rating="does_not_meet")
    evidence_recompute_all()
    assert set(GapFact.objects.filter(study=s).values_list("tier", flat=True)) == {3}
    assert_exact()
    assert_report_counts_every_study()


def test_the_seed_loader_and_a_backup_restore_derive_the_facts(seeded, tmp_path):
    assert GapFact.objects.filter(dimension="element").exists()
    assert_exact()
    path = tmp_path / "backup.json"
    call_command("backup_export", str(path), stdout=StringIO())
    Study.objects.all().delete()
    assert not GapFact.objects.exists()
    call_command("backup_import", str(path), stdout=StringIO())
    assert GapFact.objects.filter(dimension="element").exists()
    assert_exact()


def test_admin_edits_of_effects_and_tags_keep_the_facts_exact(client, admin_user, framework):  # noqa: F811
    s = study(framework["LL.1"], level=1, effects=(("mathematics", True), ("literacy", True)))
    recompute(s)
    client.force_login(admin_user)
    effect = s.effects.get(outcome_domain="literacy")
    page = client.post(f"/admin/studies/effectsize/{effect.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302
    assert_exact()
    page = client.post(
        "/admin/studies/studytag/add/",
        {"study": s.pk, "element": framework["LL.2"].pk, "relevance": "primary"},
    )
    assert page.status_code == 302, page.content[:2000]
    assert GapFact.objects.filter(study=s, element=framework["LL.2"]).exists()
    assert_exact()
    tags = StudyTag.objects.filter(study=s)
    page = client.post(
        "/admin/studies/studytag/",
        {"action": "delete_selected", "_selected_action": [t.pk for t in tags], "post": "yes"},
    )
    assert page.status_code == 302
    assert not GapFact.objects.filter(study=s).exists()
    assert_exact()


def test_the_rebuild_command_repairs_edits_that_bypassed_the_services(framework):  # noqa: F811
    s = study(framework["LL.1"], level=2, grade_bands=["6-8"])
    recompute(s)
    # A vocabulary change written past the services, like a raw data fix:
    s.grade_bands.set(GradeBand.objects.filter(code="k-2"))
    with pytest.raises(CommandError, match="stale"):
        call_command("rebuild_gap_facts", "--check", stdout=StringIO())
    out = StringIO()
    call_command("rebuild_gap_facts", stdout=out)
    assert "Rebuilt" in out.getvalue()
    call_command("rebuild_gap_facts", "--check", stdout=StringIO())
    assert GapFact.objects.filter(study=s, dimension="grade_band", code="k-2").exists()

"""The ESSA tier and element rating rules (EVIDENCE.md §3-§4), one rule at a time."""

from evidence import rules
from evidence.rules import EffectFacts, StudyFacts, rate_element, study_tier
from evidence.stats.meta import pool

FAV = EffectFacts(g=0.3, variance=0.01, significant=True)
UNFAV = EffectFacts(g=-0.3, variance=0.01, significant=True)
NULL = EffectFacts(g=0.02, variance=0.01, significant=False)


def study(i, design="rct", wwc="meets_without", n=400, sites=3, effects=(FAV,)):
    return StudyFacts(
        study_id=i,
        design=design,
        wwc_rating=wwc,
        sample_size=n,
        n_sites=sites,
        effects=tuple(effects),
    )


def pool_studies(studies):
    effects = [e for s in studies for e in s.effects[:1]]
    return pool([e.g for e in effects], [e.variance for e in effects])


def rate(studies):
    return rate_element(studies, pool_studies=pool_studies)


# --- ESSA tiers -------------------------------------------------------------------------------


def test_a_large_multisite_rct_meeting_standards_with_a_favorable_effect_is_tier_1():
    assert study_tier(study(1)).tier == 1


def test_an_rct_meeting_standards_with_reservations_is_tier_2():
    assert study_tier(study(1, wwc="meets_with")).tier == 2


def test_a_qed_meeting_standards_is_tier_2_never_tier_1():
    assert study_tier(study(1, design="qed", wwc="meets_without")).tier == 2


def test_an_rct_with_349_students_is_tier_3():
    assert study_tier(study(1, n=349)).tier == 3


def test_an_rct_at_one_site_is_tier_3():
    assert study_tier(study(1, sites=1)).tier == 3


def test_a_correlational_study_with_controls_and_a_favorable_effect_is_tier_3():
    assert study_tier(study(1, design="correlational", wwc="not_reviewed")).tier == 3


def test_qualitative_work_demonstrates_a_rationale_at_tier_4():
    assert study_tier(study(1, design="qualitative", effects=())).tier == 4


def test_an_rct_without_a_significant_favorable_effect_has_no_tier_but_keeps_its_design_level():
    decision = study_tier(study(1, effects=(NULL,)))
    assert decision.tier is None and decision.design_level == 1


def test_a_significant_unfavorable_effect_is_noted_separately():
    decision = study_tier(study(1, effects=(UNFAV,)))
    assert decision.tier is None and decision.unfavorable and decision.code == "unfavorable"


def test_a_meta_analysis_is_shown_but_not_tiered():
    assert study_tier(study(1, design="meta_analysis")).tier is None


# --- Element rating ---------------------------------------------------------------------------


def test_rule_1_no_published_study_means_no_evidence_yet():
    decision = rate([])
    assert decision.rating == "no_evidence" and decision.rule == 1


def test_rule_2_favorable_and_unfavorable_rigorous_results_are_mixed():
    decision = rate([study(1), study(2, effects=(UNFAV,))])
    assert decision.rating == "mixed"
    assert decision.reasons[0].study_ids == (1, 2)


def test_rule_2_counts_a_study_with_both_kinds_of_result_once():
    decision = rate([study(1, effects=(FAV, UNFAV)), study(2)])
    mixed = decision.reasons[0]
    assert decision.rating == "mixed" and mixed.study_ids == (1, 2)
    assert mixed.as_dict()["study_count"] == 2


def test_rule_2_does_not_apply_when_the_unfavorable_result_is_from_rationale_level_work():
    decision = rate([study(1), study(2, design="qualitative", effects=(UNFAV,))])
    assert decision.rating != "mixed"


def test_rule_3_two_tier_1_2_studies_one_tier_1_with_a_significant_pooled_effect_are_strong():
    decision = rate([study(1), study(2, wwc="meets_with")])
    assert decision.rating == "strong" and decision.next_level == {}
    pooled_reason = next(r for r in decision.reasons if r.code == "pooled_favorable")
    assert pooled_reason.figures["ci_low"] > 0


def test_rule_3_needs_a_tier_1_study_so_two_tier_2_studies_are_moderate():
    decision = rate([study(1, wwc="meets_with"), study(2, design="qed")])
    assert decision.rating == "moderate"
    assert "without reservations" in decision.next_level["text"]


def test_rule_3_needs_the_pooled_effect_to_be_significant():
    weak = EffectFacts(g=0.3, variance=0.2, significant=True)
    decision = rate([study(1, effects=(weak,)), study(2, effects=(weak,))])
    assert decision.rating == "moderate"


def test_rule_4_one_tier_1_2_study_is_moderate_and_says_what_would_make_it_strong():
    decision = rate([study(1, wwc="meets_with")])
    assert decision.rating == "moderate" and decision.rule == 4
    assert "350 students" in decision.next_level["text"]


def test_rule_4_is_overridden_by_an_unfavorable_tier_1_2_design():
    decision = rate([study(1), study(2, effects=(UNFAV,))])
    assert decision.rating != "moderate"


def test_rule_5_one_tier_3_study_is_promising():
    decision = rate([study(1, design="correlational", wwc="not_reviewed")])
    assert decision.rating == "promising" and decision.reasons[0].study_ids == (1,)


def test_rule_5_does_not_apply_to_a_non_significant_correlational_study():
    decision = rate([study(1, design="correlational", effects=(NULL,))])
    assert decision.rating == "emerging"


def test_rule_6_two_rigorous_null_studies_show_no_detectable_effect():
    decision = rate([study(1, effects=(NULL,)), study(2, wwc="meets_with", effects=(NULL,))])
    assert decision.rating == "no_detectable_effect"


def test_rule_6_needs_two_rigorous_studies():
    decision = rate([study(1, effects=(NULL,))])
    assert decision.rating == "emerging"


def test_rule_7_rationale_only_work_is_emerging_and_points_to_promising():
    decision = rate([study(1, design="qualitative", effects=())])
    assert decision.rating == "emerging" and decision.next_level["rating"] == "promising"


def test_the_next_level_names_the_population_it_is_for():
    decision = rate_element([], pool_studies=pool_studies, population_label="English learners")
    assert decision.next_level["text"].endswith("for English learners.")


def test_rules_carry_a_version():
    assert rules.RULES_VERSION >= 1
    assert study_tier(study(1)).as_dict()["rules_version"] == rules.RULES_VERSION

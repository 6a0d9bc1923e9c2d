"""Conversions from reported statistics to Hedges' g (evidence/stats/effect_sizes.py)."""

import dataclasses
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from evidence.stats import effect_sizes as es
from evidence.stats.effect_sizes import EffectSizeError, compute

# No example database: keep test runs from writing files into the repository.
FAST = settings(max_examples=200, deadline=None, database=None)

BORENSTEIN = {"mean_t": 103, "sd_t": 5.5, "n_t": 50, "mean_c": 100, "sd_c": 4.5, "n_c": 50}


def _pooled_d(mean_t, sd_t, n_t, mean_c, sd_c, n_c):
    sp = math.sqrt(((n_t - 1) * sd_t**2 + (n_c - 1) * sd_c**2) / (n_t + n_c - 2))
    return (mean_t - mean_c) / sp


# --- worked examples and published values ----------------------------------------------------


def test_borenstein_example_gives_g_0_592440_with_exact_j_and_ls_variance_0_041755():
    result = es.from_means(**BORENSTEIN)
    # Exact J(98) = 0.9923241 gives 0.5924396; the often-quoted 0.592442 is the approximate J.
    assert result.g == pytest.approx(0.592440, abs=5e-7)
    assert result.variance == pytest.approx(0.041755, abs=5e-7)
    assert result.se == pytest.approx(math.sqrt(result.variance))
    assert result.conversion == "means_sd_hedges_exact_j"


def test_borenstein_example_with_the_approximate_j_gives_0_592442():
    d = _pooled_d(**BORENSTEIN)
    assert d == pytest.approx(0.597022, abs=5e-7)
    assert d * (1 - 3 / (4 * 98 - 1)) == pytest.approx(0.592442, abs=5e-7)


def test_normand1999_smds_match_metafor_escalc_with_exact_j():
    # metafor: escalc("SMD", ...) on dat.normand1999, studies 1-4.
    rows = [
        (55, 47, 155, 75, 64, 156, -0.3552),
        (27, 7, 31, 29, 4, 32, -0.3479),
        (64, 17, 75, 119, 29, 71, -2.3176),
        (66, 20, 18, 137, 48, 18, -1.8880),
    ]
    for m1, s1, n1, m2, s2, n2, expected in rows:
        result = es.from_means(mean_t=m1, sd_t=s1, n_t=n1, mean_c=m2, sd_c=s2, n_c=n2)
        assert result.g == pytest.approx(expected, abs=5e-5)


def test_exact_j_matches_the_gamma_function_definition():
    for df in (2, 3, 10, 98, 150):
        direct = math.gamma(df / 2) / (math.sqrt(df / 2) * math.gamma((df - 1) / 2))
        assert es.hedges_j(df) == pytest.approx(direct, rel=1e-12)
    assert es.hedges_j(2) == pytest.approx(1 / math.sqrt(math.pi))


def test_exact_j_is_stable_for_huge_samples():
    j = es.hedges_j(1e12)
    assert math.isfinite(j)
    assert j == pytest.approx(1 - 3 / (4e12 - 1), abs=1e-12)
    assert es.hedges_j(10_000) == pytest.approx(1 - 3 / (4 * 10_000 - 1), abs=1e-9)


# --- identities between routes -------------------------------------------------------------

group = st.fixed_dictionaries(
    {
        "mean_t": st.floats(-100, 100),
        "mean_c": st.floats(-100, 100),
        "sd_t": st.floats(0.5, 50),
        "sd_c": st.floats(0.5, 50),
        "n_t": st.integers(2, 500),
        "n_c": st.integers(2, 500),
    }
)


def _t_from_means(mean_t, sd_t, n_t, mean_c, sd_c, n_c):
    return _pooled_d(mean_t, sd_t, n_t, mean_c, sd_c, n_c) / math.sqrt(1 / n_t + 1 / n_c)


@FAST
@given(group)
def test_d_from_t_equals_d_from_means_when_t_comes_from_the_same_data(data):
    by_means = es.from_means(**data)
    t = _t_from_means(**data)
    by_t = es.from_t(t=t, n_t=data["n_t"], n_c=data["n_c"])
    assert by_t.g == pytest.approx(by_means.g, rel=1e-9, abs=1e-12)
    assert by_t.variance == pytest.approx(by_means.variance, rel=1e-9)


@FAST
@given(
    t=st.floats(-8, 8).filter(lambda x: abs(x) > 1e-3),
    n_t=st.integers(2, 400),
    n_c=st.integers(2, 400),
)
def test_f_and_p_routes_agree_with_the_t_route(t, n_t, n_c):
    by_t = es.from_t(t=t, n_t=n_t, n_c=n_c)
    sign = 1 if t > 0 else -1
    by_f = es.from_f(f=t * t, n_t=n_t, n_c=n_c, sign=sign)
    assert by_f.g == pytest.approx(by_t.g, rel=1e-9)
    assert by_f.variance == pytest.approx(by_t.variance, rel=1e-9)
    p = 2 * stats.t.sf(abs(t), n_t + n_c - 2)
    if p > 1e-12:  # below that, qt cannot give t back to 1e-6
        by_p = es.from_p(p=p, n_t=n_t, n_c=n_c, sign=sign)
        assert by_p.g == pytest.approx(by_t.g, rel=1e-6)
        assert by_p.p_value == p


def test_p_of_one_means_no_difference():
    assert es.from_p(p=1, n_t=20, n_c=20, sign=1).g == pytest.approx(0, abs=1e-12)


def test_reported_d_with_group_sizes_is_corrected_to_the_same_g_as_means():
    by_means = es.from_means(**BORENSTEIN)
    d = _pooled_d(**BORENSTEIN)
    by_d = es.from_smd(value=d, n_t=50, n_c=50, kind="d")
    assert by_d.g == pytest.approx(by_means.g, rel=1e-12)
    assert by_d.variance == pytest.approx(by_means.variance, rel=1e-12)
    assert by_d.conversion == "reported_d_hedges_exact_j_ls_variance"


def test_reported_d_variance_is_scaled_by_j_squared():
    j = es.hedges_j(98)
    result = es.from_smd(value=0.6, variance=0.04, n_t=50, n_c=50, kind="d")
    assert result.g == pytest.approx(0.6 * j)
    assert result.variance == pytest.approx(0.04 * j * j)


def test_reported_d_without_group_sizes_is_used_uncorrected():
    result = es.from_smd(value=0.4, se=0.1, kind="d")
    assert result.g == 0.4
    assert result.conversion == "reported_d_uncorrected"


def test_reported_g_keeps_its_se_and_a_ci_gives_se_from_the_width():
    assert es.from_smd(value=0.3, se=0.1).variance == pytest.approx(0.01)
    assert es.from_smd(value=0.3, variance=0.02).variance == pytest.approx(0.02)
    z = stats.norm.ppf(0.975)
    by_ci = es.from_smd(value=0.3, ci_low=0.3 - z * 0.1, ci_high=0.3 + z * 0.1)
    assert by_ci.se == pytest.approx(0.1)
    assert by_ci.conversion == "reported_smd_ci"


def test_reported_g_with_only_group_sizes_gets_the_ls_variance():
    result = es.from_smd(value=0.5, n_t=40, n_c=60)
    assert result.variance == pytest.approx(1 / 40 + 1 / 60 + 0.25 / 200)
    assert result.conversion == "reported_smd_ls_variance"


def test_logit_odds_ratio_uses_sqrt3_over_pi():
    result = es.from_odds_ratio(odds_ratio=2.0, se=0.3)
    assert result.g == pytest.approx(math.log(2) * math.sqrt(3) / math.pi)
    assert result.variance == pytest.approx(0.09 * 3 / math.pi**2)
    assert result.conversion == "logit_or"


def test_cox_odds_ratio_divides_by_1_65():
    result = es.from_odds_ratio(odds_ratio=2.0, variance=0.09, method="cox")
    assert result.g == pytest.approx(math.log(2) / 1.65)
    assert result.variance == pytest.approx(0.09 / 1.65**2)
    assert result.conversion == "cox_or"


def test_odds_ratio_ci_is_read_on_the_log_scale():
    z = stats.norm.ppf(0.975)
    low, high = math.exp(math.log(2) - z * 0.3), math.exp(math.log(2) + z * 0.3)
    result = es.from_odds_ratio(odds_ratio=2.0, ci_low=low, ci_high=high)
    assert result.variance == pytest.approx(0.09 * 3 / math.pi**2)
    assert result.conversion == "logit_or_ci"


def test_two_by_two_matches_the_odds_ratio_route():
    table = es.from_two_by_two(events_t=30, n_t=100, events_c=20, n_c=100)
    log_or = math.log(30 * 80 / (70 * 20))
    var = 1 / 30 + 1 / 70 + 1 / 20 + 1 / 80
    direct = es.from_odds_ratio(odds_ratio=math.exp(log_or), variance=var)
    assert table.g == pytest.approx(direct.g)
    assert table.variance == pytest.approx(direct.variance)
    assert table.conversion == "logit_or"


def test_two_by_two_with_a_zero_cell_adds_one_half_to_every_cell_and_says_so():
    result = es.from_two_by_two(events_t=0, n_t=20, events_c=5, n_c=20, method="cox")
    log_or = math.log(0.5 * 15.5 / (20.5 * 5.5))
    var = 1 / 0.5 + 1 / 20.5 + 1 / 5.5 + 1 / 15.5
    assert result.g == pytest.approx(log_or / 1.65)
    assert result.variance == pytest.approx(var / 1.65**2)
    assert result.conversion == "cox_or+zero_cell_0.5"


def test_correlation_converts_by_borenstein_formulas():
    result = es.from_r(r=0.5, n=101)
    assert result.g == pytest.approx(2 * 0.5 / math.sqrt(0.75))
    v_r = 0.75**2 / 100
    assert result.variance == pytest.approx(4 * v_r / 0.75**3)
    assert result.conversion == "r_to_d"


@FAST
@given(points=st.floats(-49.9, 49.9))
def test_percentile_points_invert_the_improvement_index(points):
    result = es.from_percentile_points(points=points, n_t=100, n_c=100)
    assert result.improvement_index == pytest.approx(points, abs=1e-9)
    assert result.variance == pytest.approx(es.ls_variance(result.g, 100, 100))


def test_improvement_index_and_substantive_importance_follow_wwc():
    assert es.improvement_index(0) == 0
    assert es.improvement_index(0.25) == pytest.approx(9.87, abs=0.005)
    assert es.improvement_index(-0.25) == pytest.approx(-9.87, abs=0.005)
    assert es.is_substantively_important(0.25)
    assert es.is_substantively_important(-0.3)
    assert not es.is_substantively_important(0.2499)


# --- orientation and significance ------------------------------------------------------------


def test_lower_is_better_flips_the_sign_and_the_interval():
    up = es.from_means(**BORENSTEIN)
    down = es.from_means(**BORENSTEIN, higher_is_better=False)
    assert down.g == -up.g
    assert (down.ci_low, down.ci_high) == pytest.approx((-up.ci_high, -up.ci_low))
    assert down.direction == "unfavorable"
    assert down.improvement_index == pytest.approx(-up.improvement_index)


def test_significance_is_a_two_sided_z_test_when_no_p_is_reported():
    result = es.from_smd(value=0.3, se=0.1)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(3))
    assert result.significant
    assert result.direction == "favorable"
    z = stats.norm.ppf(0.975)
    assert (result.ci_low, result.ci_high) == pytest.approx((0.3 - z * 0.1, 0.3 + z * 0.1))


def test_a_reported_p_overrides_the_z_test():
    result = es.from_smd(value=0.3, se=0.1, reported_p=0.2)
    assert result.p_value == 0.2
    assert not result.significant
    assert result.direction == "null"


def test_a_non_significant_effect_has_null_direction():
    assert es.from_smd(value=-0.1, se=0.1).direction == "null"
    assert es.from_smd(value=-0.3, se=0.1).direction == "unfavorable"


def test_results_are_frozen_and_carry_the_conversion_version():
    result = es.from_smd(value=0.3, se=0.1)
    assert result.conversion_version == es.CONVERSION_VERSION
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.g = 1.0


# --- clustering ------------------------------------------------------------------------------


def test_cluster_correction_with_clusters_of_one_is_the_ordinary_two_sample_t_test():
    n_t = n_c = 30
    g, v, p = es.cluster_correction(g=0.5, n_t=n_t, n_c=n_c, icc=0.2, m=1)
    assert g == 0.5
    assert v == pytest.approx(1 / n_t + 1 / n_c + 0.25 / (2 * (n_t + n_c - 2)))
    t = 0.5 / math.sqrt(1 / n_t + 1 / n_c)
    assert p == pytest.approx(2 * stats.t.sf(t, n_t + n_c - 2))


def test_cluster_correction_with_zero_icc_changes_nothing_but_the_variance_form():
    g, v, p = es.cluster_correction(g=0.5, n_t=200, n_c=200, icc=0.0, m=20)
    assert g == 0.5
    t = 0.5 / math.sqrt(2 / 200)
    assert p == pytest.approx(2 * stats.t.sf(t, 398))


def test_cluster_correction_follows_hedges_2007_formulas():
    n_t, n_c, rho, m, g0 = 250, 250, 0.2, 25, 0.3
    big_n = n_t + n_c
    g, v, p = es.cluster_correction(g=g0, n_t=n_t, n_c=n_c, icc=rho, m=m)
    shrink = (big_n - 2) - 2 * (m - 1) * rho
    spread = (
        (big_n - 2) * (1 - rho) ** 2
        + m * (big_n - 2 * m) * rho**2
        + 2 * (big_n - 2 * m) * rho * (1 - rho)
    )
    assert g == pytest.approx(g0 * math.sqrt(1 - 2 * (m - 1) * rho / (big_n - 2)))
    assert v == pytest.approx(
        (1 / n_t + 1 / n_c) * (1 + (m - 1) * rho) + g**2 * spread / (2 * (big_n - 2) * shrink)
    )
    t = g0 / math.sqrt(1 / n_t + 1 / n_c)
    t_a = t * math.sqrt(shrink / ((big_n - 2) * (1 + (m - 1) * rho)))
    assert p == pytest.approx(2 * stats.t.sf(t_a, shrink**2 / spread))


def test_clustered_effects_are_less_significant_and_default_icc_depends_on_the_outcome():
    values = {**BORENSTEIN, "n_t": 500, "n_c": 500}
    naive = compute("means", values)
    achievement = compute("means", values, clustered=True, n_clusters=40)
    behaviour = compute(
        "means", values, clustered=True, n_clusters=40, outcome_is_achievement=False
    )
    explicit = compute("means", values, clustered=True, m=25, icc=0.2)
    assert achievement.p_value > behaviour.p_value > naive.p_value
    assert achievement.variance > behaviour.variance > naive.variance
    assert explicit == achievement
    assert achievement.conversion == "means_sd_hedges_exact_j+cluster_hedges2007"


def test_clustered_correction_supersedes_a_reported_p():
    result = compute(
        "smd", {"value": 0.3, "n_t": 300, "n_c": 300}, reported_p=0.001, clustered=True, m=30
    )
    assert result.p_value != 0.001


# --- dispatcher ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "values", "function"),
    [
        ("means", BORENSTEIN, es.from_means),
        ("t", {"t": 2.5, "n_t": 40, "n_c": 45}, es.from_t),
        ("f", {"f": 6.25, "n_t": 40, "n_c": 45, "sign": -1}, es.from_f),
        ("p", {"p": 0.03, "n_t": 40, "n_c": 45, "sign": 1}, es.from_p),
        ("odds_ratio", {"odds_ratio": 1.8, "se": 0.2, "method": "cox"}, es.from_odds_ratio),
        ("two_by_two", {"events_t": 12, "n_t": 50, "events_c": 7, "n_c": 50}, es.from_two_by_two),
        ("r", {"r": -0.2, "n": 80}, es.from_r),
        ("smd", {"value": 0.2, "se": 0.08}, es.from_smd),
        ("percentile_points", {"points": 8, "n_t": 60, "n_c": 60}, es.from_percentile_points),
    ],
)
def test_compute_dispatches_each_input_kind_to_its_converter(kind, values, function):
    assert compute(kind, values) == function(**values)
    assert compute(kind, values, higher_is_better=False).g == -function(**values).g


def test_compute_accepts_decimals_and_numeric_strings_and_ignores_none():
    stored = {"value": Decimal("0.30"), "se": "0.1", "variance": None}
    assert compute("smd", stored) == es.from_smd(value=0.3, se=0.1)


# --- validation ------------------------------------------------------------------------------

NAN = float("nan")
INF = float("inf")


@pytest.mark.parametrize(
    ("kind", "values", "field"),
    [
        ("means", {**BORENSTEIN, "sd_t": 0}, "sd_t"),
        ("means", {**BORENSTEIN, "sd_c": -1}, "sd_c"),
        ("means", {**BORENSTEIN, "n_t": 1}, "n_t"),
        ("means", {**BORENSTEIN, "n_c": 0}, "n_c"),
        ("means", {**BORENSTEIN, "mean_t": NAN}, "mean_t"),
        ("means", {**BORENSTEIN, "mean_c": INF}, "mean_c"),
        ("means", {**BORENSTEIN, "sd_t": None}, "sd_t"),
        ("means", {**BORENSTEIN, "sd_t": "abc"}, "sd_t"),
        ("means", {**BORENSTEIN, "extra": 1}, "extra"),
        ("t", {"t": 2.0, "n_t": 10}, "n_c"),
        ("t", {"t": INF, "n_t": 10, "n_c": 10}, "t"),
        ("f", {"f": -1, "n_t": 10, "n_c": 10, "sign": 1}, "f"),
        ("f", {"f": 4, "n_t": 10, "n_c": 10, "sign": 0}, "sign"),
        ("f", {"f": 4, "n_t": 10, "n_c": 10}, "sign"),
        ("p", {"p": 0, "n_t": 10, "n_c": 10, "sign": 1}, "p"),
        ("p", {"p": 1.5, "n_t": 10, "n_c": 10, "sign": 1}, "p"),
        ("odds_ratio", {"odds_ratio": 0, "se": 0.2}, "odds_ratio"),
        ("odds_ratio", {"odds_ratio": -2, "se": 0.2}, "odds_ratio"),
        ("odds_ratio", {"odds_ratio": 2}, "se"),
        ("odds_ratio", {"odds_ratio": 2, "se": 0}, "se"),
        ("odds_ratio", {"odds_ratio": 2, "variance": -0.1}, "variance"),
        ("odds_ratio", {"odds_ratio": 2, "ci_low": 2.5, "ci_high": 3.0}, "ci_low"),
        ("odds_ratio", {"odds_ratio": 2, "ci_low": 1.0, "ci_high": 1.5}, "ci_high"),
        ("odds_ratio", {"odds_ratio": 2, "ci_low": 1.0}, "ci_high"),
        ("odds_ratio", {"odds_ratio": 2, "se": 0.2, "method": "probit"}, "method"),
        ("two_by_two", {"events_t": 11, "n_t": 10, "events_c": 2, "n_c": 10}, "events_t"),
        ("two_by_two", {"events_t": 1, "n_t": 10, "events_c": -1, "n_c": 10}, "events_c"),
        ("r", {"r": 1.0, "n": 50}, "r"),
        ("r", {"r": -1.2, "n": 50}, "r"),
        ("r", {"r": 0.3, "n": 1}, "n"),
        ("smd", {"value": 0.3}, "se"),
        ("smd", {"value": 0.3, "se": 0}, "se"),
        ("smd", {"value": 0.3, "variance": 0}, "variance"),
        ("smd", {"value": 0.3, "ci_low": 0.4, "ci_high": 0.6}, "ci_low"),
        ("smd", {"value": 0.7, "ci_low": 0.4, "ci_high": 0.6}, "ci_high"),
        ("smd", {"value": 0.5, "ci_low": 0.6, "ci_high": 0.4}, "ci_high"),
        ("smd", {"value": 0.3, "n_t": 20}, "n_c"),
        ("smd", {"value": 0.3, "se": 0.1, "kind": "z"}, "kind"),
        ("smd", {"se": 0.1}, "value"),
        ("percentile_points", {"points": 50, "n_t": 10, "n_c": 10}, "points"),
        ("percentile_points", {"points": -50, "n_t": 10, "n_c": 10}, "points"),
    ],
)
def test_every_validation_error_names_its_field(kind, values, field):
    with pytest.raises(EffectSizeError) as excinfo:
        compute(kind, values)
    assert excinfo.value.field == field
    assert field in str(excinfo.value)


def test_sd_error_reads_as_a_plain_sentence():
    with pytest.raises(EffectSizeError, match="^sd_t must be greater than 0$"):
        es.from_means(**{**BORENSTEIN, "sd_t": 0})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"input_kind": "hazard_ratio", "values": {}}, "input_kind"),
        ({"input_kind": "smd", "values": {"value": 0.3, "se": 0.1}, "reported_p": 0}, "reported_p"),
        ({"input_kind": "smd", "values": {"value": 0.3, "se": 0.1}, "clustered": True}, "n_t"),
        ({"input_kind": "r", "values": {"r": 0.3, "n": 90}, "clustered": True, "m": 3}, "n_t"),
        (
            {
                "input_kind": "smd",
                "values": {"value": 0.3, "n_t": 50, "n_c": 50},
                "clustered": True,
            },
            "n_clusters",
        ),
        (
            {
                "input_kind": "smd",
                "values": {"value": 0.3, "n_t": 50, "n_c": 50},
                "clustered": True,
                "n_clusters": 1,
            },
            "n_clusters",
        ),
        (
            {
                "input_kind": "smd",
                "values": {"value": 0.3, "n_t": 50, "n_c": 50},
                "clustered": True,
                "m": 10,
                "icc": 1.0,
            },
            "icc",
        ),
        (
            {
                "input_kind": "smd",
                "values": {"value": 0.3, "n_t": 50, "n_c": 50},
                "clustered": True,
                "m": 60,
            },
            "m",
        ),
    ],
)
def test_dispatcher_and_cluster_errors_name_their_field(kwargs, field):
    input_kind = kwargs.pop("input_kind")
    values = kwargs.pop("values")
    with pytest.raises(EffectSizeError) as excinfo:
        compute(input_kind, values, **kwargs)
    assert excinfo.value.field == field

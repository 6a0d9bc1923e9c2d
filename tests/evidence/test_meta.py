"""Random-effects pooling (evidence/stats/meta.py) against metafor values and statsmodels."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from evidence.stats.effect_sizes import from_means
from evidence.stats.meta import (
    DEFAULT_MAX_ITER,
    METHODS,
    MetaAnalysisError,
    composite,
    estimate_tau2,
    pool,
    pool_many,
)

# No example database: keep test runs from writing files into the repository.
FAST = settings(max_examples=200, deadline=None, database=None)

# dat.bcg (Colditz et al. 1994) as shipped with metafor: tpos, tneg, cpos, cneg.
BCG = np.array(
    [
        [4, 119, 11, 128],
        [6, 300, 29, 274],
        [3, 228, 11, 209],
        [62, 13536, 248, 12619],
        [33, 5036, 47, 5761],
        [180, 1361, 372, 1079],
        [8, 2537, 10, 619],
        [505, 87886, 499, 87892],
        [29, 7470, 45, 7232],
        [17, 1699, 65, 1600],
        [186, 50448, 141, 27197],
        [5, 2493, 3, 2338],
        [27, 16886, 29, 17825],
    ],
    dtype=float,
)

# dat.normand1999: n1, m1, sd1, n2, m2, sd2.
NORMAND = [
    (155, 55, 47, 156, 75, 64),
    (31, 27, 7, 32, 29, 4),
    (75, 64, 17, 71, 119, 29),
    (18, 66, 20, 18, 137, 48),
    (8, 14, 8, 13, 18, 11),
    (57, 19, 7, 52, 18, 4),
    (34, 52, 45, 33, 41, 34),
    (110, 21, 16, 183, 31, 27),
    (60, 30, 27, 52, 23, 20),
]


def _bcg_log_rr():
    tpos, tneg, cpos, cneg = BCG.T
    yi = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    vi = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return yi, vi


def _normand_mean_differences():
    yi, vi = [], []
    for n1, m1, s1, n2, m2, s2 in NORMAND:
        pooled = ((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2)
        yi.append(m1 - m2)
        vi.append(pooled * (1 / n1 + 1 / n2))
    return yi, vi


# --- published metafor results -------------------------------------------------------------


def test_bcg_reml_matches_metafor():
    result = pool(*_bcg_log_rr())
    assert result.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert result.se == pytest.approx(0.1798, abs=5e-5)
    assert (result.ci_low, result.ci_high) == pytest.approx((-1.0669, -0.3622), abs=5e-5)
    assert result.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert result.i2 == pytest.approx(92.22, abs=5e-3)
    assert result.h2 == pytest.approx(12.86, abs=5e-3)
    assert result.q == pytest.approx(152.2330, abs=5e-5)
    assert result.q_df == 12
    assert result.converged


def test_bcg_dl_matches_metafor_and_stata_metan():
    result = pool(*_bcg_log_rr(), method="DL")
    assert result.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert (result.ci_low, result.ci_high) == pytest.approx((-1.0644, -0.3638), abs=5e-5)
    assert result.z_or_t == pytest.approx(-3.9952, abs=5e-5)
    assert result.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert result.i2 == pytest.approx(92.1173, abs=5e-5)


def test_bcg_fixed_effect_matches_metafor_and_stata_metan():
    result = pool(*_bcg_log_rr(), method="FE")
    assert result.estimate == pytest.approx(-0.4303, abs=5e-5)
    assert (result.ci_low, result.ci_high) == pytest.approx((-0.5097, -0.3509), abs=5e-5)
    assert result.z_or_t == pytest.approx(-10.6247, abs=5e-5)
    assert result.tau2 == 0


def test_bcg_paule_mandel_matches_metafor_iterated_dl():
    # metafor's own tests: DLIT (which converges to PM) gives 0.3181 on dat.bcg.
    assert pool(*_bcg_log_rr(), method="PM").tau2 == pytest.approx(0.3181, abs=5e-5)


def test_bcg_knapp_hartung_matches_metafor_test_knha():
    result = pool(*_bcg_log_rr(), ci_method="hksj")
    assert result.se == pytest.approx(0.1808, abs=5e-5)
    assert result.z_or_t == pytest.approx(-3.9522, abs=5e-5)
    assert result.p_value == pytest.approx(0.0019, abs=5e-5)
    assert (result.ci_low, result.ci_high) == pytest.approx((-1.1084, -0.3206), abs=5e-5)


def test_normand1999_mean_differences_match_table_ix():
    yi, vi = _normand_mean_differences()
    fe = pool(yi, vi, method="FE")
    assert (round(fe.estimate, 2), round(fe.ci_low, 2), round(fe.ci_high, 2)) == (
        -3.49,
        -5.03,
        -1.96,
    )
    dl = pool(yi, vi, method="DL")
    assert (round(dl.estimate, 2), round(dl.ci_low, 2), round(dl.ci_high, 2)) == (
        -14.10,
        -24.45,
        -3.75,
    )
    assert round(dl.tau2, 2) == 218.72
    reml = pool(yi, vi)
    assert (round(reml.estimate, 2), round(reml.ci_low, 2), round(reml.ci_high, 2)) == (
        -15.12,
        -32.67,
        2.43,
    )
    assert round(reml.tau2, 2) == 685.20


def test_normand1999_smds_pool_to_metafor_reml_tau2():
    # metafor: rma(measure="SMD", ..., data=dat.normand1999, subset=1:4) gives tau2 = 1.0090.
    effects = [
        from_means(mean_t=m1, sd_t=s1, n_t=n1, mean_c=m2, sd_c=s2, n_c=n2)
        for n1, m1, s1, n2, m2, s2 in NORMAND[:4]
    ]
    result = pool([e.g for e in effects], [e.variance for e in effects])
    assert result.tau2 == pytest.approx(1.0090, abs=5e-5)


# --- against statsmodels -------------------------------------------------------------------


@st.composite
def datasets(draw, min_k=2, max_k=25):
    k = draw(st.integers(min_k, max_k))
    spread = draw(st.floats(0.0, 2.0))
    yi = draw(st.lists(st.floats(-1.0, 1.0), min_size=k, max_size=k))
    vi = draw(st.lists(st.floats(1e-3, 1.0), min_size=k, max_size=k))
    return np.array(yi) * spread, np.array(vi)


@FAST
@given(datasets())
def test_dl_matches_statsmodels_combine_effects(data):
    yi, vi = data
    ours = pool(yi, vi, method="DL")
    with np.errstate(all="ignore"):  # statsmodels divides by v + tau2 with an untruncated tau2
        theirs = combine_effects(yi, vi, method_re="dl")
    if theirs.tau2 >= 0:
        assert ours.tau2 == pytest.approx(theirs.tau2, abs=1e-8)
        assert ours.estimate == pytest.approx(theirs.mean_effect_re, abs=1e-8)
    else:
        # statsmodels does not truncate DL at zero; metafor (and we) do.
        assert ours.tau2 == 0
        assert ours.estimate == pytest.approx(theirs.mean_effect_fe, abs=1e-8)
    assert ours.q == pytest.approx(theirs.q, rel=1e-9, abs=1e-9)


def _paule_mandel_excess(yi, vi, tau2):
    w = 1 / (vi + tau2)
    mu = w.dot(yi) / w.sum()
    return w.dot((yi - mu) ** 2) - (len(yi) - 1)


@FAST
@given(datasets())
def test_pm_matches_statsmodels_combine_effects(data):
    yi, vi = data
    ours = pool(yi, vi, method="PM")
    with np.errstate(all="ignore"):  # statsmodels' I2 divides by zero when tau2 = 0
        theirs = combine_effects(yi, vi, method_re="pm", atol=1e-10, maxiter=1000)
    statsmodels_quirk = theirs.tau2 == 0 and _paule_mandel_excess(yi, vi, 0.0) > 1e-9
    if statsmodels_quirk:
        # statsmodels' Newton iteration sets tau2 = 0 when rounding makes its estimating equation
        # -1e-15 at the root; there, check that ours solves that same equation instead.
        assert _paule_mandel_excess(yi, vi, ours.tau2) == pytest.approx(0, abs=1e-8)
        return
    assert ours.tau2 == pytest.approx(theirs.tau2, abs=1e-8)
    assert ours.estimate == pytest.approx(theirs.mean_effect_re, abs=1e-8)


# --- REML and ML -----------------------------------------------------------------------------


def _score_and_information(yi, vi, tau2, reml):
    """Score of the (restricted) log-likelihood in tau2 and Fisher information, by matrices."""
    w = 1 / (vi + tau2)
    big_w = np.diag(w)
    p = big_w - np.outer(w, w) / w.sum()
    if reml:
        score = 0.5 * (yi @ p @ p @ yi - np.trace(p))
        information = 0.5 * np.trace(p @ p)
    else:
        mu = w.dot(yi) / w.sum()
        score = 0.5 * (np.sum(w**2 * (yi - mu) ** 2) - w.sum())
        information = 0.5 * np.sum(w**2)
    return score, information


@pytest.mark.parametrize("method", ["REML", "ML"])
@FAST
@given(data=datasets())
def test_likelihood_estimators_solve_the_score_equation_or_sit_at_zero_with_non_positive_score(
    method, data
):
    yi, vi = data
    result = pool(yi, vi, method=method)
    score, information = _score_and_information(yi, vi, result.tau2, method == "REML")
    if result.tau2 > 0:
        # A Fisher step from the answer would move it by less than 1e-9.
        assert abs(score / information) < 1e-9 * max(1.0, result.tau2)
    else:
        assert score <= 1e-9 * information


def _reml_fixed_point_map(yi, vi, tau2):
    """One step of REML's fixed-point form: sum w^2((y-mu)^2 - v)/sum w^2 + 1/sum w, at >= 0."""
    w = 1 / (vi + tau2)
    mu = w.dot(yi) / w.sum()
    return max(0.0, np.sum(w**2 * ((yi - mu) ** 2 - vi)) / np.sum(w**2) + 1 / w.sum())


def _reml_fixed_point(yi, vi, start, mode="plain", tol=1e-14, max_iter=20_000):
    """Iterate the REML fixed-point map from ``start``; None unless it settles on a fixed point.

    The plain map can cycle between two values (then ``mode="damped"`` halves each step) or
    crawl (contraction rate 0.9996 with one very precise study; then ``mode="aitken"``
    extrapolates, though only away from the truncation at 0, whose kink would mislead it).
    """
    tau2 = start
    for _ in range(max_iter):
        once = _reml_fixed_point_map(yi, vi, tau2)
        new = once
        if mode == "damped":
            new = 0.5 * (tau2 + once)
        elif mode == "aitken":
            twice = _reml_fixed_point_map(yi, vi, once)
            curvature = twice - 2 * once + tau2
            new = twice
            if curvature != 0 and once > 0 and twice > 0:
                new = max(0.0, tau2 - (once - tau2) ** 2 / curvature)
        if abs(new - tau2) < tol * max(1.0, tau2):
            settled = abs(_reml_fixed_point_map(yi, vi, new) - new) < 1e-10 * max(1.0, new)
            return new if settled else None
        tau2 = new
    return None


def _reml_log_likelihood(yi, vi, tau2):
    w = 1 / (vi + tau2)
    mu = w.dot(yi) / w.sum()
    return -0.5 * (np.sum(np.log(vi + tau2)) + np.log(w.sum()) + np.sum(w * (yi - mu) ** 2))


@FAST
@given(datasets(max_k=15))
def test_reml_fisher_scoring_agrees_with_the_reml_fixed_point_iteration(data):
    yi, vi = data
    # The restricted likelihood can have a local maximum at 0 besides an interior one, so run
    # the fixed point from both ends and a middle start and keep the best likelihood.
    starts = (0.0, float(np.var(yi)), 10.0 * float(np.ptp(yi)) ** 2 + 1.0)
    candidates = []
    for start in starts:
        for mode in ("plain", "damped", "aitken"):
            tau2 = _reml_fixed_point(yi, vi, start, mode=mode)
            if tau2 is not None:
                candidates.append(tau2)
                break
    assert candidates
    best = max(candidates, key=lambda tau2: _reml_log_likelihood(yi, vi, tau2))
    assert pool(yi, vi).tau2 == pytest.approx(best, abs=1e-7)


def test_reml_prefers_the_interior_maximum_when_zero_is_only_a_local_one():
    # Found by random search: the restricted likelihood has a boundary maximum at 0
    # (score < 0 there) and a higher interior one near 0.3045.
    yi = np.array(
        [-0.7566, -0.6872, -1.3856, 0.2537, -1.0553, 0.2998, -0.6609, 1.5429, -1.5280, -1.3381]
    )
    vi = np.array([0.0463, 0.7984, 0.1881, 0.7812, 0.9968, 0.5764, 0.0162, 0.5024, 0.9364, 0.4745])
    score_at_zero, _ = _score_and_information(yi, vi, 0.0, reml=True)
    assert score_at_zero < 0
    tau2 = pool(yi, vi).tau2
    assert tau2 > 0.25
    assert _reml_log_likelihood(yi, vi, tau2) > _reml_log_likelihood(yi, vi, 0.0)
    assert tau2 == pytest.approx(_reml_fixed_point(yi, vi, 1.0, mode="aitken"), abs=1e-7)


def test_reml_finds_the_higher_interior_maximum_that_scoring_from_a_zero_start_misses():
    # The Hedges start is 0 and the score there is negative, so metafor's scoring stops at 0;
    # the restricted likelihood is nevertheless far higher (by ~1) at tau2 = 0.222.
    yi = np.array([-0.0724, -0.7125, 0.6986, 0.0711, -0.6417, 0.5062, -0.8683, 0.7425, 0.4007])
    vi = np.array([0.621, 0.321, 0.011, 0.881, 0.701, 0.821, 0.691, 0.011, 0.601])
    assert max(0.0, np.var(yi, ddof=1) - vi.mean()) == 0
    assert _score_and_information(yi, vi, 0.0, reml=True)[0] < 0
    tau2 = pool(yi, vi).tau2
    assert tau2 == pytest.approx(0.2220, abs=1e-4)
    assert _reml_log_likelihood(yi, vi, tau2) > _reml_log_likelihood(yi, vi, 0.0) + 0.9


def test_reml_falls_back_to_a_bracketed_root_when_scoring_runs_out_of_iterations():
    yi, vi = _bcg_log_rr()
    full = pool(yi, vi)
    capped = pool(yi, vi, max_iter=1)
    assert capped.tau2 == pytest.approx(full.tau2, abs=1e-10)
    assert capped.converged


def test_hedges_estimator_is_the_unweighted_method_of_moments():
    yi, vi = _bcg_log_rr()
    expected = max(0.0, np.var(yi, ddof=1) - vi.mean())
    assert pool(yi, vi, method="HE").tau2 == pytest.approx(expected, rel=1e-12)


# --- intervals, heterogeneity, conventions ---------------------------------------------------


def test_hksj_uses_t_on_k_minus_one_df_with_an_untruncated_scale():
    yi = np.array([0.10, 0.12, 0.11, 0.13])  # far less spread than the variances imply
    vi = np.array([0.04, 0.05, 0.03, 0.06])
    wald = pool(yi, vi, method="DL")
    hksj = pool(yi, vi, method="DL", ci_method="hksj")
    w = 1 / (vi + wald.tau2)
    q = np.sum(w * (yi - wald.estimate) ** 2) / 3
    assert q < 1
    assert hksj.se == pytest.approx(wald.se * math.sqrt(q))  # no max(1, q)
    crit = stats.t.ppf(0.975, 3)
    assert hksj.ci_high - hksj.estimate == pytest.approx(crit * hksj.se)
    assert hksj.p_value == pytest.approx(2 * stats.t.sf(abs(hksj.z_or_t), 3))
    assert hksj.pi_high - hksj.estimate == pytest.approx(crit * math.sqrt(hksj.se**2 + hksj.tau2))


def test_wald_prediction_interval_adds_tau2_to_the_squared_se():
    result = pool(*_bcg_log_rr())
    z = stats.norm.ppf(0.975)
    half = z * math.sqrt(result.se**2 + result.tau2)
    assert (result.pi_low, result.pi_high) == pytest.approx(
        (result.estimate - half, result.estimate + half)
    )
    assert result.tau == pytest.approx(math.sqrt(result.tau2))


def test_i2_and_h2_use_metafor_typical_within_study_variance():
    yi, vi = _bcg_log_rr()
    result = pool(yi, vi, method="REML")
    w = 1 / vi
    typical = (len(yi) - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2))
    assert result.i2 == pytest.approx(100 * result.tau2 / (result.tau2 + typical))
    assert result.h2 == pytest.approx((result.tau2 + typical) / typical)
    assert result.q_p == pytest.approx(stats.chi2.sf(result.q, len(yi) - 1))


def test_fixed_effect_has_zero_tau2_and_q_based_i2_and_h2():
    yi, vi = _bcg_log_rr()
    result = pool(yi, vi, method="FE")
    assert result.tau2 == 0
    assert result.tau == 0
    assert result.i2 == pytest.approx(100 * (result.q - 12) / result.q)
    assert result.h2 == pytest.approx(result.q / 12)
    assert (result.pi_low, result.pi_high) == (result.ci_low, result.ci_high)


def test_a_narrower_level_gives_a_narrower_interval():
    yi, vi = _bcg_log_rr()
    assert pool(yi, vi, level=0.90).ci_high < pool(yi, vi).ci_high


def test_one_study_reports_its_own_effect_without_tau2():
    result = pool([0.4], [0.04], method="REML", ci_method="hksj")
    assert result.k == 1
    assert result.estimate == 0.4
    assert result.se == pytest.approx(0.2)
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (0.4 - 1.959964 * 0.2, 0.4 + 1.959964 * 0.2)
    )
    assert result.tau2 is None and result.i2 is None and result.h2 is None and result.q is None
    assert result.pi_low is None and result.pi_high is None


def test_no_studies_means_nothing_to_pool():
    assert pool([], []) is None


# --- edge cases ------------------------------------------------------------------------------


def _all_finite(result):
    numbers = [
        result.estimate,
        result.se,
        result.ci_low,
        result.ci_high,
        result.z_or_t,
        result.p_value,
        result.pi_low,
        result.pi_high,
        result.tau2,
        result.tau,
        result.i2,
        result.h2,
        result.q,
        result.q_p,
    ]
    return all(isinstance(x, float) and math.isfinite(x) for x in numbers)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ci_method", ["wald", "hksj"])
def test_two_studies_give_finite_results(method, ci_method):
    result = pool([0.1, 0.6], [0.02, 0.03], method=method, ci_method=ci_method)
    assert result.k == 2
    assert _all_finite(result)


@pytest.mark.parametrize("method", METHODS)
def test_identical_effects_give_zero_tau2_and_zero_i2(method):
    result = pool([0.3] * 5, [0.01, 0.02, 0.03, 0.04, 0.05], method=method)
    assert result.tau2 == 0
    assert result.i2 == 0
    assert result.estimate == pytest.approx(0.3)
    assert _all_finite(result)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ci_method", ["wald", "hksj"])
def test_one_extremely_precise_study_among_others_gives_finite_results(method, ci_method):
    yi = [0.2, 0.5, -0.1, 0.9, 0.4]
    vi = [1e-8, 0.05, 0.02, 0.08, 0.04]
    result = pool(yi, vi, method=method, ci_method=ci_method)
    assert _all_finite(result)
    assert result.tau2 >= 0
    assert result.i2 >= 0


@pytest.mark.parametrize("method", METHODS)
def test_tiny_variances_everywhere_give_finite_results(method):
    yi = [0.2, 0.2 + 1e-6, 0.2 - 2e-6, 0.2 + 3e-6]
    vi = [1e-12, 2e-12, 3e-12, 1e-12]
    result = pool(yi, vi, method=method)
    assert _all_finite(result)
    assert result.tau2 > 0 or method == "FE"


@pytest.mark.parametrize("method", METHODS)
def test_huge_k_gives_finite_results(method):
    rng = np.random.default_rng(20240501)
    k = 5000
    vi = rng.uniform(0.005, 0.2, k)
    yi = rng.normal(0.25, np.sqrt(vi + 0.04))
    result = pool(yi, vi, method=method)
    assert _all_finite(result)
    if method != "FE":
        assert result.tau2 == pytest.approx(0.04, abs=0.01)


@FAST
@given(
    data=datasets(), method=st.sampled_from(METHODS), ci_method=st.sampled_from(["wald", "hksj"])
)
def test_pooling_never_returns_nan(data, method, ci_method):
    yi, vi = data
    result = pool(yi, vi, method=method, ci_method=ci_method)
    hksj_degenerate = ci_method == "hksj" and result.se == 0
    assert hksj_degenerate or _all_finite(result)
    assert result.tau2 >= 0


def test_tau2_estimates_do_not_depend_on_the_scale_of_the_data():
    yi, vi = _bcg_log_rr()
    for method in METHODS:
        tau2, _, _ = estimate_tau2(yi, vi, method)
        scaled, _, _ = estimate_tau2(yi * 10, vi * 100, method)
        assert scaled == pytest.approx(100 * tau2, rel=1e-8, abs=1e-12)


# Data that exercise every path: k = 2, τ² at 0, one huge study, identical effects, a second
# likelihood maximum (scoring from 0 misses it), scoring that runs out of steps.
_HARD_CASES = [
    ([0.1, 0.6], [0.02, 0.03]),
    ([0.3] * 5, [0.01, 0.02, 0.03, 0.04, 0.05]),
    ([0.2, 0.5, -0.1, 0.9, 0.4], [1e-8, 0.05, 0.02, 0.08, 0.04]),
    ([0.2, 0.2 + 1e-6, 0.2 - 2e-6, 0.2 + 3e-6], [1e-12, 2e-12, 3e-12, 1e-12]),
    (
        [-0.0724, -0.7125, 0.6986, 0.0711, -0.6417, 0.5062, -0.8683, 0.7425, 0.4007],
        [0.621, 0.321, 0.011, 0.881, 0.701, 0.821, 0.691, 0.011, 0.601],
    ),
    ([0.4], [0.04]),
    ([], []),
    _bcg_log_rr(),
]


def _same_pooling(batched, alone):
    if alone is None:
        assert batched is None
        return
    assert (batched.k, batched.converged, batched.ci_method) == (
        alone.k,
        alone.converged,
        alone.ci_method,
    )
    for name in ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "q", "i2", "h2"):
        expected = getattr(alone, name)
        assert getattr(batched, name) == (
            None if expected is None else pytest.approx(expected, rel=1e-10, abs=1e-14)
        )
    expected_tau2 = None if alone.tau2 is None else pytest.approx(alone.tau2, rel=1e-8, abs=1e-14)
    assert batched.tau2 == expected_tau2


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ci_method", ["wald", "hksj"])
@pytest.mark.parametrize("max_iter", [DEFAULT_MAX_ITER, 1])
def test_pooling_many_groups_at_once_gives_each_group_its_own_pooling(method, ci_method, max_iter):
    settings_ = {"method": method, "ci_method": ci_method, "max_iter": max_iter}
    batched = pool_many(_HARD_CASES, **settings_)
    for result, (yi, vi) in zip(batched, _HARD_CASES, strict=True):
        _same_pooling(result, pool(yi, vi, **settings_))


@FAST
@given(
    groups=st.lists(datasets(min_k=2, max_k=40), min_size=1, max_size=12),
    method=st.sampled_from(["REML", "ML"]),
)
def test_pooling_many_random_groups_at_once_gives_each_group_its_own_pooling(groups, method):
    for result, (yi, vi) in zip(pool_many(groups, method=method), groups, strict=True):
        _same_pooling(result, pool(yi, vi, method=method))


@pytest.mark.parametrize(
    ("yi", "vi", "kwargs"),
    [
        ([0.1, 0.2], [0.1], {}),
        ([0.1, 0.2], [0.1, 0.0], {}),
        ([0.1, float("nan")], [0.1, 0.1], {}),
        ([0.1, 0.2], [0.1, 0.1], {"method": "SJ"}),
        ([0.1, 0.2], [0.1, 0.1], {"ci_method": "profile"}),
        ([0.1, 0.2], [0.1, 0.1], {"level": 95}),
    ],
)
def test_unpoolable_input_is_rejected(yi, vi, kwargs):
    with pytest.raises(MetaAnalysisError):
        pool(yi, vi, **kwargs)


# --- composites ------------------------------------------------------------------------------


def test_composite_averages_effects_with_correlated_variance():
    effects = [(0.2, 0.04), (0.4, 0.09)]
    g, v = composite(effects, rho=0.5)
    assert g == pytest.approx(0.3)
    assert v == pytest.approx((0.04 + 0.09 + 2 * 0.5 * 0.2 * 0.3) / 4)


def test_composite_with_perfect_correlation_has_the_mean_sd_squared():
    g, v = composite([(0.2, 0.04), (0.4, 0.09), (0.1, 0.01)], rho=1.0)
    assert v == pytest.approx(((0.2 + 0.3 + 0.1) / 3) ** 2)


def test_composite_of_one_effect_is_that_effect():
    assert composite([(0.35, 0.02)]) == pytest.approx((0.35, 0.02))


def test_composite_accepts_a_full_correlation_matrix():
    effects = [(0.2, 0.04), (0.4, 0.09), (0.1, 0.01)]
    matrix = [[1, 0.5, 0.5], [0.5, 1, 0.5], [0.5, 0.5, 1]]
    assert composite(effects, rho=matrix) == pytest.approx(composite(effects, rho=0.5))
    with pytest.raises(MetaAnalysisError):
        composite(effects, rho=[[1, 0.5], [0.5, 1]])
    with pytest.raises(MetaAnalysisError):
        composite([])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-2, 2), st.floats(1e-4, 1.0)), min_size=2, max_size=40),
    st.booleans(),
)
def test_the_vectorised_score_scan_matches_the_score_at_every_grid_point(data, reml):
    # The search for other likelihood maxima scans the score on a grid in one array operation.
    from evidence.stats.meta import _score_times_two, _scores_on_grid, _Studies

    studies = _Studies.of(*(np.array(col) for col in zip(*data, strict=True)))
    grid = np.concatenate(([0.0], np.geomspace(1e-5, 10.0, 30)))
    expected = [_score_times_two(studies, float(t), reml) for t in grid]
    np.testing.assert_allclose(
        _scores_on_grid(studies, grid[np.newaxis], reml).scores[0],
        expected,
        rtol=1e-9,
        atol=1e-9 * max(map(abs, expected)),
    )


@pytest.mark.parametrize("reml", [True, False])
def test_the_score_scan_takes_the_exact_score_where_its_expanded_sums_leave_the_sign_unsure(reml):
    # The scan expands Σw²(y − μ)² into sums that can cancel; at the score's own root its value
    # is rounding noise, so there it must fall back to the scalar form and agree with it exactly.
    from evidence.stats.meta import _score_times_two, _scores_on_grid, _Studies

    yi, vi = _bcg_log_rr()
    studies = _Studies.of(yi - yi.mean(), vi)
    root = optimize.brentq(
        lambda tau2: _score_times_two(studies, tau2, reml), 0.01, 10.0, xtol=1e-300, rtol=1e-15
    )
    grid = np.array([0.0, 0.5 * root, root, 2.0 * root])
    scores = _scores_on_grid(studies, grid[np.newaxis], reml).scores[0]
    assert scores[2] == _score_times_two(studies, root, reml)
    assert scores[1] > 0 > scores[3]


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(st.tuples(st.floats(-2, 2), st.floats(1e-4, 1.0)), min_size=2, max_size=40),
    st.booleans(),
)
def test_the_sparing_score_scan_finds_the_signs_of_the_full_scan(data, reml):
    # It skips grid points whose sign bounds prove.
    from evidence.stats.meta import _positive_scores, _scores_on_grid, _Studies

    studies = _Studies.of(*(np.array(col) for col in zip(*data, strict=True)))
    grid = np.concatenate(([0.0], np.geomspace(1e-5, 10.0, 96)))
    full = _scores_on_grid(studies, grid[np.newaxis], reml).scores[0] > 0
    positive = _positive_scores(studies, grid[np.newaxis], reml)[0]
    np.testing.assert_array_equal(positive, full)

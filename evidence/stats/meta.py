"""Random-effects pooling of one effect per study, following metafor's ``rma.uni`` conventions.

Estimators of the between-study variance τ²: REML (default), ML, DL, PM (Paule-Mandel), HE (Hedges)
and FE (τ² fixed at 0). Given τ², the pooled effect is μ = Σw*y/Σw* with w* = 1/(v + τ²) and
SE = √(1/Σw*); the CI is Wald (z) or Knapp-Hartung / HKSJ (SE·√q on k−1 df, q not truncated).
Heterogeneity (Q, I², H²) is reported as metafor reports it (see :func:`pool`).

REML and ML use metafor's Fisher scoring from the Hedges estimate. Its answer is kept unless the
likelihood has another local maximum with a higher value (possible with very uneven variances,
where metafor itself may stop at the lower one); see ``_best_maximum``.

Sums that cancel badly when one study dominates the weights (Σw − Σw²/Σw and its relatives) are
computed with the most precise study's term held apart, in algebraically equivalent forms whose
subtractions cannot cancel, and τ² is estimated on data rescaled so that the largest weight is at
most 1; all estimators are equivariant under that rescaling, so the results are unchanged while a
study with variance 1e-8 cannot overflow them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

METHODS = ("REML", "DL", "PM", "ML", "HE", "FE")
CI_METHODS = ("wald", "hksj")

# Convergence of the iterative τ² estimators: |Δτ²| below this (relative once τ² exceeds 1).
TAU2_TOL = 1e-10
DEFAULT_MAX_ITER = 1000
# metafor sets the Knapp-Hartung scale to 0 when its residual sum is at rounding level.
_EPS = float(np.finfo(float).eps)


class MetaAnalysisError(ValueError):
    """The effects handed to the pooling cannot be pooled (bad lengths, variances, settings)."""


@dataclass(frozen=True)
class PooledResult:
    """A pooled effect with its interval, heterogeneity and estimator bookkeeping.

    ``converged``/``iterations`` describe the τ² estimator: Fisher-scoring steps for REML/ML
    (plus Brent steps if scoring had to fall back), Brent steps for PM, 0 for closed forms.
    """

    method: str
    ci_method: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z_or_t: float
    p_value: float
    pi_low: float | None
    pi_high: float | None
    tau2: float | None
    tau: float | None
    i2: float | None
    h2: float | None
    q: float | None
    q_df: int | None
    q_p: float | None
    converged: bool
    iterations: int


# ---------------------------------------------------------------------------------------------
# Numerically careful building blocks
# ---------------------------------------------------------------------------------------------


class _Studies(NamedTuple):
    """Effects and variances, with the most precise study also held apart from the others.

    That study has the largest weight 1/(v + τ²) at every τ² (w falls as v grows), and a sum
    over "every study but one" cancels badly only when the one left out is the largest. Holding
    it apart once lets all such sums be taken directly, as sums over ``y_rest``/``v_rest``.
    (A NamedTuple: one is built per pooling, and a frozen dataclass's __init__ costs ~8 µs.)
    """

    y: np.ndarray
    v: np.ndarray
    y_top: float
    v_top: float
    y_rest: np.ndarray
    v_rest: np.ndarray

    @classmethod
    def of(cls, y: np.ndarray, v: np.ndarray) -> _Studies:
        top = int(np.argmin(v))
        return cls(
            y=y,
            v=v,
            y_top=float(y[top]),
            v_top=float(v[top]),
            y_rest=np.concatenate((y[:top], y[top + 1 :])),
            v_rest=np.concatenate((v[:top], v[top + 1 :])),
        )


def _trace_p(w_top, sum_rest, sum_sq_rest):
    """tr(P) = Σw − Σw²/Σw for an intercept-only model, as a sum of positive terms.

    From the largest weight and the other weights' Σ' and Σ'w² (floats, or arrays of them):
    (w_top·Σ' + Σ·Σ' − Σ'w²)/Σ. Each other weight is at most Σ/2, so Σ'w² ≤ Σ·Σ'/2 and the one
    subtraction cannot cancel.
    """
    total = w_top + sum_rest
    return (w_top * sum_rest + total * sum_rest - sum_sq_rest) / total


def _trace_pp(w_top, sum_rest, sum_sq_rest, sum_cube_rest):
    """tr(PP) for an intercept-only model, P = W − ww'/Σw, from the same split sums as tr(P).

    Σ_i w_i²((Σ_{j≠i} w_j)² + Σ_{j≠i} w_j²)/Σ², expanded over the other weights. Its one
    subtraction, Σ²Σ'w² − 2ΣΣ'w³, is of a term at most as large as the first (each other weight
    is at most Σ/2), and when they nearly cancel the positive terms are of the same size, so
    only a few bits are lost (and the information only sizes a scoring step).
    """
    total = w_top + sum_rest
    sum_sq = w_top * w_top + sum_sq_rest
    top_term = w_top * w_top * (sum_rest * sum_rest + sum_sq_rest)
    rest_terms = total * (total * sum_sq_rest - 2.0 * sum_cube_rest) + sum_sq * sum_sq_rest
    return (top_term + rest_terms) / (total * total)


def _weighted_mean(y: np.ndarray, w: np.ndarray) -> float:
    return float((w @ y) / w.sum())


def _generalised_q(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Σw*(y − μ*)² at a given τ²; Paule-Mandel sets this to k − 1."""
    w = 1.0 / (v + tau2)
    r = y - _weighted_mean(y, w)
    return float(w @ (r * r))


def _fixed_effect_trace_p(studies: _Studies) -> float:
    """tr(P) at τ² = 0, i.e. Σw − Σw²/Σw with w = 1/v."""
    w = 1.0 / studies.v_rest
    return float(_trace_p(1.0 / studies.v_top, w.sum(), w @ w))


def _score_and_information(studies: _Studies, tau2: float, reml: bool) -> tuple[float, float]:
    """Twice the (restricted) log-likelihood score in τ² and twice the Fisher information.

    REML: Σw²r² − tr P and tr(PP); ML: Σw²r² − Σw and Σw² (w = 1/(v + τ²), r = y − μ).
    """
    w_top = 1.0 / (studies.v_top + tau2)
    w = 1.0 / (studies.v_rest + tau2)
    sum_rest = w.sum()
    sum_sq_rest = w @ w
    mean = (w_top * studies.y_top + w @ studies.y_rest) / (w_top + sum_rest)
    wr = w * (studies.y_rest - mean)
    fitted = (w_top * (studies.y_top - mean)) ** 2 + wr @ wr
    if reml:
        score = fitted - _trace_p(w_top, sum_rest, sum_sq_rest)
        information = _trace_pp(w_top, sum_rest, sum_sq_rest, (w * w) @ w)
    else:
        score = fitted - (w_top + sum_rest)
        information = w_top * w_top + sum_sq_rest
    return float(score), float(information)


def _score_times_two(studies: _Studies, tau2: float, reml: bool) -> float:
    """Twice the (restricted) log-likelihood score in τ²."""
    return _score_and_information(studies, tau2, reml)[0]


class _GridScores(NamedTuple):
    """Twice the score at several τ², with bounds on its two terms that rounding cannot breach."""

    scores: np.ndarray  # as _score_times_two gives them, to the sign at least
    fitted_low: np.ndarray  # Σw²r² = y'PPy lies in [fitted_low, fitted_high]
    fitted_high: np.ndarray
    penalty_low: np.ndarray  # tr P (REML) or Σw (ML) in [penalty_low, penalty_high]
    penalty_high: np.ndarray


def _scores_on_grid(studies: _Studies, taus: np.ndarray, reml: bool) -> _GridScores:
    """:func:`_score_times_two` at every τ² of ``taus`` at once, to the sign at least.

    One row of weights per τ² (in chunks, so memory stays bounded for large k). With
    d = y − y_top and δ = μ − y_top, the score needs only Σw, Σwd, Σw², Σw²d and Σw²d² over the
    other studies: five matrix-vector products over W and W∘W, where the scalar form's dozen
    elementwise passes would each allocate a matrix. The fitted term is then expanded,
    Σw²r² = (w_top·δ)² + Σw²d² − 2δΣw²d + δ²Σw², which can cancel; so where a score is within
    the bound on its rounding error of 0 (its sign unsure), the exact scalar form replaces it.
    """
    d = studies.y_rest - studies.y_top
    d_squared = d * d
    ones = np.ones(d.size)
    sum_w, sum_wd, sum_w2, sum_w2d, sum_w2d2 = np.empty((5, taus.size))
    chunk = max(1, 2_000_000 // d.size)
    for start in range(0, taus.size, chunk):
        rows = slice(start, start + chunk)
        w = np.add.outer(taus[rows], studies.v_rest)
        # In place: a second matrix of this size would cost more (fresh pages) than the arithmetic.
        np.divide(1.0, w, out=w)
        sum_w[rows], sum_wd[rows] = w @ ones, w @ d
        np.multiply(w, w, out=w)
        sum_w2[rows], sum_w2d[rows], sum_w2d2[rows] = w @ ones, w @ d, w @ d_squared
    w_top = 1.0 / (studies.v_top + taus)
    total = w_top + sum_w
    delta = sum_wd / total
    fitted = (w_top * delta) ** 2 + sum_w2d2 - 2.0 * delta * sum_w2d + delta * delta * sum_w2
    penalty = _trace_p(w_top, sum_w, sum_w2) if reml else total
    # Each sum errs by at most about k·ε times the sum of its terms' moduli. With |d| ≤ max|d|
    # and |δ| ≤ max|d|·Σw/Σ, the error of the fitted term (δ's own included) is then at most
    # about 12·k·ε·max|d|²·(Σw² + (w_top·Σw/Σ)²), and the penalty's at most 4·k·ε times itself.
    d_max = float(np.abs(d).max())
    unit_error = 16.0 * (d.size + 10) * _EPS
    fitted_error = unit_error * d_max * d_max * (sum_w2 + (w_top * sum_w / total) ** 2)
    penalty_error = unit_error * penalty
    scores = fitted - penalty
    for i in np.flatnonzero(np.abs(scores) <= fitted_error + penalty_error):
        scores[i] = _score_times_two(studies, float(taus[i]), reml)
    return _GridScores(
        scores,
        fitted - fitted_error,
        fitted + fitted_error,
        penalty - penalty_error,
        penalty + penalty_error,
    )


# _positive_scores first takes the score at every this many grid points (and around the root).
_GRID_BLOCK = 8


def _positive_scores(studies: _Studies, grid: np.ndarray, reml: bool, root: float) -> np.ndarray:
    """Whether the score is positive at each τ² of the increasing ``grid``, computed sparingly.

    Both of the score's terms fall as τ² grows (dP/dτ² = −PP with P positive semi-definite, so
    y'PPy falls at the rate 2y'PPPy and tr P at tr(PP); so does Σw, for ML). On [a, b] the score
    therefore lies between Σw²r²(b) − tr P(a) and Σw²r²(a) − tr P(b), and where those bounds
    (rounding included) have one sign, so has the score at every grid point in between. So the
    score is computed at the ends of blocks of ``_GRID_BLOCK`` cells and throughout the blocks
    around ``root`` (scoring's answer, where its sign is expected to change); any other block
    the bounds do not settle is filled in afterwards. Every sign not computed is proven, so the
    result is that of computing the score at every point.
    """
    # Block b runs from grid point ends[b] to ends[b + 1]; block[i] is the one point i starts or
    # lies inside (the last point ends the last block).
    ends = np.r_[np.arange(0, grid.size - 1, _GRID_BLOCK), grid.size - 1]
    block = np.repeat(np.arange(ends.size - 1), np.diff(ends))
    computed = np.zeros(grid.size, dtype=bool)
    computed[ends] = True
    root_block = int(np.searchsorted(grid[ends], root)) - 1
    computed[ends[max(root_block - 1, 0)] : ends[min(root_block + 2, ends.size - 1)]] = True
    first_pass = np.flatnonzero(computed)
    first = _scores_on_grid(studies, grid[first_pass], reml)
    positive = np.zeros(grid.size, dtype=bool)
    positive[first_pass] = first.scores > 0
    starts, stops = np.searchsorted(first_pass, ends[:-1]), np.searchsorted(first_pass, ends[1:])
    surely_positive = first.fitted_low[stops] > first.penalty_high[starts]
    surely_negative = first.fitted_high[starts] < first.penalty_low[stops]
    positive[:-1] |= ~computed[:-1] & surely_positive[block]
    unsettled = np.flatnonzero(~computed[:-1] & ~(surely_positive | surely_negative)[block])
    if unsettled.size:
        positive[unsettled] = _scores_on_grid(studies, grid[unsettled], reml).scores > 0
    return positive


# ---------------------------------------------------------------------------------------------
# τ² estimators (all on rescaled data, see module docstring)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tau2:
    tau2: float
    converged: bool
    iterations: int


def _tau2_dl(studies: _Studies) -> _Tau2:
    """DerSimonian-Laird: (Q − (k−1)) / (Σw − Σw²/Σw), truncated at 0."""
    k = studies.y.size
    q = _generalised_q(studies.y, studies.v, 0.0)
    return _Tau2(max(0.0, (q - (k - 1)) / _fixed_effect_trace_p(studies)), True, 0)


def _tau2_he(studies: _Studies) -> _Tau2:
    """Hedges (unweighted method of moments): Σ(y − ȳ)²/(k−1) − mean(v), truncated at 0."""
    y, v = studies.y, studies.v
    ss = float(((y - y.mean()) ** 2).sum())
    return _Tau2(max(0.0, ss / (y.size - 1) - float(v.mean())), True, 0)


def _bracket_above(func, start: float) -> float:
    """A τ² where the decreasing estimating function ``func`` has turned non-positive."""
    hi = max(start, 1.0)
    for _ in range(2000):
        if func(hi) <= 0:
            return hi
        hi *= 2.0
    raise MetaAnalysisError("could not bracket tau2")  # pragma: no cover - needs inf data


def _tau2_pm(studies: _Studies) -> _Tau2:
    """Paule-Mandel: the τ² ≥ 0 at which the generalised Q equals k − 1 (0 if Q(0) < k − 1)."""
    y, v = studies.y, studies.v

    def excess(tau2: float) -> float:
        return _generalised_q(y, v, tau2) - (y.size - 1)

    if excess(0.0) <= 0:
        return _Tau2(0.0, True, 0)
    hi = _bracket_above(excess, _tau2_dl(studies).tau2)
    root, info = optimize.brentq(
        excess, 0.0, hi, xtol=1e-300, rtol=4 * _EPS, maxiter=1000, full_output=True
    )
    return _Tau2(float(root), bool(info.converged), int(info.iterations))


def _tau2_likelihood(studies: _Studies, *, reml: bool, max_iter: int) -> _Tau2:
    """REML or ML τ²: metafor's Fisher scoring, then a check that no better maximum exists."""
    found = _fisher_scoring(studies, reml=reml, max_iter=max_iter)
    return _best_maximum(studies, found, reml=reml)


def _fisher_scoring(studies: _Studies, *, reml: bool, max_iter: int) -> _Tau2:
    """Fisher scoring from the Hedges estimate, as metafor's ``rma.uni`` does.

    Step: Δ = score/information; REML: (Σw²r² − tr P)/tr(PP), ML: (Σw²r² − Σw)/Σw².
    A step that would cross 0 is halved until it does not (metafor's step-halving), except that
    when the score at 0 is itself non-positive the boundary solution τ² = 0 is taken directly,
    so that "no heterogeneity" comes out as exactly 0. Convergence: |Δτ²| < 1e-10 (relative
    above τ² = 1). If scoring does not converge in ``max_iter`` steps, the score's root is
    bracketed and found by Brent's method instead, so a usable estimate always comes back.
    """
    tau2 = _tau2_he(studies).tau2
    for iteration in range(1, max_iter + 1):
        score, information = _score_and_information(studies, tau2, reml)
        step = score / information
        if not math.isfinite(step):
            break
        if tau2 + step < 0:
            if tau2 == 0 or _score_times_two(studies, 0.0, reml) <= 0:
                return _Tau2(0.0, True, iteration)
            while tau2 + step < 0:
                step /= 2.0
        tau2 += step
        if abs(step) < TAU2_TOL * max(1.0, tau2):
            return _Tau2(tau2, True, iteration)
    return _likelihood_root(studies, reml=reml, start=tau2, iterations=max_iter)


def _log_likelihood(studies: _Studies, tau2: float, reml: bool) -> float:
    """(Restricted) log-likelihood of the random-effects model, up to a constant."""
    total = studies.v + tau2
    w = 1.0 / total
    r = studies.y - _weighted_mean(studies.y, w)
    ll = -0.5 * float(np.log(total).sum()) - 0.5 * float((w * r * r).sum())
    if reml:
        ll -= 0.5 * math.log(float(w.sum()))
    return ll


def _likelihood_root(studies: _Studies, *, reml: bool, start: float, iterations: int) -> _Tau2:
    """Fallback for REML/ML: bracket the score's root on [0, ∞) and solve it with Brent."""

    def score(tau2: float) -> float:
        return _score_times_two(studies, tau2, reml)

    if score(0.0) <= 0:
        return _Tau2(0.0, True, iterations)
    start = start if math.isfinite(start) and start > 0 else 1.0
    hi = _bracket_above(score, start)
    root, info = optimize.brentq(
        score, 0.0, hi, xtol=1e-300, rtol=4 * _EPS, maxiter=1000, full_output=True
    )
    return _Tau2(float(root), bool(info.converged), iterations + int(info.iterations))


# Where the interior points of _best_maximum's log grid sit between its ends, as powers of
# their ratio (np.geomspace would compute the same 96 points at ten times the cost).
_GRID_EXPONENTS = np.linspace(0.0, 1.0, 96)


def _best_maximum(studies: _Studies, found: _Tau2, *, reml: bool) -> _Tau2:
    """Replace the scoring answer by another local maximum only if its likelihood is higher.

    The (restricted) likelihood in τ² is usually unimodal, and then this returns ``found``
    untouched, i.e. exactly metafor's answer. With uneven variances it can have a maximum at 0
    and another inside, and scoring can then stop at the lower one or even at the minimum
    between them (metafor's ``ll0check`` only compares against 0, with a 1e-4 tolerance). So
    every local maximum is located, 0 when the score there is non-positive and each + to −
    sign change of the score on a log grid spanning the data's scale (refined by Brent), and
    the highest likelihood wins; a tie keeps ``found``.
    """

    def score(tau2: float) -> float:
        return _score_times_two(studies, tau2, reml)

    # Beyond a few times the total spread plus the largest variance the weights are nearly equal
    # and the likelihood has its single homoscedastic mode, so the grid need not go further.
    y = studies.y
    top = 4.0 * (float(((y - y.mean()) ** 2).sum()) + float(studies.v.max()))
    low = 1e-3 * studies.v_top
    grid = np.concatenate(([0.0], low * (top / low) ** _GRID_EXPONENTS))
    positive = _positive_scores(studies, grid, reml, found.tau2)
    # grid[0] is 0; it is a candidate unless it is scoring's own answer already.
    candidates = [0.0] if not positive[0] and found.tau2 != 0 else []
    for cell in np.flatnonzero(positive[:-1] & ~positive[1:]):
        lo, hi = float(grid[cell]), float(grid[cell + 1])
        # Scoring's own answer is a root in its cell already: refining it again changes nothing.
        # Otherwise the grid's signs are right, but brentq needs the scalar score's own, which
        # can differ at rounding level; such a cell has no maximum worth refining.
        if not lo <= found.tau2 <= hi and score(lo) > 0 >= score(hi):
            candidates.append(float(optimize.brentq(score, lo, hi, xtol=1e-300, rtol=4 * _EPS)))
    if not candidates:
        return found
    best_ll = _log_likelihood(studies, found.tau2, reml)
    best = found
    for tau2 in candidates:
        ll = _log_likelihood(studies, tau2, reml)
        # Same maximum found twice differs only by rounding; demand a real improvement.
        if ll > best_ll + 1e-9 * max(1.0, abs(best_ll)):
            best, best_ll = _Tau2(tau2, True, found.iterations), ll
    return best


def estimate_tau2(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    method: str = "REML",
    *,
    max_iter: int = DEFAULT_MAX_ITER,
) -> tuple[float, bool, int]:
    """Between-study variance τ² by the named estimator: (τ², converged, iterations)."""
    y, v = _validated(yi, vi)
    return _estimate_tau2(y, v, _method(method), max_iter)


def _estimate_tau2(
    y: np.ndarray, v: np.ndarray, method: str, max_iter: int
) -> tuple[float, bool, int]:
    """:func:`estimate_tau2` on data already validated (pool() has done so)."""
    if y.size < 2 or method == "FE":
        return 0.0, True, 0
    # Centre (as metafor does) and rescale so that max weight ≤ 1: y' = (y − ȳ)/√c, v' = v/c,
    # τ²' = τ²/c. Every estimator here is location- and scale-equivariant, so nothing changes
    # but the floating-point range.
    c = min(1.0, float(v.min()))
    studies = _Studies.of((y - y.mean()) / math.sqrt(c), v / c)
    if method == "DL":
        result = _tau2_dl(studies)
    elif method == "HE":
        result = _tau2_he(studies)
    elif method == "PM":
        result = _tau2_pm(studies)
    else:
        result = _tau2_likelihood(studies, reml=method == "REML", max_iter=max_iter)
    return result.tau2 * c, result.converged, result.iterations


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------


def _validated(yi: npt.ArrayLike, vi: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    try:
        y = np.asarray(yi, dtype=float).reshape(-1)
        v = np.asarray(vi, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise MetaAnalysisError("effects and variances must be numbers") from None
    if y.size != v.size:
        raise MetaAnalysisError("yi and vi must have the same length")
    if not (np.isfinite(y).all() and np.isfinite(v).all()):
        raise MetaAnalysisError("effects and variances must be finite")
    if (v <= 0).any():
        raise MetaAnalysisError("every variance must be greater than 0")
    return y, v


def _method(method: str) -> str:
    name = str(method).upper()
    if name not in METHODS:
        raise MetaAnalysisError(f"method must be one of {', '.join(METHODS)}")
    return name


def _test(estimate: float, se: float, df: int | None) -> tuple[float, float]:
    """Test statistic and two-sided p (z when df is None, else t on df)."""
    if se == 0:
        # HKSJ with identical effects gives q = 0: a degenerate but not undefined test.
        return (math.copysign(math.inf, estimate), 0.0) if estimate != 0 else (0.0, 1.0)
    stat = estimate / se
    tail = special.ndtr(-abs(stat)) if df is None else special.stdtr(df, -abs(stat))
    return stat, float(2.0 * tail)


def pool(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    *,
    method: str = "REML",
    ci_method: str = "wald",
    level: float = 0.95,
    max_iter: int = DEFAULT_MAX_ITER,
) -> PooledResult | None:
    """Pool one effect per study under a random-effects model (metafor ``rma.uni`` conventions).

    * τ² by ``method`` (REML, ML, DL, PM, HE, FE), then μ = Σw*y/Σw*, SE = √(1/Σw*).
    * ``ci_method="wald"``: μ ± z·SE. ``"hksj"``: SE·√q with q = Σw*(y − μ)²/(k − 1) (not
      truncated at 1) and t on k − 1 df for the CI, the test and the prediction interval.
    * Prediction interval μ ± crit·√(SE² + τ²), SE being the one used for the CI.
    * Q = Σw(y − ȳ_FE)², w = 1/v, on k − 1 df. With the typical within-study variance
      ṽ = (k − 1)Σw/((Σw)² − Σw²): I² = 100·τ²/(τ² + ṽ), H² = (τ² + ṽ)/ṽ; for FE, metafor's
      I² = 100·max(0, (Q − (k − 1))/Q) and H² = Q/(k − 1).
    * k = 1: the study's own effect and Wald CI, no τ² or heterogeneity. k = 0: None.
    """
    y, v = _validated(yi, vi)
    method = _method(method)
    ci_method = str(ci_method).lower()
    if ci_method not in CI_METHODS:
        raise MetaAnalysisError(f"ci_method must be one of {', '.join(CI_METHODS)}")
    if not 0 < level < 1:
        raise MetaAnalysisError("level must be between 0 and 1")
    k = int(y.size)
    if k == 0:
        return None
    # scipy.special directly: the same functions scipy.stats calls, without its overhead.
    z_crit = float(special.ndtri(0.5 + level / 2.0))

    if k == 1:
        estimate, se = float(y[0]), math.sqrt(float(v[0]))
        stat, p = _test(estimate, se, None)
        return PooledResult(
            method=method,
            ci_method="wald",  # no df left for a t interval
            k=1,
            estimate=estimate,
            se=se,
            ci_low=estimate - z_crit * se,
            ci_high=estimate + z_crit * se,
            z_or_t=stat,
            p_value=p,
            pi_low=None,
            pi_high=None,
            tau2=None,
            tau=None,
            i2=None,
            h2=None,
            q=None,
            q_df=None,
            q_p=None,
            converged=True,
            iterations=0,
        )

    tau2, converged, iterations = _estimate_tau2(y, v, method, max_iter)
    w_star = 1.0 / (v + tau2)
    estimate = _weighted_mean(y, w_star)
    se = math.sqrt(1.0 / float(w_star.sum()))
    df: int | None = None
    crit = z_crit
    if ci_method == "hksj":
        df = k - 1
        rss = float((w_star * (y - estimate) ** 2).sum())
        q_hk = 0.0 if rss <= _EPS else rss / df
        se = se * math.sqrt(q_hk)
        crit = float(special.stdtrit(df, 0.5 + level / 2.0))
    stat, p = _test(estimate, se, df)
    pi_half = crit * math.sqrt(se * se + tau2)

    # Heterogeneity from the fixed-effect weights.
    q = _generalised_q(y, v, 0.0)
    q_df = k - 1
    q_p = float(special.chdtrc(q_df, q))
    if method == "FE":
        i2 = 100.0 * max(0.0, (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
    else:
        typical_v = q_df / _fixed_effect_trace_p(_Studies.of(y, v))
        i2 = 100.0 * tau2 / (tau2 + typical_v)
        h2 = (tau2 + typical_v) / typical_v

    return PooledResult(
        method=method,
        ci_method=ci_method,
        k=k,
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        z_or_t=stat,
        p_value=p,
        pi_low=estimate - pi_half,
        pi_high=estimate + pi_half,
        tau2=tau2,
        tau=math.sqrt(tau2),
        i2=i2,
        h2=h2,
        q=q,
        q_df=q_df,
        q_p=q_p,
        converged=converged,
        iterations=iterations,
    )


def composite(effects: Sequence[tuple[float, float]], rho: Any = 0.5) -> tuple[float, float]:
    """One study's composite of several outcomes: mean g, variance (1/m²)·ΣᵢΣⱼ ρᵢⱼ√(vᵢvⱼ).

    ``rho`` is a single correlation between different outcomes (ρᵢᵢ = 1) or a full m×m matrix
    (Borenstein et al. 2009, ch. 24).
    """
    if len(effects) == 0:
        raise MetaAnalysisError("a composite needs at least one effect")
    g, v = _validated([e[0] for e in effects], [e[1] for e in effects])
    m = g.size
    sd = np.sqrt(v)
    if np.ndim(rho) == 0:
        r = float(rho)
        if not (math.isfinite(r) and 0.0 <= r <= 1.0):
            raise MetaAnalysisError("rho must be between 0 and 1")
        corr = np.full((m, m), r)
        np.fill_diagonal(corr, 1.0)
    else:
        corr = np.asarray(rho, dtype=float)
        if corr.shape != (m, m) or not np.all(np.isfinite(corr)):
            raise MetaAnalysisError("rho must be a number or an m×m matrix")
        if not np.allclose(corr, corr.T) or not np.allclose(np.diag(corr), 1.0):
            raise MetaAnalysisError("rho must be symmetric with ones on the diagonal")
    variance = float(sd @ corr @ sd) / (m * m)
    if not variance > 0:
        raise MetaAnalysisError("rho gives a composite variance that is not positive")
    return float(g.mean()), variance

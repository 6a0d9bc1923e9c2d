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

The estimators work on batches of groups (:func:`pool_many`; :func:`pool` is a batch of one):
their cost is mostly fixed per call, a few hundred small array operations, so a recompute's
hundreds of poolings are computed together, each group stepping as it would alone (to rounding).
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
    """Several poolings' studies, one group per row, with each group's most precise study apart.

    Every estimator works on all groups at once, as row-wise sums, so that its fixed numpy cost
    is paid once per batch of groups rather than once per pooling; a single pooling is a batch
    of one. Rows shorter than the widest are padded with y = 0 and v = ∞, whose weight
    1/(v + τ²) is exactly 0, so weighted sums need no mask; the few unweighted ones use ``real``.

    The most precise study has the largest weight 1/(v + τ²) at every τ² (w falls as v grows),
    and a sum over "every study but one" cancels badly only when the one left out is the
    largest. Holding it apart once lets all such sums be taken directly over ``y_rest``/``v_rest``.
    """

    y: np.ndarray  # (groups, width)
    v: np.ndarray
    real: np.ndarray  # which entries are studies rather than padding
    k: np.ndarray  # studies per group, at least 2
    y_top: np.ndarray  # (groups,)
    v_top: np.ndarray
    y_rest: np.ndarray  # (groups, width − 1)
    v_rest: np.ndarray
    real_rest: np.ndarray

    @classmethod
    def of(cls, y: np.ndarray, v: np.ndarray, k: np.ndarray | None = None) -> _Studies:
        """From padded rows (or, without ``k``, from one group's 1-d effects and variances)."""
        if k is None:
            y, v, k = y[np.newaxis], v[np.newaxis], np.array([y.size])
        groups = np.arange(k.size)
        top = np.argmin(v, axis=1)  # padding is ∞, never the minimum
        rest = np.ones(v.shape, dtype=bool)
        rest[groups, top] = False
        real = np.arange(v.shape[1]) < k[:, np.newaxis]
        rest_shape = (k.size, v.shape[1] - 1)
        return cls(
            y=y,
            v=v,
            real=real,
            k=k,
            y_top=y[groups, top],
            v_top=v[groups, top],
            y_rest=y[rest].reshape(rest_shape),
            v_rest=v[rest].reshape(rest_shape),
            real_rest=real[rest].reshape(rest_shape),
        )

    def subset(self, groups: np.ndarray) -> _Studies:
        """These groups only (in the order given), trimmed to their widest."""
        k = self.k[groups]
        width = int(k.max())
        return _Studies.of(self.y[groups, :width], self.v[groups, :width], k)


def _padded(ys: Sequence[np.ndarray], vs: Sequence[np.ndarray]) -> _Studies:
    """Groups of effects and variances as one padded batch."""
    k = np.array([y.size for y in ys])
    real = np.arange(k.max()) < k[:, np.newaxis]
    y = np.zeros(real.shape)
    v = np.full(real.shape, np.inf)
    y[real] = np.concatenate(ys)  # a boolean mask fills row by row, i.e. group by group
    v[real] = np.concatenate(vs)
    return _Studies.of(y, v, k)


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


def _column(values: np.ndarray) -> np.ndarray:
    """One value per group, shaped to broadcast along the group's row."""
    return values[:, np.newaxis]


def _weighted_mean(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (w * y).sum(axis=1) / w.sum(axis=1)


def _generalised_q(studies: _Studies, tau2: np.ndarray) -> np.ndarray:
    """Σw*(y − μ*)² at a given τ² per group; Paule-Mandel sets this to k − 1."""
    w = 1.0 / (studies.v + _column(tau2))
    r = studies.y - _column(_weighted_mean(studies.y, w))
    return (w * r * r).sum(axis=1)


def _fixed_effect_trace_p(studies: _Studies) -> np.ndarray:
    """tr(P) at τ² = 0, i.e. Σw − Σw²/Σw with w = 1/v."""
    w = 1.0 / studies.v_rest
    return _trace_p(1.0 / studies.v_top, w.sum(axis=1), (w * w).sum(axis=1))


def _score_and_information(
    studies: _Studies, tau2: np.ndarray, reml: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Twice the (restricted) log-likelihood score in τ² and twice the Fisher information.

    REML: Σw²r² − tr P and tr(PP); ML: Σw²r² − Σw and Σw² (w = 1/(v + τ²), r = y − μ).
    """
    w_top = 1.0 / (studies.v_top + tau2)
    w = 1.0 / (studies.v_rest + _column(tau2))
    sum_rest = w.sum(axis=1)
    w_sq = w * w
    sum_sq_rest = w_sq.sum(axis=1)
    mean = (w_top * studies.y_top + (w * studies.y_rest).sum(axis=1)) / (w_top + sum_rest)
    wr = w * (studies.y_rest - _column(mean))
    fitted = (w_top * (studies.y_top - mean)) ** 2 + (wr * wr).sum(axis=1)
    if reml:
        score = fitted - _trace_p(w_top, sum_rest, sum_sq_rest)
        information = _trace_pp(w_top, sum_rest, sum_sq_rest, (w_sq * w).sum(axis=1))
    else:
        score = fitted - (w_top + sum_rest)
        information = w_top * w_top + sum_sq_rest
    return score, information


def _score_times_two(studies: _Studies, tau2: float, reml: bool) -> float:
    """Twice the (restricted) log-likelihood score in τ², for a batch of one group."""
    return float(_score_and_information(studies, np.array([tau2]), reml)[0][0])


class _GridScores(NamedTuple):
    """Twice the score at several τ², with bounds on its two terms that rounding cannot breach."""

    scores: np.ndarray  # as _score_times_two gives them, to the sign at least
    fitted_low: np.ndarray  # Σw²r² = y'PPy lies in [fitted_low, fitted_high]
    fitted_high: np.ndarray
    penalty_low: np.ndarray  # tr P (REML) or Σw (ML) in [penalty_low, penalty_high]
    penalty_high: np.ndarray


def _scores_on_grid(studies: _Studies, taus: np.ndarray, reml: bool) -> _GridScores:
    """:func:`_score_times_two` at every τ² of ``taus`` (one row per group) at once, to the sign.

    One row of weights per group and τ² (in chunks of τ², so memory stays bounded). With
    d = y − y_top and δ = μ − y_top, the score needs only Σw, Σwd, Σw², Σw²d and Σw²d² over the
    other studies: two matrix products per group, over W and W∘W, where the scalar form's dozen
    elementwise passes would each allocate a matrix. The fitted term is then expanded,
    Σw²r² = (w_top·δ)² + Σw²d² − 2δΣw²d + δ²Σw², which can cancel; so where a score is within
    the bound on its rounding error of 0 (its sign unsure), the exact scalar form replaces it.
    """
    d = studies.y_rest - _column(studies.y_top)
    # Column vectors, so that Σwd, Σw²d and Σw²d² are matrix products that run in BLAS.
    by_d, by_d_squared = d[:, :, np.newaxis], (d * d)[:, :, np.newaxis]
    sum_w, sum_wd, sum_w2, sum_w2d, sum_w2d2 = np.empty((5, *taus.shape))
    chunk = max(1, 2_000_000 // d.size)
    for start in range(0, taus.shape[1], chunk):
        cols = slice(start, start + chunk)
        w = taus[:, cols, np.newaxis] + studies.v_rest[:, np.newaxis, :]
        # In place: a second matrix of this size would cost more (fresh pages) than the arithmetic.
        np.divide(1.0, w, out=w)
        sum_w[:, cols], sum_wd[:, cols] = w.sum(axis=2), (w @ by_d)[..., 0]
        np.multiply(w, w, out=w)
        sum_w2[:, cols], sum_w2d[:, cols] = w.sum(axis=2), (w @ by_d)[..., 0]
        sum_w2d2[:, cols] = (w @ by_d_squared)[..., 0]
    w_top = 1.0 / (_column(studies.v_top) + taus)
    total = w_top + sum_w
    delta = sum_wd / total
    fitted = (w_top * delta) ** 2 + sum_w2d2 - 2.0 * delta * sum_w2d + delta * delta * sum_w2
    penalty = _trace_p(w_top, sum_w, sum_w2) if reml else total
    # Each sum errs by at most about k·ε times the sum of its terms' moduli. With |d| ≤ max|d|
    # and |δ| ≤ max|d|·Σw/Σ, the error of the fitted term (δ's own included) is then at most
    # about 12·k·ε·max|d|²·(Σw² + (w_top·Σw/Σ)²), and the penalty's at most 4·k·ε times itself.
    d_max = _column(np.abs(d).max(axis=1, where=studies.real_rest, initial=0.0))
    unit_error = 16.0 * (_column(studies.k) + 9) * _EPS
    fitted_error = unit_error * d_max * d_max * (sum_w2 + (w_top * sum_w / total) ** 2)
    penalty_error = unit_error * penalty
    scores = fitted - penalty
    for group, i in zip(*np.nonzero(np.abs(scores) <= fitted_error + penalty_error), strict=True):
        one = studies.subset(np.array([group]))
        scores[group, i] = _score_times_two(one, float(taus[group, i]), reml)
    return _GridScores(
        scores,
        fitted - fitted_error,
        fitted + fitted_error,
        penalty - penalty_error,
        penalty + penalty_error,
    )


def _grid_scores_at(
    studies: _Studies, grid: np.ndarray, reml: bool, wanted: np.ndarray
) -> tuple[np.ndarray, _GridScores]:
    """:func:`_scores_on_grid` at the ``wanted`` points of each group's ``grid`` row only.

    Rows want different numbers of points: each is padded by repeating its last wanted point
    (or its first grid point), and the columns of the padded points are returned with them.
    """
    counts = wanted.sum(axis=1)
    width = max(int(counts.max()), 1)
    # A stable sort puts each row's wanted points first, in grid order.
    columns = np.argsort(~wanted, axis=1, kind="stable")[:, :width]
    last = columns[np.arange(columns.shape[0]), np.maximum(counts - 1, 0)]
    columns = np.where(np.arange(width) < _column(counts), columns, _column(last))
    return columns, _scores_on_grid(studies, np.take_along_axis(grid, columns, axis=1), reml)


# The sizes, in grid cells, of the blocks whose ends _positive_scores computes, coarsest first;
# each divides the next larger and the grid's 96 cells. Three levels compute about as few points
# as halving from 32 cells would (~18 per group) at half the calls.
_GRID_BLOCKS = (12, 3, 1)


def _positive_scores(studies: _Studies, grid: np.ndarray, reml: bool) -> np.ndarray:
    """Whether the score is positive at each τ² of each group's increasing ``grid`` row.

    Both of the score's terms fall as τ² grows (dP/dτ² = −PP with P positive semi-definite, so
    y'PPy falls at the rate 2y'PPPy and tr P at tr(PP); so does Σw, for ML). On [a, b] the score
    therefore lies between Σw²r²(b) − tr P(a) and Σw²r²(a) − tr P(b), and where those bounds
    (rounding included) have one sign, so has the score at every grid point in between. So the
    score is computed at the ends of large blocks of cells, and only the blocks the bounds do
    not settle are split and their new ends computed, down to single cells (where the sign
    changes). Every sign not computed is proven, so the result is that of computing the score
    at every point; all groups are refined together, one level at a time.
    """
    groups, size = grid.shape
    positive = np.zeros(grid.shape, dtype=bool)
    computed = np.zeros(grid.shape, dtype=bool)
    fitted_low, fitted_high, penalty_low, penalty_high = np.zeros((4, *grid.shape))
    point = np.arange(size - 1)
    open_blocks = np.ones((groups, (size - 1) // _GRID_BLOCKS[0]), dtype=bool)
    for level, cells in enumerate(_GRID_BLOCKS):
        ends = np.arange(0, size, cells)
        wanted = np.zeros(grid.shape, dtype=bool)
        wanted[:, ends[:-1]] = open_blocks
        wanted[:, ends[1:]] |= open_blocks
        wanted &= ~computed
        busy = np.flatnonzero(wanted.any(axis=1))
        if busy.size:
            batch = studies if busy.size == groups else studies.subset(busy)
            columns, found = _grid_scores_at(batch, grid[busy], reml, wanted[busy])
            at = (_column(busy), columns)
            positive[at], computed[at] = found.scores > 0, True
            fitted_low[at], fitted_high[at] = found.fitted_low, found.fitted_high
            penalty_low[at], penalty_high[at] = found.penalty_low, found.penalty_high
        surely_positive = fitted_low[:, ends[1:]] > penalty_high[:, ends[:-1]]
        surely_negative = fitted_high[:, ends[:-1]] < penalty_low[:, ends[1:]]
        # The points inside a settled block take its sign (negative is positive's default).
        block, inside = point // cells, point % cells != 0
        positive[:, :-1] |= inside & (open_blocks & surely_positive)[:, block]
        if cells > 1:
            parts = cells // _GRID_BLOCKS[level + 1]
            open_blocks = np.repeat(
                open_blocks & ~surely_positive & ~surely_negative, parts, axis=1
            )
    return positive


# ---------------------------------------------------------------------------------------------
# τ² estimators (all on rescaled data, see module docstring), each for every group of a batch
# ---------------------------------------------------------------------------------------------


class _Tau2(NamedTuple):
    tau2: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray


def _closed_form(tau2: np.ndarray) -> _Tau2:
    return _Tau2(tau2, np.ones(tau2.size, dtype=bool), np.zeros(tau2.size, dtype=int))


def _tau2_dl(studies: _Studies) -> _Tau2:
    """DerSimonian-Laird: (Q − (k−1)) / (Σw − Σw²/Σw), truncated at 0."""
    q = _generalised_q(studies, np.zeros(studies.k.size))
    return _closed_form(np.maximum(0.0, (q - (studies.k - 1)) / _fixed_effect_trace_p(studies)))


def _group_means(studies: _Studies) -> np.ndarray:
    return studies.y.sum(axis=1) / studies.k  # padding is 0


def _sum_of_squares(studies: _Studies) -> np.ndarray:
    """Σ(y − ȳ)² over each group's studies."""
    deviations = studies.y - _column(_group_means(studies))
    return (deviations * deviations).sum(axis=1, where=studies.real)


def _tau2_he(studies: _Studies) -> _Tau2:
    """Hedges (unweighted method of moments): Σ(y − ȳ)²/(k−1) − mean(v), truncated at 0."""
    mean_v = studies.v.sum(axis=1, where=studies.real) / studies.k
    return _closed_form(np.maximum(0.0, _sum_of_squares(studies) / (studies.k - 1) - mean_v))


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
    result = _closed_form(np.zeros(studies.k.size))
    start = _tau2_dl(studies).tau2
    above = _generalised_q(studies, np.zeros(studies.k.size)) > studies.k - 1
    for group in np.flatnonzero(above):
        one = studies.subset(np.array([group]))

        def excess(tau2: float, one: _Studies = one) -> float:
            return float(_generalised_q(one, np.array([tau2]))[0]) - (int(one.k[0]) - 1)

        hi = _bracket_above(excess, float(start[group]))
        root, info = optimize.brentq(
            excess, 0.0, hi, xtol=1e-300, rtol=4 * _EPS, maxiter=1000, full_output=True
        )
        result.tau2[group] = root
        result.converged[group] = info.converged
        result.iterations[group] = info.iterations
    return result


def _tau2_likelihood(studies: _Studies, *, reml: bool, max_iter: int) -> _Tau2:
    """REML or ML τ²: metafor's Fisher scoring, then a check that no better maximum exists."""
    found = _fisher_scoring(studies, reml=reml, max_iter=max_iter)
    return _best_maximum(studies, found, reml=reml)


# _fisher_scoring drops finished groups from its batch once their rows are this share of it.
_DROP_FINISHED_SHARE = 0.25


def _fisher_scoring(studies: _Studies, *, reml: bool, max_iter: int) -> _Tau2:
    """Fisher scoring from the Hedges estimate, as metafor's ``rma.uni`` does, for every group.

    Step: Δ = score/information; REML: (Σw²r² − tr P)/tr(PP), ML: (Σw²r² − Σw)/Σw².
    A step that would cross 0 is halved until it does not (metafor's step-halving), except that
    when the score at 0 is itself non-positive the boundary solution τ² = 0 is taken directly,
    so that "no heterogeneity" comes out as exactly 0. Convergence: |Δτ²| < 1e-10 (relative
    above τ² = 1). If scoring does not converge in ``max_iter`` steps, the score's root is
    bracketed and found by Brent's method instead, so a usable estimate always comes back.
    Each group steps as it would alone; a step costs the same few array operations for all.
    """
    tau2 = _tau2_he(studies).tau2.copy()
    iterations = np.zeros(tau2.size, dtype=int)
    running = np.ones(tau2.size, dtype=bool)
    stuck = np.zeros(tau2.size, dtype=bool)  # a step was not finite
    batch, in_batch = studies, np.arange(tau2.size)  # the groups scored at each step
    for iteration in range(1, max_iter + 1):
        if not running.any():
            break
        rows = studies.k[in_batch]
        if rows[~running[in_batch]].sum() > _DROP_FINISHED_SHARE * rows.sum():
            in_batch = np.flatnonzero(running)
            batch = studies.subset(in_batch)
        score, information = _score_and_information(batch, tau2[in_batch], reml)
        groups = in_batch[running[in_batch]]
        step = (score / information)[running[in_batch]]
        finite = np.isfinite(step)
        stuck[groups[~finite]] = True
        running[groups[~finite]] = False
        groups, step = groups[finite], step[finite]
        crossing = tau2[groups] + step < 0
        if crossing.any():
            to_zero = crossing & (tau2[groups] == 0)
            check = np.flatnonzero(crossing & ~to_zero)
            if check.size:
                at_zero = studies.subset(groups[check])
                to_zero[check] = _score_and_information(at_zero, np.zeros(check.size), reml)[0] <= 0
            tau2[groups[to_zero]] = 0.0
            iterations[groups[to_zero]] = iteration
            running[groups[to_zero]] = False
            halving = crossing & ~to_zero
            while (halving := halving & (tau2[groups] + step < 0)).any():
                step[halving] /= 2.0
            groups, step = groups[~to_zero], step[~to_zero]
        tau2[groups] += step
        done = groups[np.abs(step) < TAU2_TOL * np.maximum(1.0, tau2[groups])]
        iterations[done] = iteration
        running[done] = False
    result = _Tau2(tau2, np.ones(tau2.size, dtype=bool), iterations)
    # Scoring did not converge, or could not step: solve for the score's root instead.
    for group in np.flatnonzero(running | stuck):
        one = studies.subset(np.array([group]))
        root, converged, steps = _likelihood_root(
            one, reml=reml, start=float(tau2[group]), iterations=max_iter
        )
        result.tau2[group] = root
        result.converged[group] = converged
        result.iterations[group] = steps
    return result


def _log_likelihood(studies: _Studies, tau2: np.ndarray, reml: bool) -> np.ndarray:
    """(Restricted) log-likelihood of the random-effects model, up to a constant."""
    total = studies.v + _column(tau2)
    w = 1.0 / total
    r = studies.y - _column(_weighted_mean(studies.y, w))
    ll = -0.5 * np.log(total).sum(axis=1, where=studies.real) - 0.5 * (w * r * r).sum(axis=1)
    if reml:
        ll -= 0.5 * np.log(w.sum(axis=1))
    return ll


def _likelihood_root(
    studies: _Studies, *, reml: bool, start: float, iterations: int
) -> tuple[float, bool, int]:
    """Fallback for REML/ML, for a batch of one group: bracket the score's root on [0, ∞) and
    solve it with Brent. Returns (τ², converged, iterations)."""

    def score(tau2: float) -> float:
        return _score_times_two(studies, tau2, reml)

    if score(0.0) <= 0:
        return 0.0, True, iterations
    start = start if math.isfinite(start) and start > 0 else 1.0
    hi = _bracket_above(score, start)
    root, info = optimize.brentq(
        score, 0.0, hi, xtol=1e-300, rtol=4 * _EPS, maxiter=1000, full_output=True
    )
    return float(root), bool(info.converged), iterations + int(info.iterations)


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
    the highest likelihood wins; a tie keeps ``found``. The grid's signs are found for all
    groups at once; the rare group with another candidate is then settled on its own.
    """
    # Beyond a few times the total spread plus the largest variance the weights are nearly equal
    # and the likelihood has its single homoscedastic mode, so the grid need not go further.
    top = 4.0 * (_sum_of_squares(studies) + studies.v.max(axis=1, where=studies.real, initial=0))
    low = 1e-3 * studies.v_top
    grid = np.empty((low.size, _GRID_EXPONENTS.size + 1))
    grid[:, 0] = 0.0
    grid[:, 1:] = _column(low) * _column(top / low) ** _GRID_EXPONENTS
    positive = _positive_scores(studies, grid, reml)
    # Scoring's own answer is a root in its cell already: refining it again changes nothing.
    tau2 = _column(found.tau2)
    sign_changes = (
        positive[:, :-1] & ~positive[:, 1:] & ~((grid[:, :-1] <= tau2) & (tau2 <= grid[:, 1:]))
    )
    # grid[0] is 0; it is a candidate unless it is scoring's own answer already.
    zero_candidate = ~positive[:, 0] & (found.tau2 != 0)
    best = _Tau2(found.tau2.copy(), found.converged.copy(), found.iterations)
    for group in np.flatnonzero(zero_candidate | sign_changes.any(axis=1)):
        one = studies.subset(np.array([group]))
        cells = [
            (float(grid[group, i]), float(grid[group, i + 1]))
            for i in np.flatnonzero(sign_changes[group])
        ]
        tau2_found = float(found.tau2[group])
        tau2_best = _best_candidate(one, tau2_found, bool(zero_candidate[group]), cells, reml)
        if tau2_best != tau2_found:
            best.tau2[group], best.converged[group] = tau2_best, True
    return best


def _best_candidate(
    studies: _Studies, found: float, zero: bool, cells: list[tuple[float, float]], reml: bool
) -> float:
    """For a batch of one group: the τ² of the highest likelihood among scoring's answer
    ``found``, 0 (if ``zero``) and the maxima within ``cells`` (where the score turns + to −)."""

    def score(tau2: float) -> float:
        return _score_times_two(studies, tau2, reml)

    def log_likelihood(tau2: float) -> float:
        return float(_log_likelihood(studies, np.array([tau2]), reml)[0])

    candidates = [0.0] if zero else []
    for lo, hi in cells:
        # The grid's signs are right, but brentq needs the scalar score's own, which can differ
        # at rounding level; such a cell has no maximum worth refining.
        if score(lo) > 0 >= score(hi):
            candidates.append(float(optimize.brentq(score, lo, hi, xtol=1e-300, rtol=4 * _EPS)))
    if not candidates:
        return found
    best, best_ll = found, log_likelihood(found)
    for tau2 in candidates:
        ll = log_likelihood(tau2)
        # Same maximum found twice differs only by rounding; demand a real improvement.
        if ll > best_ll + 1e-9 * max(1.0, abs(best_ll)):
            best, best_ll = tau2, ll
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
    method = _method(method)
    if y.size < 2:
        return 0.0, True, 0
    tau2, converged, iterations = _estimate_tau2(_Studies.of(y, v), method, max_iter)
    return float(tau2[0]), bool(converged[0]), int(iterations[0])


def _estimate_tau2(studies: _Studies, method: str, max_iter: int) -> _Tau2:
    """τ² of every group of a batch (of validated data, each with at least two studies)."""
    if method == "FE":
        return _closed_form(np.zeros(studies.k.size))
    # Centre (as metafor does) and rescale so that max weight ≤ 1: y' = (y − ȳ)/√c, v' = v/c,
    # τ²' = τ²/c. Every estimator here is location- and scale-equivariant, so nothing changes
    # but the floating-point range.
    c = np.minimum(1.0, studies.v_top)
    centred = (studies.y - _column(_group_means(studies))) / _column(np.sqrt(c))
    rescaled = _Studies.of(np.where(studies.real, centred, 0.0), studies.v / _column(c), studies.k)
    if method == "DL":
        result = _tau2_dl(rescaled)
    elif method == "HE":
        result = _tau2_he(rescaled)
    elif method == "PM":
        result = _tau2_pm(rescaled)
    else:
        result = _tau2_likelihood(rescaled, reml=method == "REML", max_iter=max_iter)
    return _Tau2(result.tau2 * c, result.converged, result.iterations)


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------


def _validated(yi: npt.ArrayLike, vi: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y, v = _vectors(yi, vi)
    _check_values(y, v)
    return y, v


def _vectors(yi: npt.ArrayLike, vi: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Effects and variances as float vectors of the same length."""
    try:
        y = np.asarray(yi, dtype=float).reshape(-1)
        v = np.asarray(vi, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise MetaAnalysisError("effects and variances must be numbers") from None
    if y.size != v.size:
        raise MetaAnalysisError("yi and vi must have the same length")
    return y, v


def _check_values(y: np.ndarray, v: np.ndarray) -> None:
    if not (np.isfinite(y).all() and np.isfinite(v).all()):
        raise MetaAnalysisError("effects and variances must be finite")
    if (v <= 0).any():
        raise MetaAnalysisError("every variance must be greater than 0")


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
    return pool_many(
        [(yi, vi)], method=method, ci_method=ci_method, level=level, max_iter=max_iter
    )[0]


# A batch costs about as much fixed overhead as the arithmetic on this many (padded) studies,
# so pool_many widens a batch to the next larger group only while that pads fewer studies.
_BATCH_PADDING = 6000


def _batches(data: list[tuple[np.ndarray, np.ndarray]]) -> list[list[int]]:
    """The positions of the groups with at least two studies, in batches of similar sizes."""
    batches: list[list[int]] = []
    width = 0
    for size, i in sorted((y.size, i) for i, (y, _) in enumerate(data) if y.size > 1):
        if batches and len(batches[-1]) * (size - width) <= _BATCH_PADDING:
            batches[-1].append(i)
        else:
            batches.append([i])
        width = size
    return batches


def pool_many(
    groups: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
    *,
    method: str = "REML",
    ci_method: str = "wald",
    level: float = 0.95,
    max_iter: int = DEFAULT_MAX_ITER,
) -> list[PooledResult | None]:
    """:func:`pool` of each (yi, vi) group, computed in batches of groups of similar size.

    The estimators' cost is mostly fixed per call (a few dozen small array operations per
    scoring step and grid check), so pooling hundreds of groups together costs little more
    than pooling one. The results are those of :func:`pool`, which is this for one group.
    """
    method = _method(method)
    ci_method = str(ci_method).lower()
    if ci_method not in CI_METHODS:
        raise MetaAnalysisError(f"ci_method must be one of {', '.join(CI_METHODS)}")
    if not 0 < level < 1:
        raise MetaAnalysisError("level must be between 0 and 1")
    data = [_vectors(yi, vi) for yi, vi in groups]
    if data:  # the values of all groups at once: checking each group costs more than the check
        _check_values(np.concatenate([y for y, _ in data]), np.concatenate([v for _, v in data]))
    # scipy.special directly: the same functions scipy.stats calls, without its overhead.
    z_crit = float(special.ndtri(0.5 + level / 2.0))
    results: list[PooledResult | None] = [None] * len(data)
    for i, (y, v) in enumerate(data):
        if y.size == 1:
            results[i] = _one_study(float(y[0]), float(v[0]), method, z_crit)
    for batch in _batches(data):
        studies = _padded([data[i][0] for i in batch], [data[i][1] for i in batch])
        pooled = _pooled(studies, method, ci_method, level, z_crit, max_iter)
        for i, result in zip(batch, pooled, strict=True):
            results[i] = result
    return results


def _one_study(estimate: float, variance: float, method: str, z_crit: float) -> PooledResult:
    """k = 1: the study's own effect and Wald CI."""
    se = math.sqrt(variance)
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


def _pooled(
    studies: _Studies, method: str, ci_method: str, level: float, z_crit: float, max_iter: int
) -> list[PooledResult]:
    """Pool every group of a batch (each with at least two studies)."""
    k = studies.k
    tau2, converged, iterations = _estimate_tau2(studies, method, max_iter)
    w_star = 1.0 / (studies.v + _column(tau2))
    estimate = _weighted_mean(studies.y, w_star)
    se = np.sqrt(1.0 / w_star.sum(axis=1))
    crit = np.full(k.size, z_crit)
    if ci_method == "hksj":
        residuals = studies.y - _column(estimate)
        rss = (w_star * residuals * residuals).sum(axis=1)
        q_hk = np.where(rss <= _EPS, 0.0, rss / (k - 1))
        se = se * np.sqrt(q_hk)
        crit = special.stdtrit(k - 1, 0.5 + level / 2.0)
    pi_half = crit * np.sqrt(se * se + tau2)

    # Heterogeneity from the fixed-effect weights.
    q = _generalised_q(studies, np.zeros(k.size))
    q_df = k - 1
    q_p = special.chdtrc(q_df, q)
    if method == "FE":
        i2 = 100.0 * np.maximum(0.0, (q - q_df) / np.where(q > 0, q, 1.0))
        h2 = q / q_df
    else:
        typical_v = q_df / _fixed_effect_trace_p(studies)
        i2 = 100.0 * tau2 / (tau2 + typical_v)
        h2 = (tau2 + typical_v) / typical_v

    results = []
    for row in zip(
        *(
            x.tolist()
            for x in (k, estimate, se, crit, pi_half, tau2, i2, h2, q, q_p, converged, iterations)
        ),
        strict=True,
    ):
        k_i, estimate_i, se_i, crit_i, pi_half_i, tau2_i, i2_i, h2_i, q_i, q_p_i, conv_i, it_i = row
        stat, p = _test(estimate_i, se_i, k_i - 1 if ci_method == "hksj" else None)
        results.append(
            PooledResult(
                method=method,
                ci_method=ci_method,
                k=k_i,
                estimate=estimate_i,
                se=se_i,
                ci_low=estimate_i - crit_i * se_i,
                ci_high=estimate_i + crit_i * se_i,
                z_or_t=stat,
                p_value=p,
                pi_low=estimate_i - pi_half_i,
                pi_high=estimate_i + pi_half_i,
                tau2=tau2_i,
                tau=math.sqrt(tau2_i),
                i2=i2_i,
                h2=h2_i,
                q=q_i,
                q_df=k_i - 1,
                q_p=q_p_i,
                converged=conv_i,
                iterations=it_i,
            )
        )
    return results


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

"""Convert what a paper reports into Hedges' g (positive = favorable), with its variance.

Conventions follow metafor's ``escalc`` and the WWC procedures (EVIDENCE.md, section 1):

* Standardised mean differences from group data use the exact small-sample correction
  J(m) = Γ(m/2) / (√(m/2)·Γ((m-1)/2)), m = n_t + n_c - 2, and metafor's default "LS" variance
  v = 1/n_t + 1/n_c + g²/(2(n_t + n_c)).
* Routes that start from a test statistic of a two-group comparison (t, F, p) go through the same d,
  so they reproduce the means route exactly when the statistic comes from the same data.
* Odds-ratio routes (logit, Cox) and the correlation route are approximations on the d scale and,
  like metafor's ``OR2DL``/``OR2DN`` and Borenstein et al. (2009, ch. 7), carry no J correction.

Every public converter is keyword-only and returns an :class:`EffectResult`; :func:`compute`
dispatches on the stored input kind. Invalid input raises :class:`EffectSizeError` naming the field.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, ParamSpec, TypeVar

from scipy import special, stats

# Bumped whenever any conversion formula changes, so stored effects can be recomputed.
CONVERSION_VERSION = 1

ALPHA = 0.05
SUBSTANTIVE_THRESHOLD = 0.25
DEFAULT_ICC_ACHIEVEMENT = 0.20
DEFAULT_ICC_OTHER = 0.10

# Two-sided 95% normal critical value, used for Wald CIs and for SEs recovered from reported CIs.
_Z95 = float(stats.norm.ppf(0.975))
# The Cox (1970) logistic-to-normal scaling WWC uses for dichotomous outcomes.
_COX_FACTOR = 1.65
_LOGIT_FACTOR = math.sqrt(3.0) / math.pi

Direction = Literal["favorable", "unfavorable", "null"]

INPUT_KINDS = (
    "smd",
    "means",
    "t",
    "f",
    "p",
    "odds_ratio",
    "two_by_two",
    "r",
    "percentile_points",
)


class EffectSizeError(ValueError):
    """A reported statistic cannot be turned into an effect size; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _numerically_guarded(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn float overflow (``x ** 2`` raises where ``x * x`` gives inf) into a clean error.

    Finite but extreme inputs (a mean of 1e308, an SD of 1e-300) overflow part-way through a
    conversion; the user sees which numbers were refused instead of a server error.
    """

    @functools.wraps(func)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return func(*args, **kwargs)
        except (OverflowError, ZeroDivisionError) as exc:
            raise EffectSizeError(
                "variance",
                "the reported numbers are too large or too small to give a finite effect size",
            ) from exc

    return guarded


@dataclass(frozen=True)
class EffectResult:
    """One study effect on the Hedges' g scale, oriented so that positive is favorable."""

    g: float
    variance: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    significant: bool
    direction: Direction
    conversion: str
    conversion_version: int
    improvement_index: float


@dataclass(frozen=True)
class _Raw:
    """A converted effect before orientation, clustering and significance are applied."""

    g: float
    variance: float
    conversion: str
    # The p-value implied by the reported statistic itself (p route), if any.
    p_value: float | None = None
    n_t: float | None = None
    n_c: float | None = None
    # The two-sample t a naive (individual-level) analysis would have reported, for clustering.
    t_naive: float | None = None


# ---------------------------------------------------------------------------------------------
# Small helpers in the domain's words
# ---------------------------------------------------------------------------------------------


def hedges_j(df: float) -> float:
    """Exact small-sample bias correction J(df) for a standardised mean difference."""
    if not math.isfinite(df) or df <= 1:
        raise EffectSizeError("n_t", "n_t + n_c must exceed 3 to correct d for small samples")
    # Γ(df/2)/Γ((df-1)/2) as a Pochhammer symbol: Γ itself overflows beyond df ≈ 340, and the
    # lgamma difference metafor uses loses ~1e-3 to cancellation by df = 1e12; poch does neither.
    return float(special.poch((df - 1.0) / 2.0, 0.5)) / math.sqrt(df / 2.0)


def improvement_index(g: float) -> float:
    """WWC improvement index: expected percentile gain of the average control student."""
    return 100.0 * float(stats.norm.cdf(g)) - 50.0


def is_substantively_important(g: float) -> bool:
    """WWC 'substantively important' rule: |g| of at least 0.25."""
    return abs(g) >= SUBSTANTIVE_THRESHOLD


def default_icc(outcome_is_achievement: bool = True) -> float:
    """ICC assumed for a clustered study that reports none (WWC defaults)."""
    return DEFAULT_ICC_ACHIEVEMENT if outcome_is_achievement else DEFAULT_ICC_OTHER


def ls_variance(g: float, n_t: float, n_c: float) -> float:
    """metafor's default ("LS") large-sample variance of g from the group sizes."""
    return 1.0 / n_t + 1.0 / n_c + g * g / (2.0 * (n_t + n_c))


def two_sided_z_p(g: float, variance: float) -> float:
    """Two-sided p of the Wald z test of g against zero."""
    return float(2.0 * stats.norm.sf(abs(g) / math.sqrt(variance)))


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def _number(field: str, value: Any) -> float:
    """Coerce a stored value (float, int, Decimal, numeric string) to a finite float."""
    if value is None:
        raise EffectSizeError(field, f"{field} is required")
    if isinstance(value, bool):
        raise EffectSizeError(field, f"{field} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise EffectSizeError(field, f"{field} must be a number") from None
    if not math.isfinite(number):
        raise EffectSizeError(field, f"{field} must be a finite number")
    return number


def _positive(field: str, value: Any) -> float:
    number = _number(field, value)
    if number <= 0:
        raise EffectSizeError(field, f"{field} must be greater than 0")
    return number


def _sample_size(field: str, value: Any) -> float:
    number = _number(field, value)
    if number < 2:
        raise EffectSizeError(field, f"{field} must be at least 2")
    return number


def _p(field: str, value: Any) -> float:
    number = _number(field, value)
    if not 0 < number <= 1:
        raise EffectSizeError(field, f"{field} must be greater than 0 and at most 1")
    return number


def _sign(value: Any) -> int:
    number = _number("sign", value)
    if number not in (1.0, -1.0):
        raise EffectSizeError("sign", "sign must be +1 (favors treatment) or -1")
    return int(number)


def _ci(value: float, ci_low: Any, ci_high: Any) -> tuple[float, float]:
    """Validate a reported confidence interval around ``value``."""
    low = _number("ci_low", ci_low)
    high = _number("ci_high", ci_high)
    if low >= high:
        raise EffectSizeError("ci_high", "ci_high must be greater than ci_low")
    if value < low:
        raise EffectSizeError("ci_low", "ci_low must not exceed the estimate")
    if value > high:
        raise EffectSizeError("ci_high", "ci_high must not be below the estimate")
    return low, high


def _se_from_ci(low: float, high: float) -> float:
    """SE implied by a symmetric 95% Wald interval."""
    return (high - low) / (2.0 * _Z95)


# ---------------------------------------------------------------------------------------------
# Raw conversions (no orientation, clustering or significance yet)
# ---------------------------------------------------------------------------------------------


def _d_to_g_from_groups(d: float, n_t: float, n_c: float, conversion: str) -> _Raw:
    """Shared last step of every group-comparison route: exact J and LS variance."""
    g = hedges_j(n_t + n_c - 2.0) * d
    return _Raw(
        g=g,
        variance=ls_variance(g, n_t, n_c),
        conversion=conversion,
        n_t=n_t,
        n_c=n_c,
        t_naive=d / math.sqrt(1.0 / n_t + 1.0 / n_c),
    )


def _raw_means(*, mean_t, sd_t, n_t, mean_c, sd_c, n_c) -> _Raw:
    mean_t = _number("mean_t", mean_t)
    mean_c = _number("mean_c", mean_c)
    sd_t = _positive("sd_t", sd_t)
    sd_c = _positive("sd_c", sd_c)
    n_t = _sample_size("n_t", n_t)
    n_c = _sample_size("n_c", n_c)
    pooled_sd = math.sqrt(((n_t - 1) * sd_t**2 + (n_c - 1) * sd_c**2) / (n_t + n_c - 2))
    d = (mean_t - mean_c) / pooled_sd
    return _d_to_g_from_groups(d, n_t, n_c, "means_sd_hedges_exact_j")


def _raw_t(*, t, n_t, n_c) -> _Raw:
    t = _number("t", t)
    n_t = _sample_size("n_t", n_t)
    n_c = _sample_size("n_c", n_c)
    return _d_to_g_from_groups(t * math.sqrt(1.0 / n_t + 1.0 / n_c), n_t, n_c, "t_to_d")


def _raw_f(*, f, n_t, n_c, sign) -> _Raw:
    f = _number("f", f)
    if f < 0:
        raise EffectSizeError("f", "f must be at least 0")
    sign = _sign(sign)
    n_t = _sample_size("n_t", n_t)
    n_c = _sample_size("n_c", n_c)
    # A two-group one-way F is t²; the direction is not in F, so it is supplied.
    t = sign * math.sqrt(f)
    return _d_to_g_from_groups(t * math.sqrt(1.0 / n_t + 1.0 / n_c), n_t, n_c, "f_to_t")


def _raw_p(*, p, n_t, n_c, sign) -> _Raw:
    p = _p("p", p)
    sign = _sign(sign)
    n_t = _sample_size("n_t", n_t)
    n_c = _sample_size("n_c", n_c)
    t = sign * float(stats.t.isf(p / 2.0, n_t + n_c - 2.0))
    raw = _d_to_g_from_groups(t * math.sqrt(1.0 / n_t + 1.0 / n_c), n_t, n_c, "p_to_t")
    # The reported p is the study's own significance test; keep it rather than a z re-test.
    return replace(raw, p_value=p)


def _log_or_variance(odds_ratio: float, ci_low, ci_high, se, variance) -> tuple[float, str]:
    """Variance of ln(OR) from whichever of variance, SE or 95% CI was reported."""
    if variance is not None:
        return _positive("variance", variance), ""
    if se is not None:
        return _positive("se", se) ** 2, ""
    if ci_low is not None or ci_high is not None:
        low, high = _ci(odds_ratio, ci_low, ci_high)
        if low <= 0:
            raise EffectSizeError("ci_low", "ci_low must be greater than 0")
        return _se_from_ci(math.log(low), math.log(high)) ** 2, "_ci"
    raise EffectSizeError("se", "se, variance or ci_low/ci_high of the odds ratio is required")


def _or_to_d(log_or: float, var_log_or: float, method: str) -> tuple[float, float, str]:
    """Put a log odds ratio on the d scale by the logit (Hasselblad-Hedges) or Cox method."""
    if method == "logit":
        return log_or * _LOGIT_FACTOR, var_log_or * _LOGIT_FACTOR**2, "logit_or"
    if method == "cox":
        return log_or / _COX_FACTOR, var_log_or / _COX_FACTOR**2, "cox_or"
    raise EffectSizeError("method", "method must be 'logit' or 'cox'")


def _raw_odds_ratio(
    *,
    odds_ratio,
    ci_low=None,
    ci_high=None,
    se=None,
    variance=None,
    method="logit",
    n_t=None,
    n_c=None,
) -> _Raw:
    odds_ratio = _positive("odds_ratio", odds_ratio)
    var_log_or, ci_suffix = _log_or_variance(odds_ratio, ci_low, ci_high, se, variance)
    d, v, conversion = _or_to_d(math.log(odds_ratio), var_log_or, method)
    n_t = None if n_t is None else _sample_size("n_t", n_t)
    n_c = None if n_c is None else _sample_size("n_c", n_c)
    return _Raw(g=d, variance=v, conversion=conversion + ci_suffix, n_t=n_t, n_c=n_c)


def _raw_two_by_two(*, events_t, n_t, events_c, n_c, method="logit") -> _Raw:
    n_t = _sample_size("n_t", n_t)
    n_c = _sample_size("n_c", n_c)
    events_t = _number("events_t", events_t)
    events_c = _number("events_c", events_c)
    for field, events, n in (("events_t", events_t, n_t), ("events_c", events_c, n_c)):
        if events < 0:
            raise EffectSizeError(field, f"{field} must be at least 0")
        if events > n:
            raise EffectSizeError(field, f"{field} must not exceed the group size")
    cells = [events_t, n_t - events_t, events_c, n_c - events_c]
    suffix = ""
    # metafor's escalc default (add=1/2, to="only0"): add 0.5 to every cell of a table with a zero.
    if any(cell == 0 for cell in cells):
        cells = [cell + 0.5 for cell in cells]
        suffix = "+zero_cell_0.5"
    a, b, c, d_cell = cells
    log_or = math.log(a) - math.log(b) - math.log(c) + math.log(d_cell)
    var_log_or = 1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d_cell
    d, v, conversion = _or_to_d(log_or, var_log_or, method)
    return _Raw(g=d, variance=v, conversion=conversion + suffix, n_t=n_t, n_c=n_c)


def _raw_r(*, r, n) -> _Raw:
    r = _number("r", r)
    if abs(r) >= 1:
        raise EffectSizeError("r", "r must be strictly between -1 and 1")
    n = _sample_size("n", n)
    one_minus = 1.0 - r * r
    var_r = one_minus**2 / (n - 1.0)
    return _Raw(
        g=2.0 * r / math.sqrt(one_minus),
        variance=4.0 * var_r / one_minus**3,
        conversion="r_to_d",
    )


def _raw_smd(
    *,
    value,
    se=None,
    variance=None,
    ci_low=None,
    ci_high=None,
    n_t=None,
    n_c=None,
    kind="g",
) -> _Raw:
    value = _number("value", value)
    if kind not in ("g", "d"):
        raise EffectSizeError("kind", "kind must be 'g' or 'd'")
    n_t = None if n_t is None else _sample_size("n_t", n_t)
    n_c = None if n_c is None else _sample_size("n_c", n_c)
    if (n_t is None) != (n_c is None):
        missing = "n_c" if n_c is None else "n_t"
        raise EffectSizeError(missing, f"{missing} is required when the other group size is given")
    has_ns = n_t is not None and n_c is not None

    # A d with group sizes gets the same exact J as d from group data; var(g) = J²·var(d).
    factor = 1.0
    if kind == "d" and has_ns:
        factor = hedges_j(n_t + n_c - 2.0)
        name = "reported_d_hedges_exact_j"
    elif kind == "d":
        name = "reported_d_uncorrected"
    else:
        name = "reported_smd"
    g = factor * value

    if variance is not None:
        v = factor**2 * _positive("variance", variance)
    elif se is not None:
        v = (factor * _positive("se", se)) ** 2
    elif ci_low is not None or ci_high is not None:
        low, high = _ci(value, ci_low, ci_high)
        v = (factor * _se_from_ci(low, high)) ** 2
        name += "_ci"
    elif has_ns:
        v = ls_variance(g, n_t, n_c)
        name += "_ls_variance"
    else:
        raise EffectSizeError("se", "se, variance, ci_low/ci_high or n_t and n_c is required")
    t_naive = g / math.sqrt(1.0 / n_t + 1.0 / n_c) if has_ns else None
    return _Raw(g=g, variance=v, conversion=name, n_t=n_t, n_c=n_c, t_naive=t_naive)


@_numerically_guarded
def g_from_percentile_points(points: Any) -> float:
    """g from an improvement index: g = Φ⁻¹(0.5 + points/100) (no variance without group sizes)."""
    points = _number("points", points)
    if not -50 < points < 50:
        raise EffectSizeError("points", "points must be strictly between -50 and 50")
    # Inverse of the improvement index: the control-group percentile the treated average reaches.
    return float(stats.norm.ppf(0.5 + points / 100.0))


def _raw_percentile_points(*, points, n_t, n_c) -> _Raw:
    g = g_from_percentile_points(points)
    n_t = _sample_size("n_t", n_t)
    n_c = _sample_size("n_c", n_c)
    return _Raw(
        g=g,
        variance=ls_variance(g, n_t, n_c),
        conversion="percentile_points_probit",
        n_t=n_t,
        n_c=n_c,
    )


_RAW: dict[str, Callable[..., _Raw]] = {
    "smd": _raw_smd,
    "means": _raw_means,
    "t": _raw_t,
    "f": _raw_f,
    "p": _raw_p,
    "odds_ratio": _raw_odds_ratio,
    "two_by_two": _raw_two_by_two,
    "r": _raw_r,
    "percentile_points": _raw_percentile_points,
}

# Fields each input kind needs; the others in its signature are optional.
_REQUIRED = {
    "smd": ("value",),
    "means": ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c"),
    "t": ("t", "n_t", "n_c"),
    "f": ("f", "n_t", "n_c", "sign"),
    "p": ("p", "n_t", "n_c", "sign"),
    "odds_ratio": ("odds_ratio",),
    "two_by_two": ("events_t", "n_t", "events_c", "n_c"),
    "r": ("r", "n"),
    "percentile_points": ("points", "n_t", "n_c"),
}

_OPTIONAL = {
    "smd": ("se", "variance", "ci_low", "ci_high", "n_t", "n_c", "kind"),
    "odds_ratio": ("ci_low", "ci_high", "se", "variance", "method", "n_t", "n_c"),
    "two_by_two": ("method",),
}


# ---------------------------------------------------------------------------------------------
# Clustering, orientation and significance
# ---------------------------------------------------------------------------------------------


@_numerically_guarded
def cluster_correction(
    *, g: float, n_t: float, n_c: float, icc: float, m: float, t_naive: float | None = None
) -> tuple[float, float, float]:
    """Correct an effect from a clustered design analysed as if individual: (g, v, p).

    With N = n_t + n_c, average cluster size m and intraclass correlation ρ:

    * Effect size (Hedges 2007b, "Effect sizes in cluster-randomized designs", JEBS 32(4),
      341-370, d_T standardised by the total SD, equal cluster sizes):
      g_T = g · √(1 − 2(m−1)ρ/(N−2)).
    * Its variance (same source):
      v_T = (1/n_t + 1/n_c)(1 + (m−1)ρ)
            + g_T² · [(N−2)(1−ρ)² + m(N−2m)ρ² + 2(N−2m)ρ(1−ρ)] / [2(N−2)((N−2) − 2(m−1)ρ)].
    * Significance (Hedges 2007a, "Correcting a significance test for clustering", JEBS 32(2),
      151-179; WWC Procedures Handbook eqs. for t_a and h): the naive two-sample t is
      t_A = t · √(((N−2) − 2(m−1)ρ) / ((N−2)(1 + (m−1)ρ))) on
      h = ((N−2) − 2(m−1)ρ)² / ((N−2)(1−ρ)² + m(N−2m)ρ² + 2(N−2m)ρ(1−ρ)) degrees of freedom,
      and p = 2·P(T_h > |t_A|). The naive t is the reported/implied t when the route has one,
      else g/√(1/n_t + 1/n_c) as WWC does.

    All three reduce to the unclustered values at ρ = 0 or m = 1 (up to LS vs. N−2 in v).
    """
    big_n = n_t + n_c
    if not 0 <= icc < 1:
        raise EffectSizeError("icc", "icc must be at least 0 and less than 1")
    if m < 1:
        raise EffectSizeError("m", "m (average cluster size) must be at least 1")
    if m > big_n / 2.0:
        # Fewer than two clusters leaves no between-cluster replication to test against.
        raise EffectSizeError("m", "m (average cluster size) allows fewer than 2 clusters")
    base = big_n - 2.0
    shrink = base - 2.0 * (m - 1.0) * icc
    # m ≤ N/2 and ρ < 1 make shrink > 0 and the df denominator > 0 (checked for safety).
    spread = (
        base * (1.0 - icc) ** 2
        + m * (big_n - 2.0 * m) * icc**2
        + 2.0 * (big_n - 2.0 * m) * icc * (1.0 - icc)
    )
    if shrink <= 0 or spread <= 0:
        raise EffectSizeError("m", "cluster size and icc leave no degrees of freedom")
    g_t = g * math.sqrt(shrink / base)
    v_t = (1.0 / n_t + 1.0 / n_c) * (1.0 + (m - 1.0) * icc) + g_t**2 * spread / (
        2.0 * base * shrink
    )
    t = g / math.sqrt(1.0 / n_t + 1.0 / n_c) if t_naive is None else t_naive
    t_a = t * math.sqrt(shrink / (base * (1.0 + (m - 1.0) * icc)))
    h = shrink**2 / spread
    p = float(2.0 * stats.t.sf(abs(t_a), h))
    return g_t, v_t, p


def _finish(raw: _Raw, *, higher_is_better: bool, reported_p: Any, conversion: str) -> EffectResult:
    """Orient, test and package a converted effect."""
    g, v = raw.g, raw.variance
    if not (math.isfinite(g) and math.isfinite(v) and v > 0):
        # Only reachable with extreme inputs (e.g. n near overflow); better loud than NaN.
        raise EffectSizeError("variance", "the effect size or its variance is not finite")
    if reported_p is not None:
        p = _p("reported_p", reported_p)
    elif raw.p_value is not None:
        p = raw.p_value
    else:
        p = two_sided_z_p(g, v)
    if not higher_is_better:
        # Lower is better (absences, dropout): flip so that positive always means favorable.
        g = -g
    se = math.sqrt(v)
    ci_low, ci_high = g - _Z95 * se, g + _Z95 * se
    if not (math.isfinite(ci_low) and math.isfinite(ci_high) and math.isfinite(p)):
        # A finite g and variance near the float range's end still overflow the interval.
        raise EffectSizeError("variance", "the effect size's confidence interval is not finite")
    significant = p < ALPHA
    direction: Direction = "null"
    if significant and g != 0:
        direction = "favorable" if g > 0 else "unfavorable"
    return EffectResult(
        g=g,
        variance=v,
        se=se,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p,
        significant=significant,
        direction=direction,
        conversion=conversion,
        conversion_version=CONVERSION_VERSION,
        improvement_index=improvement_index(g),
    )


def _apply(
    raw: _Raw,
    *,
    higher_is_better: bool = True,
    reported_p: Any = None,
    clustered: bool = False,
    icc: Any = None,
    n_clusters: Any = None,
    m: Any = None,
    outcome_is_achievement: bool = True,
) -> EffectResult:
    """Apply the optional cluster correction, then orient and test the effect."""
    if not clustered:
        return _finish(
            raw,
            higher_is_better=higher_is_better,
            reported_p=reported_p,
            conversion=raw.conversion,
        )
    if raw.n_t is None or raw.n_c is None:
        raise EffectSizeError(
            "n_t", "n_t and n_c are required to correct a clustered effect (Hedges 2007)"
        )
    rho = default_icc(outcome_is_achievement) if icc is None else _number("icc", icc)
    if m is not None:
        cluster_size = _number("m", m)
    elif n_clusters is not None:
        clusters = _number("n_clusters", n_clusters)
        if clusters < 2:
            raise EffectSizeError("n_clusters", "n_clusters must be at least 2")
        cluster_size = (raw.n_t + raw.n_c) / clusters
    else:
        raise EffectSizeError("n_clusters", "n_clusters or m is required for a clustered effect")
    g, v, p = cluster_correction(
        g=raw.g, n_t=raw.n_t, n_c=raw.n_c, icc=rho, m=cluster_size, t_naive=raw.t_naive
    )
    # The reported p came from the analysis that ignored clustering, so the corrected test wins.
    corrected = _Raw(g=g, variance=v, conversion=raw.conversion, p_value=p)
    return _finish(
        corrected,
        higher_is_better=higher_is_better,
        reported_p=None,
        conversion=raw.conversion + "+cluster_hedges2007",
    )


# ---------------------------------------------------------------------------------------------
# Public converters, one per reported-statistic kind
# ---------------------------------------------------------------------------------------------


@_numerically_guarded
def from_means(
    *,
    mean_t: float,
    sd_t: float,
    n_t: float,
    mean_c: float,
    sd_c: float,
    n_c: float,
    higher_is_better: bool = True,
    reported_p: float | None = None,
) -> EffectResult:
    """Hedges' g from group means, SDs and sizes (pooled SD, exact J, LS variance)."""
    raw = _raw_means(mean_t=mean_t, sd_t=sd_t, n_t=n_t, mean_c=mean_c, sd_c=sd_c, n_c=n_c)
    return _apply(raw, higher_is_better=higher_is_better, reported_p=reported_p)


@_numerically_guarded
def from_t(
    *,
    t: float,
    n_t: float,
    n_c: float,
    higher_is_better: bool = True,
    reported_p: float | None = None,
) -> EffectResult:
    """Hedges' g from an independent-samples t: d = t·√(1/n_t + 1/n_c), then exact J."""
    raw = _raw_t(t=t, n_t=n_t, n_c=n_c)
    return _apply(raw, higher_is_better=higher_is_better, reported_p=reported_p)


@_numerically_guarded
def from_f(
    *,
    f: float,
    n_t: float,
    n_c: float,
    sign: int,
    higher_is_better: bool = True,
    reported_p: float | None = None,
) -> EffectResult:
    """Hedges' g from a two-group F (|t| = √F, sign +1 when treatment scored higher)."""
    raw = _raw_f(f=f, n_t=n_t, n_c=n_c, sign=sign)
    return _apply(raw, higher_is_better=higher_is_better, reported_p=reported_p)


@_numerically_guarded
def from_p(
    *,
    p: float,
    n_t: float,
    n_c: float,
    sign: int,
    higher_is_better: bool = True,
    reported_p: float | None = None,
) -> EffectResult:
    """Hedges' g from an exact two-sided p: t = qt(1 − p/2, n_t + n_c − 2) with the given sign."""
    raw = _raw_p(p=p, n_t=n_t, n_c=n_c, sign=sign)
    return _apply(raw, higher_is_better=higher_is_better, reported_p=reported_p)


@_numerically_guarded
def from_odds_ratio(
    *,
    odds_ratio: float,
    ci_low: float | None = None,
    ci_high: float | None = None,
    se: float | None = None,
    variance: float | None = None,
    method: str = "logit",
    n_t: float | None = None,
    n_c: float | None = None,
    higher_is_better: bool = True,
    reported_p: float | None = None,
) -> EffectResult:
    """d-scale effect from an odds ratio; se/variance are of ln(OR), the CI is on the OR scale.

    method="logit": d = ln(OR)·√3/π, v = v_lnOR·3/π² (metafor OR2DL); method="cox": d = ln(OR)/1.65,
    v = v_lnOR/1.65² (the WWC Cox index, metafor OR2DN). Precedence: variance, se, then CI.
    n_t and n_c are only needed for a cluster correction.
    """
    raw = _raw_odds_ratio(
        odds_ratio=odds_ratio,
        ci_low=ci_low,
        ci_high=ci_high,
        se=se,
        variance=variance,
        method=method,
        n_t=n_t,
        n_c=n_c,
    )
    return _apply(raw, higher_is_better=higher_is_better, reported_p=reported_p)


@_numerically_guarded
def from_two_by_two(
    *,
    events_t: float,
    n_t: float,
    events_c: float,
    n_c: float,
    method: str = "logit",
    higher_is_better: bool = True,
    reported_p: float | None = None,
) -> EffectResult:
    """d-scale effect from event counts (0.5 added to every cell of a table with a zero cell)."""
    raw = _raw_two_by_two(events_t=events_t, n_t=n_t, events_c=events_c, n_c=n_c, method=method)
    return _apply(raw, higher_is_better=higher_is_better, reported_p=reported_p)


@_numerically_guarded
def from_r(
    *,
    r: float,
    n: float,
    higher_is_better: bool = True,
    reported_p: float | None = None,
) -> EffectResult:
    """d from a (point-biserial) correlation: d = 2r/√(1−r²), v = 4·v_r/(1−r²)³ (Borenstein)."""
    return _apply(_raw_r(r=r, n=n), higher_is_better=higher_is_better, reported_p=reported_p)


@_numerically_guarded
def from_smd(
    *,
    value: float,
    se: float | None = None,
    variance: float | None = None,
    ci_low: float | None = None,
    ci_high: float | None = None,
    n_t: float | None = None,
    n_c: float | None = None,
    kind: str = "g",
    higher_is_better: bool = True,
    reported_p: float | None = None,
) -> EffectResult:
    """A reported g or d with its variance, SE, 95% CI or (failing those) the group sizes.

    A d with group sizes is corrected to g with the exact J (variance scaled by J²); a d without
    them is used as is and the conversion says so. Precedence: variance, se, CI, then LS variance.
    """
    raw = _raw_smd(
        value=value,
        se=se,
        variance=variance,
        ci_low=ci_low,
        ci_high=ci_high,
        n_t=n_t,
        n_c=n_c,
        kind=kind,
    )
    return _apply(raw, higher_is_better=higher_is_better, reported_p=reported_p)


@_numerically_guarded
def from_percentile_points(
    *,
    points: float,
    n_t: float,
    n_c: float,
    higher_is_better: bool = True,
    reported_p: float | None = None,
) -> EffectResult:
    """g from an improvement index in percentile points: g = Φ⁻¹(0.5 + points/100), LS variance."""
    raw = _raw_percentile_points(points=points, n_t=n_t, n_c=n_c)
    return _apply(raw, higher_is_better=higher_is_better, reported_p=reported_p)


@_numerically_guarded
def compute(
    input_kind: str,
    values: Mapping[str, Any],
    *,
    higher_is_better: bool = True,
    reported_p: float | None = None,
    clustered: bool = False,
    icc: float | None = None,
    n_clusters: float | None = None,
    m: float | None = None,
    outcome_is_achievement: bool = True,
) -> EffectResult:
    """Turn one stored reported statistic into an oriented Hedges' g with its variance.

    ``values`` holds the keyword arguments of the matching ``from_*`` converter (None counts as
    absent). With ``clustered=True`` the Hedges (2007) correction of :func:`cluster_correction`
    is applied, with ``icc`` defaulting to 0.20 for achievement outcomes and 0.10 otherwise, and
    the cluster size taken from ``m`` or else from (n_t + n_c)/``n_clusters``.
    """
    if input_kind not in _RAW:
        raise EffectSizeError("input_kind", f"input_kind must be one of {', '.join(INPUT_KINDS)}")
    present = {key: value for key, value in values.items() if value is not None}
    allowed = set(_REQUIRED[input_kind]) | set(_OPTIONAL.get(input_kind, ()))
    for key in present:
        if key not in allowed:
            raise EffectSizeError(key, f"{key} is not a field of a {input_kind} effect")
    for key in _REQUIRED[input_kind]:
        if key not in present:
            raise EffectSizeError(key, f"{key} is required")
    raw = _RAW[input_kind](**present)
    return _apply(
        raw,
        higher_is_better=higher_is_better,
        reported_p=reported_p,
        clustered=clustered,
        icc=icc,
        n_clusters=n_clusters,
        m=m,
        outcome_is_achievement=outcome_is_achievement,
    )

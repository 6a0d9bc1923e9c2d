"""Geometry of a forest plot, drawn on the server as SVG (no JavaScript, prints, scales).

Pure: takes the stored forest rows and pooled figures, returns positions for the template.
"""

import math
from dataclasses import dataclass, field

WIDTH = 760
LABEL_W = 230
PLOT_X0, PLOT_X1 = LABEL_W + 10, WIDTH - 190
ROW_H = 24
TOP = 34
LIMIT = 2.5  # effects beyond ±2.5 SD are drawn clipped, with an arrow


@dataclass
class ForestRow:
    label: str
    study_id: int | None
    text: str
    y: float
    x_low: float
    x_high: float
    x: float
    size: float
    rx: float
    ry: float
    clipped_low: bool
    clipped_high: bool
    weight: str


@dataclass
class Forest:
    width: int
    height: int
    rows: list[ForestRow]
    zero_x: float
    ticks: list[tuple[float, str]]
    axis_y: float
    plot_x0: float = PLOT_X0
    plot_x1: float = PLOT_X1
    diamond: str = ""
    diamond_text: str = ""
    diamond_y: float = 0
    pi: tuple[float, float] | None = None
    omitted: int = 0
    description: str = ""
    extra: dict = field(default_factory=dict)


def _nice_step(span: float) -> float:
    raw = span / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def build(rows: list[dict], pooled: dict | None, *, k_total: int | None = None) -> Forest | None:
    """Lay out one row per study (CI whisker, square sized by weight) and the pooled diamond."""
    if not rows:
        return None
    values = [v for r in rows for v in (r["ci_low"], r["ci_high"])] + [0.0]
    if pooled:
        values += [pooled["ci_low"], pooled["ci_high"]]
        if pooled.get("pi_low") is not None:
            values += [pooled["pi_low"], pooled["pi_high"]]
    lo = max(min(values), -LIMIT)
    hi = min(max(values), LIMIT)
    step = _nice_step(hi - lo or 1)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step

    def x(value: float) -> float:
        value = min(max(value, lo), hi)
        return PLOT_X0 + (value - lo) / (hi - lo) * (PLOT_X1 - PLOT_X0)

    max_weight = max(r["weight"] for r in rows) or 1
    laid = []
    for i, r in enumerate(rows):
        size = 4 + 8 * math.sqrt(r["weight"] / max_weight)
        y, cx = TOP + i * ROW_H, x(r["g"])
        laid.append(
            ForestRow(
                label=r["label"],
                study_id=r.get("study_id"),
                text=f"{r['g']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]",
                y=y,
                x_low=x(r["ci_low"]),
                x_high=x(r["ci_high"]),
                x=cx,
                size=size,
                rx=cx - size / 2,
                ry=y - size / 2,
                clipped_low=r["ci_low"] < lo,
                clipped_high=r["ci_high"] > hi,
                weight=f"{r['weight']:.1f}%",
            )
        )
    diamond_y = TOP + len(rows) * ROW_H + 10
    forest = Forest(
        width=WIDTH,
        height=int(diamond_y + 70),
        rows=laid,
        zero_x=x(0.0),
        ticks=[],
        axis_y=diamond_y + 30,
        diamond_y=diamond_y,
    )
    tick = lo
    while tick <= hi + 1e-9:
        forest.ticks.append((x(tick), f"{tick:g}"))
        tick += step
    if pooled:
        left, mid, right = x(pooled["ci_low"]), x(pooled["estimate"]), x(pooled["ci_high"])
        forest.diamond = f"{left:.1f},{diamond_y:.1f} {mid:.1f},{diamond_y - 7:.1f} {right:.1f},{diamond_y:.1f} {mid:.1f},{diamond_y + 7:.1f}"
        forest.diamond_text = (
            f"{pooled['estimate']:.2f} [{pooled['ci_low']:.2f}, {pooled['ci_high']:.2f}]"
        )
        if pooled.get("pi_low") is not None:
            forest.pi = (x(pooled["pi_low"]), x(pooled["pi_high"]))
    if k_total and k_total > len(rows):
        forest.omitted = k_total - len(rows)
    forest.description = (
        f"Forest plot of {len(rows)} studies: each study's effect (Hedges' g) with its 95% confidence "
        "interval; squares are sized by the study's weight; the diamond is the combined estimate"
        + (f" ({forest.diamond_text})" if pooled else "")
        + "; the vertical line marks no effect."
    )
    return forest

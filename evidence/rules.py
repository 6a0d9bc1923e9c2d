"""ESSA tiers of studies and the element evidence rating (EVIDENCE.md §3-§4), as pure functions.

Plain data in, plain data out: no Django. Every decision returns its reasons as data (a rule code,
the figures, the study ids behind each condition) so pages and the API can say why.
"""

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .stats.meta import PooledResult

RULES_VERSION = 1
MIN_STUDENTS = 350
MIN_SITES = 2
MAX_STORED_IDS = 100

RANDOMIZED = frozenset({"rct", "cluster_rct"})
QUASI_EXPERIMENTAL = frozenset({"qed", "rdd"})
CORRELATIONAL_WITH_CONTROLS = frozenset({"correlational"})
SYNTHESES = frozenset({"meta_analysis", "systematic_review"})
MEETS_STANDARDS = frozenset({"meets_without", "meets_with"})


@dataclass(frozen=True)
class EffectFacts:
    """One whole-sample (or one-population) effect of a study within the unit being rated."""

    g: float | None
    variance: float | None
    significant: bool | None
    outcome_domain: str = ""

    @property
    def favorable(self) -> bool:
        return bool(self.significant) and self.g is not None and self.g > 0

    @property
    def unfavorable(self) -> bool:
        return bool(self.significant) and self.g is not None and self.g < 0


@dataclass(frozen=True)
class StudyFacts:
    """What the rules need to know about one study."""

    study_id: int
    design: str
    wwc_rating: str = "not_reviewed"
    sample_size: int | None = None
    sample_unit: str = "students"
    n_sites: int | None = None
    effects: tuple[EffectFacts, ...] = ()

    @property
    def is_synthesis(self) -> bool:
        return self.design in SYNTHESES

    @property
    def has_favorable(self) -> bool:
        return any(e.favorable for e in self.effects)

    @property
    def has_unfavorable(self) -> bool:
        return any(e.unfavorable for e in self.effects)

    @property
    def has_significant(self) -> bool:
        return any(e.significant for e in self.effects)

    @property
    def large_multisite(self) -> bool:
        students = self.sample_size if self.sample_unit in ("students", "") else None
        return (students or 0) >= MIN_STUDENTS and (self.n_sites or 0) >= MIN_SITES


@dataclass(frozen=True)
class TierDecision:
    """A study's ESSA tier (None: no tier), its design level, and why."""

    tier: int | None
    design_level: int | None
    code: str
    text: str
    unfavorable: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "design_level": self.design_level,
            "code": self.code,
            "text": self.text,
            "unfavorable": self.unfavorable,
            "rules_version": RULES_VERSION,
        }


def design_level(study: StudyFacts) -> tuple[int | None, str]:
    """The tier the study's design, rating, sample and sites would earn with a favorable result."""
    if study.is_synthesis:
        return None, "a synthesis of other studies, shown but not rated"
    if study.design == "not_yet_coded":
        return None, "its design has not been coded by a curator yet"
    if study.design in RANDOMIZED | QUASI_EXPERIMENTAL:
        kind = "randomized experiment" if study.design in RANDOMIZED else "quasi-experimental study"
        if study.wwc_rating in MEETS_STANDARDS and study.large_multisite:
            if study.design in RANDOMIZED and study.wwc_rating == "meets_without":
                return 1, f"a {kind} meeting standards without reservations, {_sample(study)}"
            return 2, f"a {kind} meeting standards, {_sample(study)}"
        missing = []
        if study.wwc_rating not in MEETS_STANDARDS:
            missing.append("not reviewed as meeting standards")
        if not study.large_multisite:
            missing.append(f"fewer than {MIN_STUDENTS} students across {MIN_SITES} sites")
        return 3, f"a {kind} ({'; '.join(missing)})"
    if study.design in CORRELATIONAL_WITH_CONTROLS:
        return 3, "a correlational study with statistical controls for selection"
    return 4, "descriptive, qualitative or theoretical work that demonstrates a rationale"


def study_tier(study: StudyFacts) -> TierDecision:
    """ESSA tier of one study from its design, WWC rating, sample, sites and effects (§3)."""
    return tier_decision(
        study.design,
        study.wwc_rating,
        study.sample_size,
        study.sample_unit,
        study.n_sites,
        study.has_favorable,
        study.has_unfavorable,
        bool(study.effects),
    )


def tier_decision(
    design, wwc_rating, sample_size, sample_unit, n_sites, favorable, unfavorable, has_effects
) -> TierDecision:
    """ESSA tier from the few facts it depends on (cached: most studies share them).

    The sample figures are quoted only for a design that earns Tier 1-2; for any other study
    only whether it is large and multi-site matters, so the cache key keeps just that.
    """
    large = (
        sample_unit in ("students", "")
        and (sample_size or 0) >= MIN_STUDENTS
        and (n_sites or 0) >= MIN_SITES
    )
    if not (large and wwc_rating in MEETS_STANDARDS and design in RANDOMIZED | QUASI_EXPERIMENTAL):
        sample_size, n_sites = (MIN_STUDENTS, MIN_SITES) if large else (None, None)
        sample_unit = "students"
    return _tier_decision(
        design, wwc_rating, sample_size, sample_unit, n_sites, favorable, unfavorable, has_effects
    )


@functools.lru_cache(maxsize=65536)
def _tier_decision(
    design, wwc_rating, sample_size, sample_unit, n_sites, favorable, unfavorable, has_effects
) -> TierDecision:
    study = StudyFacts(0, design, wwc_rating, sample_size, sample_unit, n_sites)
    level, described = design_level(study)
    if level is None:
        code = "synthesis" if design in SYNTHESES else "design_not_coded"
        return TierDecision(None, None, code, f"Not tiered: {described}.")
    if level == 4:
        return TierDecision(4, 4, "tier_4", f"Tier 4: {described}.")
    if favorable:
        names = {1: "Tier 1 (strong)", 2: "Tier 2 (moderate)", 3: "Tier 3 (promising)"}
        return TierDecision(
            level,
            level,
            f"tier_{level}",
            f"{names[level]}: {described}, with a statistically significant favorable effect.",
            unfavorable=unfavorable,
        )
    if unfavorable:
        return TierDecision(
            None,
            level,
            "unfavorable",
            f"No tier: {described}, whose significant effects are unfavorable.",
            unfavorable=True,
        )
    if not has_effects:
        return TierDecision(
            None, level, "no_effects", f"No tier yet: {described}; effect sizes not yet extracted."
        )
    return TierDecision(
        None,
        level,
        "no_significant_effect",
        f"No tier: {described}, without a significant favorable effect.",
    )


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    study_ids: tuple[int, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        # Stored ids are capped so a summary stays small at any scale; the count is exact.
        return {
            "code": self.code,
            "text": self.text,
            "study_ids": list(self.study_ids[:MAX_STORED_IDS]),
            "study_count": len(self.study_ids),
            **self.figures,
        }


@dataclass(frozen=True)
class RatingDecision:
    rating: str
    rule: int
    reasons: tuple[Reason, ...]
    next_level: dict[str, Any]


@dataclass(frozen=True)
class StudySet:
    """The studies of one unit being rated, as columns: one entry per study.

    Columns rather than objects because a recompute rates hundreds of units of thousands of
    studies each. ``tier`` and ``level`` hold 0 for "none".
    """

    ids: np.ndarray
    synthesis: np.ndarray
    tier: np.ndarray
    level: np.ndarray
    favorable: np.ndarray
    unfavorable: np.ndarray
    significant: np.ndarray

    def __len__(self) -> int:
        return int(self.ids.size)

    @classmethod
    def from_facts(cls, studies: Sequence[StudyFacts]) -> "StudySet":
        decisions = [study_tier(s) for s in studies]

        def column(values, dtype) -> np.ndarray:
            return np.fromiter(values, dtype=dtype, count=len(studies))

        return cls(
            ids=column((s.study_id for s in studies), np.int64),
            synthesis=column((s.is_synthesis for s in studies), bool),
            tier=column((d.tier or 0 for d in decisions), np.int8),
            level=column((d.design_level or 0 for d in decisions), np.int8),
            favorable=column((s.has_favorable for s in studies), bool),
            unfavorable=column((s.has_unfavorable for s in studies), bool),
            significant=column((s.has_significant for s in studies), bool),
        )


NEXT_TIER_1_2 = (
    f"a randomized or quasi-experimental study that meets WWC standards, with at least "
    f"{MIN_STUDENTS} students across at least {MIN_SITES} sites, finding a significant favorable effect"
)
NEXT_TIER_1 = (
    f"a randomized study that meets WWC standards without reservations, with at least "
    f"{MIN_STUDENTS} students across at least {MIN_SITES} sites, finding a significant favorable effect"
)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _sample(study: StudyFacts) -> str:
    return f"{study.sample_size or 'unknown number of'} students across {study.n_sites or 'unknown'} sites"


def rate_element(
    studies: Sequence[StudyFacts],
    *,
    pool_studies: Callable[[Sequence[StudyFacts]], PooledResult | None],
    population_label: str = "",
) -> RatingDecision:
    """:func:`rate_study_set` for a list of studies; ``pool_studies`` gets the studies to pool."""
    return rate_study_set(
        StudySet.from_facts(studies),
        pool_studies=lambda mask: pool_studies(
            [s for s, keep in zip(studies, mask, strict=True) if keep]
        ),
        population_label=population_label,
    )


def rate_study_set(
    studies: StudySet,
    *,
    pool_studies: Callable[[np.ndarray], PooledResult | None],
    population_label: str = "",
) -> RatingDecision:
    """The element's rating by the first rule that applies (§4), with its reasons and next level.

    ``pool_studies`` pools the effects (one per study) of the studies selected by a boolean
    mask; it is used for the 'strong' condition that the Tier 1-2 studies' pooled effect is
    favorable and significant.
    """
    primary = ~studies.synthesis
    tier, level = studies.tier, studies.level
    for_whom = f" for {population_label}" if population_label else ""

    tier12 = primary & ((tier == 1) | (tier == 2))
    tier1 = primary & (tier == 1)
    tier3 = primary & (tier == 3)
    level13 = primary & (level >= 1) & (level <= 3)
    level12 = primary & (level >= 1) & (level <= 2)
    fav13 = level13 & studies.favorable
    unfav13 = level13 & studies.unfavorable
    unfav12 = level12 & studies.unfavorable

    def _ids(mask: np.ndarray | None = None) -> tuple[int, ...]:
        chosen = studies.ids if mask is None else studies.ids[mask]
        return tuple(np.sort(chosen).tolist())

    def _n(mask: np.ndarray) -> int:
        return int(np.count_nonzero(mask))

    def next_level(target: str, text: str) -> dict[str, Any]:
        return {"rating": target, "text": text[0].upper() + text[1:] + for_whom + "."}

    if not len(studies):
        return RatingDecision(
            "no_evidence",
            1,
            (
                Reason(
                    "no_published_study",
                    f"No published study{for_whom} is tagged to this element yet.",
                ),
            ),
            next_level("emerging", "at least one published study tagged to this element"),
        )
    count = Reason(
        "studies_considered",
        f"{_plural(len(studies), 'published study', 'published studies')}{for_whom}, "
        f"{_plural(_n(tier12), 'at Tier 1-2', 'at Tier 1-2')}, {_n(tier3)} at Tier 3.",
        _ids(),
        {"k_studies": len(studies), "tier_1_2": _n(tier12), "tier_3": _n(tier3)},
    )
    if fav13.any() and unfav13.any():
        return RatingDecision(
            "mixed",
            2,
            (
                Reason(
                    "mixed_results",
                    "Rigorous studies disagree: some find significant favorable effects, others significant unfavorable ones.",
                    _ids(fav13 | unfav13),
                    {"favorable": _n(fav13), "unfavorable": _n(unfav13)},
                ),
                Reason(
                    "favorable_studies",
                    f"{_plural(_n(fav13), 'study', 'studies')} with a significant favorable effect.",
                    _ids(fav13),
                ),
                Reason(
                    "unfavorable_studies",
                    f"{_plural(_n(unfav13), 'study', 'studies')} with a significant unfavorable effect.",
                    _ids(unfav13),
                ),
                count,
            ),
            next_level(
                "moderate", f"further Tier 1-2 evidence that resolves the conflict: {NEXT_TIER_1_2}"
            ),
        )
    if _n(tier12) >= 2 and tier1.any() and not unfav12.any():
        pooled = pool_studies(tier12)
        if pooled is not None and pooled.estimate > 0 and pooled.ci_low > 0:
            return RatingDecision(
                "strong",
                3,
                (
                    Reason(
                        "tier_1_2_studies",
                        f"{_plural(_n(tier12), 'study', 'studies')} at ESSA Tier 1-2, {_n(tier1)} of them at Tier 1.",
                        _ids(tier12),
                        {"tier_1_2": _n(tier12), "tier_1": _n(tier1)},
                    ),
                    Reason(
                        "pooled_favorable",
                        f"Together they show a significant favorable effect (g = {pooled.estimate:.2f}, 95% CI {pooled.ci_low:.2f} to {pooled.ci_high:.2f}).",
                        _ids(tier12),
                        {
                            "estimate": pooled.estimate,
                            "ci_low": pooled.ci_low,
                            "ci_high": pooled.ci_high,
                        },
                    ),
                    Reason(
                        "no_unfavorable",
                        "No Tier 1-2 study finds a significant unfavorable effect.",
                    ),
                    count,
                ),
                {},
            )
    if tier12.any() and not unfav12.any():
        if _n(tier12) >= 2 and tier1.any():
            needed = "Tier 1-2 studies whose combined effect is significant and favorable"
        elif not tier1.any():
            needed = NEXT_TIER_1
        else:
            needed = f"one more {NEXT_TIER_1_2}"
        return RatingDecision(
            "moderate",
            4,
            (
                Reason(
                    "tier_1_2_studies",
                    f"{_plural(_n(tier12), 'study', 'studies')} at ESSA Tier 1-2 (randomized or quasi-experimental, meeting standards, large and multi-site, significant favorable effect).",
                    _ids(tier12),
                    {"tier_1_2": _n(tier12), "tier_1": _n(tier1)},
                ),
                Reason(
                    "no_unfavorable", "No Tier 1-2 study finds a significant unfavorable effect."
                ),
                count,
            ),
            next_level("strong", needed),
        )
    if tier3.any() and not unfav13.any():
        return RatingDecision(
            "promising",
            5,
            (
                Reason(
                    "tier_3_studies",
                    f"{_plural(_n(tier3), 'study', 'studies')} at ESSA Tier 3 (a significant favorable effect from a correlational study with controls, or a smaller experiment).",
                    _ids(tier3),
                    {"tier_3": _n(tier3)},
                ),
                count,
            ),
            next_level("moderate", NEXT_TIER_1_2),
        )
    if _n(level12) >= 2 and not studies.significant[level12].any():
        return RatingDecision(
            "no_detectable_effect",
            6,
            (
                Reason(
                    "null_rigorous_studies",
                    f"{_plural(_n(level12), 'rigorous study', 'rigorous studies')} (Tier 1-2 designs) found no significant effect either way.",
                    _ids(level12),
                    {"design_level_1_2": _n(level12)},
                ),
                count,
            ),
            next_level("moderate", NEXT_TIER_1_2),
        )
    return RatingDecision(
        "emerging",
        7,
        (
            Reason(
                "rationale_only",
                "The published studies show a rationale or promise but no significant favorable effect from a controlled design yet.",
                _ids(),
                {"k_studies": len(studies)},
            ),
            count,
        ),
        next_level(
            "promising",
            "a study with a significant favorable effect from an experiment, a quasi-experiment or a correlational design with statistical controls",
        ),
    )

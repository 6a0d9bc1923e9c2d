"""The report's words: the plain-language summary at the top and what would move a unit up."""

from __future__ import annotations

import functools

from .. import rules
from .data import TIER_1_2, ElementRow, EquityRow, NextLevel
from .filters import GapFilters, Term

# Words that start a population label but are not proper nouns, lowered inside a sentence.
_COMMON_FIRST_WORDS = {"Students", "Girls", "Boys", "Gifted", "Adult", "First-generation"}


def in_sentence(label: str) -> str:
    """A population label as it reads inside a sentence ('students with disabilities')."""
    first, _, rest = label.partition(" ")
    return f"{first.lower()} {rest}".strip() if first in _COMMON_FIRST_WORDS else label


@functools.cache
def _engine_next_level(dist: int) -> tuple[str, str]:
    """The engine's own next level for a unit at this distance (rules.rate_element's words)."""
    favorable = rules.EffectFacts(g=0.3, variance=0.01, significant=True)
    typical = {
        3: [],
        2: [rules.StudyFacts(study_id=1, design="qualitative")],
        1: [rules.StudyFacts(study_id=1, design="correlational", effects=(favorable,))],
        0: [
            rules.StudyFacts(
                study_id=1,
                design="qed",
                wwc_rating="meets_with",
                sample_size=rules.MIN_STUDENTS,
                n_sites=rules.MIN_SITES,
                effects=(favorable,),
            )
        ],
    }[dist]
    decision = rules.rate_element(typical, pool_studies=lambda _: None)
    return decision.next_level.get("rating", ""), decision.next_level.get("text", "")


def _scope_phrase(dimension: str, column: Term | None) -> str:
    if column is None:
        return ""
    return {
        "population": f" on {in_sentence(column.label)}",
        "outcome_domain": f", measuring {column.label[0].lower()}{column.label[1:]}",
        "grade_band": f" ({column.label})",
        "setting": f" (setting: {column.label})",
        "design": f" (design: {column.label})",
    }[dimension]


def next_level(
    dist: int, stored: tuple[str, dict] | None, dimension: str, column: Term | None
) -> NextLevel:
    """What would move a unit up: the stored summary's next level where one exists for this very
    unit (and nothing is filtered out), else the engine's wording at this distance, scoped."""
    if stored and stored[1].get("text"):
        return NextLevel(stored[1].get("rating", ""), stored[1]["text"], True)
    rating, text = _engine_next_level(dist)
    phrase = _scope_phrase(dimension, column)
    return NextLevel(rating, f"{text.rstrip('.')}{phrase}." if phrase else text, False)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _of_elements(k: int, n: int, rest: str) -> str:
    return f"{k} of {n} elements {'has' if k == 1 else 'have'} {rest}"


def _or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def summary(
    rows: list[ElementRow], equity: tuple[EquityRow, ...], filters: GapFilters, n_studies: int
) -> tuple[str, ...]:
    """A few sentences a funder can read first, computed from the numbers below them."""
    n = len(rows)
    if n == 0:
        return ("No framework elements match these filters.",)
    statuses = "published or under review" if filters.include_under_review else "published"
    scope = " matching the filters" if filters.narrows_evidence else ""
    sentences = [
        f"This report covers {_plural(n, 'element', 'elements')} and "
        f"{_plural(n_studies, f'{statuses} study', f'{statuses} studies')}{scope}."
    ]
    weak = sum(row.total.best_tier not in TIER_1_2 for row in rows)
    if weak:
        sentences.append(_of_elements(weak, n, "no study meeting Tier 1-2."))
    else:
        sentences.append("Every element has at least one study meeting Tier 1-2.")
    empty = sum(row.total.n_studies == 0 for row in rows)
    if empty:
        sentences.append(_of_elements(empty, n, f"no study at all{scope}."))
    without = [in_sentence(r.population.label) for r in equity if r.elements_with_tier_1_2 == 0]
    if equity and len(without) == len(equity):
        sentences.append(
            "No element has Tier 1-2 evidence for any specific student population, "
            f"such as {_or_list(without[:2])}."
        )
    elif without:
        more = len(without) - 5
        extra = f" (nor for {_plural(more, 'other population', 'other populations')})"
        sentences.append(
            f"No element has Tier 1-2 evidence for {_or_list(without[:5])}"
            f"{extra if more > 0 else ''}."
        )
    old = sum("recency" in row.total.kinds for row in rows)
    if old:
        sentences.append(_of_elements(old, n, f"evidence only from before {filters.recent_year}."))
    return tuple(sentences)

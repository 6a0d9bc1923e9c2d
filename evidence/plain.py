"""Plain-language wording of ratings and pooled effects for educators (no statistics training)."""

from scipy.stats import norm

RATING_MEANING = {
    "strong": "Several large, well-run randomized studies agree that this practice helps students.",
    "moderate": "At least one large, well-run experiment or comparison study finds that this practice helps students.",
    "promising": "Studies with some controls find benefits, but no large, well-run experiment has confirmed them yet.",
    "mixed": "Rigorous studies disagree: some find benefits and others find harm.",
    "no_detectable_effect": "Rigorous studies looked for an effect and did not find one.",
    "emerging": "Research supports the idea, but no controlled study has shown a clear benefit yet.",
    "no_evidence": "No published study in this evidence base is tagged to this element yet.",
}


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def percentile_after(g: float) -> int:
    """The percentile an average (50th percentile) student would reach: 100·Φ(g), rounded."""
    return int(round(100 * float(norm.cdf(g))))


def effect_in_words(estimate: float | None, ci_low: float | None, ci_high: float | None) -> str:
    """The pooled effect as an educator would say it (the improvement index)."""
    if estimate is None:
        return "There are not yet enough numeric results to combine into one estimate."
    after = percentile_after(estimate)
    significant = ci_low is not None and ci_high is not None and (ci_low > 0 or ci_high < 0)
    if after == 50:
        movement = "would stay at about the 50th percentile"
    else:
        movement = f"would move from the 50th to about the {ordinal(after)} percentile"
    text = f"On average, a student {movement} compared with similar students who did not have this practice"
    if not significant:
        text += "; the studies cannot rule out that there is no effect at all"
    return text + "."


# One-line explanations of the statistical words educators meet (hover, focus, and the about page).
JARGON = {
    "ci": (
        "95% confidence interval",
        "The range the true effect probably lies in; if it includes zero, the studies cannot rule out no effect.",
    ),
    "heterogeneity": (
        "heterogeneity",
        "How much the studies disagree with one another beyond chance (I² near 0% means they agree).",
    ),
    "essa": (
        "ESSA tier",
        "The U.S. Every Student Succeeds Act's evidence levels: Tier 1 strong, 2 moderate, 3 promising, 4 demonstrates a rationale.",
    ),
    "g": (
        "Hedges' g",
        "The size of the difference between students with and without the practice, in standard deviations.",
    ),
    "pi": (
        "prediction interval",
        "Where the effect in a new school or classroom would likely fall.",
    ),
}

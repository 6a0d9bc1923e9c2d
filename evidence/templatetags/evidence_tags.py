from django import template

from evidence import plain
from evidence.constants import Rating

register = template.Library()


@register.inclusion_tag("evidence/_rating_badge.html")
def rating_badge(summary):
    rating = summary.rating if summary else Rating.NO_EVIDENCE
    return {"rating": rating, "label": Rating(rating).label}


@register.simple_tag
def rating_meaning(summary) -> str:
    return plain.RATING_MEANING[summary.rating if summary else Rating.NO_EVIDENCE]


@register.simple_tag
def effect_in_words(summary) -> str:
    return plain.effect_in_words(summary.estimate, summary.ci_low, summary.ci_high)


@register.inclusion_tag("evidence/_jargon.html")
def jargon(key: str):
    """A term with its one-line explanation, shown on hover and on keyboard focus."""
    term, explanation = plain.JARGON[key]
    return {"term": term, "explanation": explanation, "key": key}

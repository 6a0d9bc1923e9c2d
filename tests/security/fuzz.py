"""Shared pieces of the fuzz tests: settings scaled from the Hypothesis profile, evil strings."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Markup that must come out escaped wherever a user's text is shown.
XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"


def fuzz(weight: float = 1.0) -> settings:
    """Settings for a fuzz test: `weight` × the profile's max_examples, no deadline, no database.

    The "ci" profile (tests/conftest.py) keeps each test to a few seconds; HYPOTHESIS_PROFILE=thorough
    runs twenty times as many cases.
    """
    return settings(
        max_examples=max(1, int(settings.default.max_examples * weight)),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# Characters that break naive parsers, escapers and databases: delimiters of every format we read,
# LaTeX, quotes, controls (NUL, the DOS end-of-file), BOMs, line and paragraph separators, lone
# surrogates' neighbours, combining marks and right-to-left overrides.
NASTY_CHARS = (
    "{}()[]<>@=,;\"'\\%#~$&_^|\t\n\r\x00\x1a\x0b\x0c\x7f\ufeff\u2028\u2029\u0085"
    "\u0301\u202e\u00a0\ufffd\U0001f600é—–-=+@"
)
nasty_text = st.text(
    alphabet=st.one_of(st.sampled_from(NASTY_CHARS), st.characters(codec="utf-8")), max_size=60
)

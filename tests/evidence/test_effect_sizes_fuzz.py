"""Fuzzing the effect-size inputs: the conversion, the save service, the API and the calculator
give a clean error naming a field, or a finite effect; NaN or infinity is never stored or shown.

Run more cases with HYPOTHESIS_PROFILE=thorough.
"""

import math

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from evidence.stats import effect_sizes
from evidence.stats.effect_sizes import INPUT_KINDS, EffectSizeError, compute
from studies import services
from studies.constants import ReviewStatus
from studies.models import EffectSize
from tests.factories import StudyFactory
from tests.security.fuzz import fuzz

FIELDS = {
    kind: effect_sizes._REQUIRED[kind] + effect_sizes._OPTIONAL.get(kind, ())
    for kind in INPUT_KINDS
}
RESULT_FLOATS = ("g", "variance", "se", "ci_low", "ci_high", "p_value", "improvement_index")

# Numbers at the edges: zero, signs, the float range's ends, subnormals, values near the
# boundaries the converters check (1, 2, ±1 for r, ±50 for percentile points).
edge_number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from(
        [0, 1, -1, 2, 0.5, 1e-300, 5e-324, 1e308, -1e308, 0.999999999, 49.999999, 1 + 1e-15]
    ),
)
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=8),
    st.sampled_from(
        ["nan", "inf", "-inf", "1e999", "0x10", " 3 ", "1_000", "logit", "cox", "g", "d"]
    ),
    st.lists(st.integers(), max_size=2),
)
reported_value = st.one_of(edge_number, edge_number, junk)


@st.composite
def reported(draw, kinds=INPUT_KINDS):
    kind = draw(st.sampled_from(kinds))
    names = FIELDS[kind] + ("stray",)
    values = draw(st.dictionaries(st.sampled_from(names), reported_value, max_size=len(names)))
    return kind, values


cluster_options = st.fixed_dictionaries(
    {
        "higher_is_better": st.booleans(),
        "reported_p": st.one_of(st.none(), edge_number),
        "clustered": st.booleans(),
        "icc": st.one_of(st.none(), edge_number),
        "m": st.one_of(st.none(), edge_number),
        "n_clusters": st.one_of(st.none(), edge_number),
        "outcome_is_achievement": st.booleans(),
    }
)


def assert_finite(result) -> None:
    for name in RESULT_FLOATS:
        value = getattr(result, name)
        assert math.isfinite(value), (name, value)
    assert result.variance > 0 and 0 <= result.p_value <= 1
    assert result.ci_low <= result.g <= result.ci_high


@fuzz(4)
@given(reported(), cluster_options)
@example(("smd", {"value": 1e308, "se": 1e307}), {"clustered": False})
@example(("smd", {"value": -1e308, "variance": 1e308}), {"clustered": False})
@example(
    ("means", {"mean_t": 1e308, "sd_t": 1, "n_t": 10, "mean_c": -1e308, "sd_c": 1, "n_c": 10}), {}
)
@example(("r", {"r": 0.9999999999999999, "n": 1e308}), {})
@example(("smd", {"value": 0.5, "n_t": 1e308, "n_c": 1e308}), {})
def test_conversion_gives_a_finite_effect_or_names_the_field(case, options):
    kind, values = case
    try:
        result = compute(kind, values, **options)
    except EffectSizeError as exc:
        assert exc.field and exc.message
        return
    assert_finite(result)


@pytest.mark.parametrize(
    "kind, values",
    [
        # (se * J) ** 2 raised OverflowError, and a difference over an SD of 1e-300 ZeroDivisionError:
        # a 500 from the API and the calculator instead of a message on the field.
        ("smd", {"value": 1e308, "se": 1e307}),
        ("smd", {"value": 0.2, "se": 1e200}),
        (
            "means",
            {"mean_t": 1e300, "sd_t": 1e-300, "n_t": 10, "mean_c": 0, "sd_c": 1e-300, "n_c": 10},
        ),
    ],
)
def test_extreme_reported_numbers_are_a_field_error_not_an_overflow(kind, values):
    with pytest.raises(EffectSizeError) as raised:
        compute(kind, values)
    assert raised.value.field == "variance" and "finite" in raised.value.message


# --- Through the save service, the API and the calculator -----------------------------------

OUTCOME = "mathematics"


@pytest.fixture
def draft(researcher):
    return StudyFactory(status=ReviewStatus.DRAFT, created_by=researcher)


@pytest.mark.django_db
@fuzz(1)
@given(case=reported(), options=cluster_options)
def test_the_save_service_stores_only_finite_effects(draft, case, options):
    kind, values = case
    effect = EffectSize(
        study=draft,
        outcome_domain=OUTCOME,
        input_kind=kind,
        reported={k: v for k, v in values.items() if _json_safe(v)},
        higher_is_better=options["higher_is_better"],
        reported_p=_finite_or_none(options["reported_p"]),
        clustered=options["clustered"],
        icc=_finite_or_none(options["icc"]),
        cluster_size=_finite_or_none(options["m"]),
    )
    try:
        services.effect_save(effect=effect)
    except (EffectSizeError, ValidationError):
        assert effect.pk is None
        return
    stored = EffectSize.objects.get(pk=effect.pk)
    for name in ("g", "variance", "ci_low", "ci_high", "p_value", "improvement_index"):
        value = getattr(stored, name)
        assert value is None or math.isfinite(value), (name, value)


def _json_safe(value) -> bool:
    # reported is a JSON column: the form and the API never put NaN or infinity in it.
    return not (isinstance(value, float) and not math.isfinite(value))


def _finite_or_none(value):
    return value if isinstance(value, int | float) and math.isfinite(value) else None


json_number = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, -1, 2, 1e308, -1e308, 5e-324, "NaN", "Infinity", "-Infinity", "1e999"]),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
)


@pytest.mark.django_db
@fuzz(0.5)
@given(
    kind=st.sampled_from([*INPUT_KINDS, "bogus"]),
    body=st.dictionaries(
        st.sampled_from(
            sorted(
                {f for fields in FIELDS.values() for f in fields}
                | {"icc", "cluster_size", "reported_p"}
            )
        ),
        json_number,
        max_size=8,
    ),
    clustered=st.booleans(),
)
def test_the_api_answers_a_field_error_or_a_finite_effect(researcher, draft, kind, body, clustered):
    response = APIClient()
    response.force_authenticate(researcher)
    answer = response.post(
        f"/api/v1/studies/{draft.pk}/effects/",
        {"input": kind, "outcome_domain": OUTCOME, "clustered": clustered, **body},
        format="json",
    )
    assert answer.status_code in (201, 400), answer.content[:500]
    data = answer.json()
    if answer.status_code == 400:
        assert data and all(isinstance(v, list | str | dict) for v in data.values())
        return
    for name in ("g", "variance", "ci_low", "ci_high", "p_value"):
        assert data[name] is None or math.isfinite(data[name]), (name, data[name])


@pytest.mark.django_db
@fuzz(0.5)
@given(
    kind=st.sampled_from([*INPUT_KINDS, "bogus", ""]),
    form=st.dictionaries(
        st.sampled_from(
            sorted({f for fields in FIELDS.values() for f in fields} | {"icc", "cluster_size"})
        ),
        st.one_of(st.text(max_size=10), edge_number.map(str)),
        max_size=8,
    ),
)
def test_the_calculator_shows_a_result_or_a_message_never_nan(client, researcher, kind, form):
    client.force_login(researcher)
    response = client.post(
        reverse("workspace:effect-preview"),
        {"input_kind": kind, "outcome_domain": OUTCOME, **form},
    )
    assert response.status_code == 200
    page = response.content.decode()
    for word in ("nan", "inf"):
        assert f"= {word}" not in page.lower() and f">{word}<" not in page.lower()


@pytest.mark.django_db
def test_the_api_refuses_an_overflowing_effect_with_a_field_error(researcher, draft):
    client = APIClient()
    client.force_authenticate(researcher)
    answer = client.post(
        f"/api/v1/studies/{draft.pk}/effects/",
        {"input": "smd", "outcome_domain": OUTCOME, "value": 0.2, "se": 1e200},
        format="json",
    )
    assert answer.status_code == 400 and "finite" in answer.json()["variance"][0]

"""schemathesis over the whole API: requests generated from /api/schema/, sent through the WSGI app
(no server), for the public and for a curator with a token. No response may be a 5xx and every
documented response must match its schema. Bounded and derandomized, so it is quick and repeatable.
"""

import os
from io import StringIO

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
# Few examples per operation, derandomized (a fixed seed): about 45 operations, twice, in well under
# a minute. SCHEMATHESIS_EXAMPLES=200 makes a deeper run by hand.
EXAMPLES = settings(
    max_examples=int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def api_schema(wsgi_app):
    # The seed data gives the generated ids and codes something real to hit now and then.
    call_command("load_seed_data", verbosity=0, stdout=StringIO())
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)


def run_every_operation(schema, headers: dict | None = None) -> None:
    """Valid and invalid requests for each operation; every failure reported, not just the first.

    The loop is ours rather than schemathesis' pytest plugin, which does not run on pytest 9 yet.
    """
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @EXAMPLES
        @given(case=cases)
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect them all, then fail once
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 40, f"only {operations} operations in the schema"
    assert not failures, "\n\n".join(failures)


def test_the_api_answers_the_public_as_its_schema_says(api_schema):
    run_every_operation(api_schema)


def test_the_api_answers_a_curator_as_its_schema_says(api_schema, curator):
    token = Token.objects.create(user=curator)
    run_every_operation(api_schema, headers={"Authorization": f"Token {token.key}"})

"""No password, token or email address reaches the logs: failed sign-ins (page, admin, token
endpoint) and requests carrying an Authorization header, with the root logger at DEBUG."""

import logging

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
WRONG = "Tr0ub4dor&3-wrong-guess"
EMAIL = "rita.private@example.org"


@pytest.fixture(autouse=True)
def everything_logged(caplog):
    cache.clear()
    caplog.set_level(logging.DEBUG)
    yield caplog
    cache.clear()


@pytest.fixture
def rita(db):
    return UserFactory(username="rita", email=EMAIL)


def logged(caplog) -> str:
    """All that any handler could write: formatted messages, arguments and tracebacks."""
    parts = [caplog.text]
    for record in caplog.records:
        parts += [record.getMessage(), repr(record.args), repr(record.exc_info)]
    return "\n".join(parts)


def assert_not_logged(caplog, *secrets: str) -> None:
    text = logged(caplog)
    for secret in secrets:
        assert secret not in text, f"{secret!r} was logged"


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_a_failed_sign_in_on_a_page_logs_neither_the_password_nor_the_email(caplog, rita, url):
    for username in ("rita", EMAIL):
        response = Client().post(url, {"username": username, "password": WRONG})
        assert response.status_code == 200  # the form again, with its error
    assert_not_logged(caplog, WRONG, EMAIL)


def test_a_failed_token_request_logs_neither_the_password_nor_the_email(caplog, rita):
    for username in ("rita", EMAIL):
        response = Client().post(
            "/api/v1/auth/token/",
            {"username": username, "password": WRONG},
            content_type="application/json",
        )
        assert response.status_code == 400
    assert any(r.name == "django.request" for r in caplog.records)  # the 400 itself is logged
    assert_not_logged(caplog, WRONG, EMAIL)


def test_a_successful_token_request_logs_neither_the_password_nor_the_token(caplog, rita):
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": "rita", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert_not_logged(caplog, PASSWORD, response.json()["token"], EMAIL)


def test_requests_with_an_authorization_header_do_not_log_it(caplog, rita):
    token = Token.objects.create(user=rita).key
    forged = "f" * 40
    client = Client()
    assert client.get("/api/v1/studies/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    assert client.get("/api/v1/nowhere/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 404
    refused = client.get("/api/v1/studies/", HTTP_AUTHORIZATION=f"Token {forged}")
    assert refused.status_code in (401, 403)  # 403: session auth comes first
    basic = client.get("/api/v1/studies/", HTTP_AUTHORIZATION="Basic cml0YTpzZWNyZXQ=")
    assert basic.status_code in (200, 401)
    assert caplog.records  # the 404 and the refusal were logged, without the header
    assert_not_logged(caplog, token, forged, "cml0YTpzZWNyZXQ=", EMAIL)


def test_with_debug_on_the_sql_log_still_leaves_out_tokens_and_emails(caplog, rita, settings):
    # With DEBUG on, Django logs every query with its parameters (the token lookup, the username
    # lookup) at DEBUG on django.db.backends; the django logger stays at INFO even when LOG_LEVEL
    # is DEBUG, so none of it is written. Raising it would leak both: this test says so.
    settings.DEBUG = True
    token = Token.objects.create(user=rita).key
    Client().get("/api/v1/studies/", HTTP_AUTHORIZATION=f"Token {token}")
    Client().post("/accounts/login/", {"username": EMAIL, "password": WRONG})
    assert_not_logged(caplog, token, EMAIL, WRONG)

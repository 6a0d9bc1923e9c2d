"""Sign-in is throttled against password guessing (pages, admin, token endpoint); API tokens are
revocable by their owner and by an admin."""

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def sign_in(username, password, *, ip="10.0.0.1", url="/accounts/login/"):
    return Client(REMOTE_ADDR=ip).post(url, {"username": username, "password": password})


def signed_in(response) -> bool:
    return response.status_code == 302


def test_the_sign_in_page_locks_an_account_after_five_failures_from_one_address(researcher):
    for _ in range(5):
        assert not signed_in(sign_in(researcher.username, "guess"))
    refused = sign_in(researcher.username, PASSWORD)
    assert refused.status_code == 200
    assert "Too many failed sign-in attempts" in refused.content.decode()


def test_the_lock_is_per_address_so_a_guesser_cannot_lock_the_owner_out(researcher):
    for _ in range(6):
        sign_in(researcher.username, "guess", ip="203.0.113.9")
    assert signed_in(sign_in(researcher.username, PASSWORD, ip="10.0.0.1"))


def test_a_successful_sign_in_resets_the_count(researcher):
    for _ in range(4):
        sign_in(researcher.username, "guess")
    assert signed_in(sign_in(researcher.username, PASSWORD))
    for _ in range(4):
        sign_in(researcher.username, "guess")
    assert signed_in(sign_in(researcher.username, PASSWORD))


def test_one_address_trying_many_accounts_is_locked_too(db):
    # Four guesses at each of five accounts: no account is locked, the address is.
    users = [UserFactory() for _ in range(5)]
    for i in range(20):
        sign_in(users[i % 5].username, "guess", ip="198.51.100.7")
    victim = UserFactory()
    refused = sign_in(victim.username, PASSWORD, ip="198.51.100.7")
    assert "Too many failed sign-in attempts" in refused.content.decode()


def test_the_username_is_compared_without_case_or_spaces(researcher):
    for name in ("Rita-Researcher", " rita-researcher", "RITA-RESEARCHER", "rita-researcher "):
        sign_in(name, "guess")
    sign_in(researcher.username, "guess")
    assert not signed_in(sign_in(researcher.username, PASSWORD))


def test_the_admin_sign_in_is_throttled_too(admin_user):
    for _ in range(5):
        sign_in(admin_user.username, "guess", url="/admin/login/")
    refused = sign_in(admin_user.username, PASSWORD, url="/admin/login/")
    assert refused.status_code == 200 and "Too many failed" in refused.content.decode()


def test_the_lock_expires_after_the_window(researcher, settings):
    settings.LOGIN_FAILURE_WINDOW = 1
    for _ in range(5):
        sign_in(researcher.username, "guess")
    cache.clear()  # what the window's expiry does
    assert signed_in(sign_in(researcher.username, PASSWORD))


def test_behind_the_proxy_the_forwarded_address_is_the_one_counted(researcher, settings):
    settings.LOGIN_TRUST_PROXY = True
    proxy = "172.18.0.2"
    for _ in range(5):
        Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9").post(
            "/accounts/login/", {"username": researcher.username, "password": "guess"}
        )
    owner = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="10.0.0.1").post(
        "/accounts/login/", {"username": researcher.username, "password": PASSWORD}
    )
    assert signed_in(owner)


def test_the_token_endpoint_shares_the_per_account_lock(researcher):
    client = APIClient(REMOTE_ADDR="10.0.0.2")
    for _ in range(5):
        client.post("/api/v1/auth/token/", {"username": researcher.username, "password": "x"})
        cache.delete("throttle_token_10.0.0.2")  # only the per-account lock is under test
    refused = client.post(
        "/api/v1/auth/token/", {"username": researcher.username, "password": PASSWORD}
    )
    assert refused.status_code == 429 and "Too many failed" in refused.json()["detail"]


# --- Tokens are revocable -----------------------------------------------------------------------


def token_for(user) -> str:
    return (
        APIClient()
        .post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
        .json()["token"]
    )


def test_a_user_revokes_their_token_and_it_stops_working(researcher):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(researcher)}")
    study = {"title": "A study", "year": 2020}
    assert client.post("/api/v1/studies/", study, format="json").status_code == 201
    assert client.delete("/api/v1/auth/token/").status_code == 204
    # A revoked token is refused outright (403: the session scheme is first, so no challenge).
    assert client.post("/api/v1/studies/", study, format="json").status_code in (401, 403)
    assert client.get("/api/v1/studies/").status_code in (401, 403)
    assert not Token.objects.filter(user=researcher).exists()
    # A new sign-in gives a new, different token.
    cache.clear()
    assert token_for(researcher) != client._credentials["HTTP_AUTHORIZATION"].split()[1]


def test_revoking_needs_to_be_signed_in(researcher):
    token_for(researcher)
    assert APIClient().delete("/api/v1/auth/token/").status_code in (401, 403)
    assert Token.objects.filter(user=researcher).exists()


def test_revoking_one_token_leaves_other_users_tokens_alone(researcher, curator):
    token_for(curator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(researcher)}")
    client.delete("/api/v1/auth/token/")
    assert Token.objects.filter(user=curator).exists()


def test_an_admin_revokes_anyones_token_in_the_admin(client, admin_user, researcher):
    key = token_for(researcher)
    client.force_login(admin_user)
    changelist = client.get("/admin/authtoken/tokenproxy/")
    assert changelist.status_code == 200 and researcher.username in changelist.content.decode()
    # The token admin lists tokens by their user (it has no bulk actions): delete that row.
    response = client.post(f"/admin/authtoken/tokenproxy/{researcher.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Token.objects.filter(user=researcher).exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/studies/").status_code in (401, 403)

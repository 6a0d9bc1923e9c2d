"""If-Match through the whole WSGI stack: an empty or garbled value is a clean 428 with a message,
never a dropped request or a 500; a well-formed stale one is a 412 with the current version."""

import pytest
from rest_framework.authtoken.models import Token
from werkzeug.test import Client

from tests.factories import ConveningFactory, EffectSizeFactory, StudyFactory


@pytest.fixture
def client(wsgi_app):
    return Client(wsgi_app)


@pytest.fixture
def records(curator, organiser):
    effect = EffectSizeFactory()
    return {
        "study": (f"/api/v1/studies/{effect.study.pk}/", curator),
        "effect": (f"/api/v1/effects/{effect.pk}/", curator),
        "convening": (f"/api/v1/convenings/{ConveningFactory(slug='spring').slug}/", organiser),
    }


def _patch(client, url, user, if_match):
    token = Token.objects.get_or_create(user=user)[0]
    headers = {"Authorization": f"Token {token.key}", "If-Match": if_match}
    return client.patch(url, json={}, headers=headers)


@pytest.mark.parametrize("kind", ["study", "effect", "convening"])
@pytest.mark.parametrize("if_match", ["", " ", ";", "*", "garbage", 'W/""', '"study-1-v"', "\t"])
def test_an_empty_or_garbled_if_match_is_a_clean_428(client, records, kind, if_match):
    url, user = records[kind]
    response = _patch(client, url, user, if_match)
    assert response.status_code == 428
    assert "version" in response.json["detail"]


@pytest.mark.parametrize("kind", ["study", "effect", "convening"])
def test_a_stale_or_huge_if_match_is_a_412_with_the_current_version(client, records, kind):
    url, user = records[kind]
    for stale in ('"x-1-v7"', f'"x-1-v{10**30}"'):
        response = _patch(client, url, user, stale)
        assert response.status_code == 412
        assert response.json["current_version"] == 1


def test_a_study_without_a_version_is_refused_not_overwritten(client, curator):
    study = StudyFactory(title="Original")
    token = Token.objects.create(user=curator)
    response = client.patch(
        f"/api/v1/studies/{study.pk}/",
        json={"title": "Overwritten"},
        headers={"Authorization": f"Token {token.key}", "If-Match": ""},
    )
    assert response.status_code == 428
    study.refresh_from_db()
    assert study.title == "Original"

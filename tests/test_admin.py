import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _admin_urls():
    for model in admin.site._registry:
        meta = model._meta
        yield model, reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")


def test_every_model_list_and_search_loads_for_a_superuser(client, admin_user, seeded):
    client.force_login(admin_user)
    for _model, url in _admin_urls():
        response = client.get(url, {"q": "learning"})
        assert response.status_code == 200, url


def test_study_change_page_shows_effects_and_tags_inline(client, admin_user, seeded):
    from studies.models import Study

    client.force_login(admin_user)
    study = Study.objects.filter(tags__isnull=False).first()
    html = client.get(reverse("admin:studies_study_change", args=[study.pk])).content.decode()
    assert "Effect sizes" in html and "Study tags" in html


def test_the_admin_refuses_anonymous_visitors(client):
    response = client.get(reverse("admin:studies_study_changelist"))
    assert response.status_code == 302

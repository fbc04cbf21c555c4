"""API tokens in the admin: created with the raw value shown once, revoked by an action."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from apps.api.models import ApiToken, hash_token
from apps.api.services import api_token_create

pytestmark = pytest.mark.django_db


def test_owner_creates_token_and_sees_it_once(client, alice):
    client.force_login(alice)
    response = client.post("/admin/api/apitoken/add/", {"name": "Revenue manager"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    raw = re.search(r"(pms_[0-9a-f]{8}_[A-Za-z0-9_-]+)", page).group(1)
    token = ApiToken.objects.get(name="Revenue manager")
    assert token.user == alice and token.key_hash == hash_token(raw)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/properties/").status_code == 200
    # never shown again
    detail = client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert raw not in detail and f"pms_{token.prefix}_" in detail


def test_owner_sees_only_own_tokens_and_revokes(client, alice, bob):
    mine, raw = api_token_create(user=alice, name="mine")
    theirs, _ = api_token_create(user=bob, name="theirs")
    client.force_login(alice)
    listing = client.get("/admin/api/apitoken/").content.decode()
    assert "mine" in listing and "theirs" not in listing
    assert client.get(f"/admin/api/apitoken/{theirs.pk}/change/").status_code in (302, 403, 404)
    response = client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [mine.pk, theirs.pk]},
        follow=True,
    )
    assert response.status_code == 200
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/properties/").status_code == 401


def test_staff_creates_token_for_an_owner(client, staff, alice):
    client.force_login(staff)
    response = client.post("/admin/api/apitoken/add/", {"name": "for alice", "user": alice.pk}, follow=True)
    assert response.status_code == 200
    assert ApiToken.objects.get(name="for alice").user == alice


def test_management_command_prints_token_once(alice, capsys):
    from django.core.management import CommandError, call_command

    call_command("api_token_create", "alice", "--name", "cli")
    raw = capsys.readouterr().out.strip()
    assert ApiToken.objects.get(name="cli").key_hash == hash_token(raw)
    with pytest.raises(CommandError):
        call_command("api_token_create", "nobody")

from __future__ import annotations

import base64
import os

import pytest
from django.core.management import call_command

from apps.channels import crypto
from apps.channels.models import ChannelConnection


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_roundtrip_and_key_id_stored(settings):
    settings.CHANNEL_ENCRYPTION_KEYS = f"k1:{_key()}"
    settings.CHANNEL_ENCRYPTION_KEY_ID = "k1"
    token = crypto.encrypt("top-secret", aad="x")
    assert token.startswith("v1:k1:") and "top-secret" not in token
    assert crypto.decrypt(token, aad="x") == "top-secret"
    with pytest.raises(crypto.SecretDecryptError) as err:
        crypto.decrypt(token, aad="other-field")
    assert "top-secret" not in str(err.value)


def test_unknown_key_id_is_a_clear_error(settings):
    settings.CHANNEL_ENCRYPTION_KEYS = f"k1:{_key()}"
    settings.CHANNEL_ENCRYPTION_KEY_ID = "k1"
    token = crypto.encrypt("v")
    settings.CHANNEL_ENCRYPTION_KEYS = f"k2:{_key()}"
    settings.CHANNEL_ENCRYPTION_KEY_ID = "k2"
    with pytest.raises(crypto.SecretDecryptError, match="k1"):
        crypto.decrypt(token)


def test_bad_key_config_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.CHANNEL_ENCRYPTION_KEYS = "k1:not-base64!!"
    with pytest.raises(ImproperlyConfigured):
        crypto.keyring()
    settings.CHANNEL_ENCRYPTION_KEYS = f"k1:{base64.b64encode(b'short').decode()}"
    with pytest.raises(ImproperlyConfigured):
        crypto.keyring()


def test_rotate_command_reencrypts(settings, prop):
    k1, k2 = _key(), _key()
    settings.CHANNEL_ENCRYPTION_KEYS = f"k1:{k1}"
    settings.CHANNEL_ENCRYPTION_KEY_ID = "k1"
    conn = ChannelConnection(property=prop, platform="booking_com")
    conn.set_secret("access_token", "pw-1")
    conn.set_secret("webhook_secret", "wh-1")
    conn.save()
    assert "pw-1" not in conn.access_token_encrypted
    settings.CHANNEL_ENCRYPTION_KEYS = f"k1:{k1},k2:{k2}"
    settings.CHANNEL_ENCRYPTION_KEY_ID = "k2"
    call_command("rotate_channel_key")
    conn.refresh_from_db()
    assert crypto.key_id_of(conn.access_token_encrypted) == "k2"
    assert crypto.key_id_of(conn.webhook_secret_encrypted) == "k2"
    settings.CHANNEL_ENCRYPTION_KEYS = f"k2:{k2}"  # old key retired
    assert conn.get_secret("access_token") == "pw-1"
    assert conn.get_secret("webhook_secret") == "wh-1"

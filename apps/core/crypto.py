"""AES-256-GCM encryption of secrets and personal data: channel secrets (tokens, passwords, webhook
secrets), guests' names, e-mails, phones and notes, Stripe client secrets (``apps.core.encrypted_fields``).

Keys come from the environment: ``CHANNEL_ENCRYPTION_KEYS="kid1:<base64 32 bytes>,kid2:..."`` and
``CHANNEL_ENCRYPTION_KEY_ID`` names the key new values are encrypted with. Every ciphertext carries
its key id (``v1:<kid>:<base64(nonce || ciphertext+tag)>``), so old values stay readable after a
rotation and ``manage.py rotate_encryption_key`` re-encrypts them with the active key.

Values that must be found by equality (a guest's e-mail) use deterministic AES-SIV under a key derived
from the same ring (``d1:<kid>:<base64>``): equal plaintexts give equal ciphertexts per key, so a lookup
compares against the value's ciphertext under every configured key (a blind index that is also the
stored value), and the unique constraint per owner keeps working.

Error messages never contain the plaintext or the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1"
DETERMINISTIC_PREFIX = "d1"


class SecretDecryptError(Exception):
    """A stored secret could not be decrypted (unknown key id, wrong key, damaged value)."""


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]
    active_id: str

    @property
    def active_key(self) -> bytes:
        return self.keys[self.active_id]


def parse_keys(spec: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in (spec or "").split(",")):
        if not part:
            continue
        kid, sep, b64 = part.partition(":")
        if not sep or not kid:
            raise ImproperlyConfigured("CHANNEL_ENCRYPTION_KEYS entries must look like 'kid:base64key'.")
        try:
            raw = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"CHANNEL_ENCRYPTION_KEYS: key '{kid}' is not valid base64.") from None
        if len(raw) != 32:
            raise ImproperlyConfigured(f"CHANNEL_ENCRYPTION_KEYS: key '{kid}' must be 32 bytes (AES-256).")
        keys[kid] = raw
    return keys


def _dev_key() -> bytes:
    """A key derived from SECRET_KEY, only used when no key is configured (dev, tests)."""
    return hashlib.sha256(b"pms-channel-secrets:" + settings.SECRET_KEY.encode()).digest()


def keyring() -> KeyRing:
    keys = parse_keys(settings.CHANNEL_ENCRYPTION_KEYS)
    active = settings.CHANNEL_ENCRYPTION_KEY_ID or ""
    if not keys:
        if not settings.DEBUG and settings.CHANNEL_ENCRYPTION_REQUIRE_KEYS:
            raise ImproperlyConfigured("CHANNEL_ENCRYPTION_KEYS must be set.")
        keys = {"dev": _dev_key()}
        active = active if active in keys else "dev"
    if not active:
        active = next(iter(keys))
    if active not in keys:
        raise ImproperlyConfigured(f"CHANNEL_ENCRYPTION_KEY_ID '{active}' is not in CHANNEL_ENCRYPTION_KEYS.")
    return KeyRing(keys=keys, active_id=active)


def encrypt(plaintext: str, *, aad: str = "", ring: KeyRing | None = None) -> str:
    """Encrypt ``plaintext``; ``aad`` binds the value to its use (e.g. the field name)."""
    ring = ring or keyring()
    nonce = os.urandom(12)
    ct = AESGCM(ring.active_key).encrypt(nonce, plaintext.encode(), aad.encode() or None)
    return f"{PREFIX}:{ring.active_id}:{base64.b64encode(nonce + ct).decode()}"


def key_id_of(token: str) -> str | None:
    parts = (token or "").split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == PREFIX else None


def decrypt(token: str, *, aad: str = "", ring: KeyRing | None = None) -> str:
    ring = ring or keyring()
    parts = (token or "").split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise SecretDecryptError("The stored secret has an unknown format.")
    _, kid, b64 = parts
    key = ring.keys.get(kid)
    if key is None:
        raise SecretDecryptError(f"The stored secret uses key id '{kid}', which is not configured.")
    try:
        blob = base64.b64decode(b64, validate=True)
        return AESGCM(key).decrypt(blob[:12], blob[12:], aad.encode() or None).decode()
    except (InvalidTag, ValueError, binascii.Error):
        raise SecretDecryptError(f"The stored secret could not be decrypted with key id '{kid}'.") from None


def generate_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _siv_key(key: bytes) -> bytes:
    """A 64-byte AES-SIV key derived from a ring key (never the ring key itself)."""
    import hmac

    return hmac.new(key, b"pms-deterministic-aes-siv", hashlib.sha512).digest()


def encrypt_deterministic(plaintext: str, *, aad: str, kid: str | None = None, ring: KeyRing | None = None) -> str:
    """The same plaintext (and ``aad``) under the same key always gives the same token."""
    ring = ring or keyring()
    kid = kid or ring.active_id
    ct = AESSIV(_siv_key(ring.keys[kid])).encrypt(plaintext.encode(), [aad.encode()])
    return f"{DETERMINISTIC_PREFIX}:{kid}:{base64.b64encode(ct).decode()}"


def deterministic_candidates(plaintext: str, *, aad: str, ring: KeyRing | None = None) -> list[str]:
    """The value's token under every configured key: what an equality lookup compares against."""
    ring = ring or keyring()
    return [encrypt_deterministic(plaintext, aad=aad, kid=kid, ring=ring) for kid in ring.keys]


def is_token(value: str) -> bool:
    head = (value or "")[:3]
    return head in (f"{PREFIX}:", f"{DETERMINISTIC_PREFIX}:") and value.count(":") >= 2


def decrypt_any(token: str, *, aad: str, ring: KeyRing | None = None) -> str:
    """Decrypt a ``v1`` (AES-GCM) or ``d1`` (AES-SIV) token."""
    if not token.startswith(f"{DETERMINISTIC_PREFIX}:"):
        return decrypt(token, aad=aad, ring=ring)
    ring = ring or keyring()
    _, kid, b64 = token.split(":", 2)
    key = ring.keys.get(kid)
    if key is None:
        raise SecretDecryptError(f"The stored value uses key id '{kid}', which is not configured.")
    try:
        return AESSIV(_siv_key(key)).decrypt(base64.b64decode(b64, validate=True), [aad.encode()]).decode()
    except (InvalidTag, ValueError, binascii.Error):
        raise SecretDecryptError(f"The stored value could not be decrypted with key id '{kid}'.") from None

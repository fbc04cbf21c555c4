"""Signed links for guests: the confirmation page and the expiring guest-portal magic link.

Both are signed with ``SECRET_KEY`` (``django.core.signing``), so nobody can forge or alter one:

- the *confirmation* token is a signature over the booking reference; it does not expire (it is
  the link in the confirmation e-mail and the page the checkout lands on);
- the *portal* token carries the booking id and a fingerprint of the guest's e-mail, with a
  timestamp; it expires after ``settings.GUEST_PORTAL_LINK_MAX_AGE`` seconds and stops working
  as soon as the guest's e-mail address changes.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare

CONFIRMATION_SALT = "apps.bookings.tokens.confirmation"
PORTAL_SALT = "apps.bookings.tokens.portal"


class InvalidToken(Exception):
    """The link was not signed by us or was altered."""


class ExpiredToken(InvalidToken):
    """The link was ours but is too old."""


def _portal_max_age() -> int:
    return int(settings.GUEST_PORTAL_LINK_MAX_AGE)


# --- confirmation ---------------------------------------------------------------------------------


def confirmation_token(*, reference: str) -> str:
    return signing.Signer(salt=CONFIRMATION_SALT).signature(reference)


def confirmation_token_valid(*, reference: str, token: str) -> bool:
    if not token or not reference:
        return False
    return constant_time_compare(confirmation_token(reference=reference), token)


def confirmation_path(*, reference: str) -> str:
    url = reverse("storefront:confirmation", kwargs={"reference": reference})
    return f"{url}?{urlencode({'t': confirmation_token(reference=reference)})}"


def confirmation_url(*, reference: str) -> str:
    return settings.SITE_URL.rstrip("/") + confirmation_path(reference=reference)


# --- guest portal (magic link) --------------------------------------------------------------------


def _email_fingerprint(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def portal_token(*, booking_id: int, email: str) -> str:
    return signing.dumps({"b": booking_id, "e": _email_fingerprint(email)}, salt=PORTAL_SALT, compress=True)


def portal_token_read(*, token: str, max_age: int | None = None) -> tuple[int, str]:
    """(booking id, e-mail fingerprint) of a valid portal token; raises InvalidToken/ExpiredToken."""
    try:
        data = signing.loads(token, salt=PORTAL_SALT, max_age=_portal_max_age() if max_age is None else max_age)
    except signing.SignatureExpired as exc:
        raise ExpiredToken(str(exc)) from exc
    except signing.BadSignature as exc:
        raise InvalidToken(str(exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("b"), int) or not isinstance(data.get("e"), str):
        raise InvalidToken("malformed token")
    return data["b"], data["e"]


def portal_email_matches(*, fingerprint: str, email: str) -> bool:
    return bool(email) and constant_time_compare(_email_fingerprint(email), fingerprint)


def portal_path(*, booking_id: int, email: str) -> str:
    return reverse("storefront:portal", kwargs={"token": portal_token(booking_id=booking_id, email=email)})


def portal_url(*, booking_id: int, email: str) -> str:
    return settings.SITE_URL.rstrip("/") + portal_path(booking_id=booking_id, email=email)

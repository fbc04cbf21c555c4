"""Remove secrets from log lines: guest-link tokens, secret query parameters, credentials.

Pure Python (no Django import): gunicorn loads ``GunicornLogger`` before Django is set up
(``--logger-class apps.core.logscrub.GunicornLogger`` in the Procfile), and the Django log formatters
(``apps.core.observability``) call ``scrub`` on every line.
"""

from __future__ import annotations

import re

MASK = "[scrubbed]"

# Paths whose segment is a bearer secret: the guest portal and the iCal export feed.
_PATH_TOKENS = re.compile(r"(/(?:manage|ical)/)(?!\s|$)([^/?#\s\"']+)")
# Query parameters (and form fields) that carry secrets.
_SECRET_PARAMS = re.compile(
    r"(?i)([?&;\s\"']|^)("
    r"t|token|access_token|refresh_token|api_key|key|secret|client_secret|payment_intent_client_secret|"
    r"setup_intent_client_secret|signature|sig|password|passwd|code"
    r")=([^&\s\"'#]*)"
)
_AUTH_VALUES = re.compile(r"(?i)\b(Bearer|Token|Basic)\s+[A-Za-z0-9._~+/=-]{6,}")
# Stripe-style secrets wherever they appear (keys, webhook secrets, client secrets).
_KNOWN_SECRETS = re.compile(r"\b((?:sk|rk)_(?:live|test)_|whsec_|pi_[A-Za-z0-9]+_secret_)[A-Za-z0-9_]+")


def scrub(text: str) -> str:
    """``text`` with every token, secret parameter and credential replaced by ``[scrubbed]``."""
    if not text:
        return text
    text = _PATH_TOKENS.sub(lambda m: m.group(1) + MASK + (".ics" if m.group(2).endswith(".ics") else ""), text)
    text = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}{m.group(2)}={MASK}" if m.group(3) else m.group(0), text)
    text = _AUTH_VALUES.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _KNOWN_SECRETS.sub(lambda m: m.group(1) + MASK, text)


try:  # gunicorn is a production dependency, but this module must import without it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object  # type: ignore[assignment,misc]


class GunicornLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """gunicorn's logger whose access-log atoms (request line, path, query, referer) are scrubbed."""

    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001, ANN201 - gunicorn's signature
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = scrub(atoms[key])
        return atoms

"""pytest plugin: a real Stripe sandbox (localstripe, patched) for the session.

Register it in tests/conftest.py with ``pytest_plugins = ["tests.stripe_fixtures"]``; then use the
``stripe_sandbox`` fixture (settings point at it for that test) or ``stripe_sandbox_server`` (the
server only).
"""

from __future__ import annotations

import pytest

WEBHOOK_SECRET = "whsec_test_pms_sandbox"
SECRET_KEY = "sk_test_pms_sandbox"


_server = None


@pytest.fixture(scope="session")
def stripe_sandbox_server():
    """localstripe on a free port of 127.0.0.1, in memory, once per test process."""
    global _server
    from apps.sandbox.stripe_sandbox import StripeSandbox

    owner = _server is None
    if owner:
        _server = StripeSandbox(state_file=None).start()
    yield _server
    if owner:
        _server.stop()
        _server = None


@pytest.fixture
def stripe_sandbox(stripe_sandbox_server, settings):
    """Settings pointing at the sandbox (STRIPE_SANDBOX on, test keys and webhook secret)."""
    settings.STRIPE_API_BASE = stripe_sandbox_server.url
    settings.STRIPE_SANDBOX = True
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_pms_sandbox"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT_SECONDS = 10
    return stripe_sandbox_server

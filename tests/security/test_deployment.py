"""Issue 19, deployment: check --deploy, CSP, no-store, login throttling, password rules, channel keys,
log scrubbing."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from apps.bookings import services as booking_services
from apps.bookings import tokens
from apps.core.logscrub import GunicornLogger, scrub
from apps.core.observability import ContextFilter, JsonFormatter, PlainFormatter
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]

# What README "Production" documents, with throwaway values.
PRODUCTION_ENV = {
    "READ_DOT_ENV": "0",
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "pms.example.com",
    "SITE_URL": "https://pms.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://pms.example.com",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto=https",
    "CHANNEL_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
    "CHANNEL_ENCRYPTION_KEY_ID": "k1",
    "METRICS_TOKEN": secrets.token_urlsafe(24),
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    from django.conf import settings

    db = settings.DATABASES["default"]
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    base["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{db['NAME']}"
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "pms.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_channel_keys():
    env = {**PRODUCTION_ENV, "CHANNEL_ENCRYPTION_KEYS": ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "CHANNEL_ENCRYPTION_KEYS must be set when DEBUG=0" in result.stderr
    # a malformed proxy header is refused with a reason, not ignored
    result = _manage("check", env={**PRODUCTION_ENV, "SECURE_PROXY_SSL_HEADER": "https"})
    assert result.returncode != 0 and "SECURE_PROXY_SSL_HEADER must look like" in result.stderr


def test_production_settings_values():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.METRICS_ALLOW_LOOPBACK, s.CHANNEL_ENCRYPTION_REQUIRE_KEYS)"
    )
    result = _manage("shell", "-c", code, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "True", "31536000", "('HTTP_X_FORWARDED_PROTO',", "'https')", "True", "True", "False", "True",
    ]  # fmt: skip


# --- headers --------------------------------------------------------------------------------------


def _csp(response) -> str:
    return response["Content-Security-Policy"]


def test_csp_on_guest_pages_admin_and_api_docs(client, prop, staff):
    pages = ["/", f"/properties/{prop.slug}/", "/manage/", "/admin/login/", "/api/docs/", "/api/docs/redoc/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = _csp(response)
        assert "default-src 'self'" in policy and "object-src 'none'" in policy, url
        assert "frame-ancestors 'none'" in policy and response["X-Frame-Options"] == "DENY", url
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0], url
        # every inline script carries this response's nonce; no inline event handlers
        nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
        html = response.content.decode()
        for tag in re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html):
            assert f'nonce="{nonce}"' in tag, (url, tag)
        assert not re.search(r"\son(click|load|change|submit)=", html), url
    # the nonce is new on every request
    assert _csp(client.get("/")) != _csp(client.get("/"))
    # the booking widget alone may be framed, and still gets the rest of the policy
    embed = client.get(f"/embed/{prop.slug}/")
    assert "frame-ancestors *" in _csp(embed) and "object-src 'none'" in _csp(embed)
    assert "X-Frame-Options" not in embed
    # the admin (with its inline-script page) as staff
    client.force_login(staff)
    page = client.get(f"/admin/properties/property/{prop.pk}/change/")
    assert page.status_code == 200 and "script-src 'self' 'nonce-" in _csp(page)


def test_pages_that_show_a_booking_are_never_cached(client, prop):
    booking = booking_services.booking_create(
        property_id=prop.pk,
        check_in=date.today() + timedelta(days=10),
        check_out=date.today() + timedelta(days=12),
        guests=2,
        status="confirmed",
        guest=booking_services.GuestData(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
    )
    urls = [
        tokens.confirmation_path(reference=booking.reference),
        tokens.confirmation_path(reference=booking.reference).replace("/?", "/calendar.ics?"),
        tokens.portal_path(booking_id=booking.pk, email="ada@example.com"),
        f"/api/v1/bookings/{booking.pk}/",
    ]
    client.force_login(prop.owner)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    # public pages stay cacheable by the browser's ordinary rules
    assert "no-store" not in client.get("/").get("Cache-Control", "")


# --- logins ---------------------------------------------------------------------------------------


def _login(client, username: str, password: str, ip: str = "198.51.100.7"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_twenty_wrong_passwords_lock_the_account_from_that_address(client, db, settings):
    settings.AXES_ENABLED = True
    owner = UserFactory(username="olivia", is_staff=True)
    owner.set_password("correct horse battery staple")
    owner.save()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "olivia", "wrong-guess").status_code == 200  # the form again, with its error
    locked = _login(client, "olivia", "wrong-guess")
    assert locked.status_code == 429
    assert "Sign-in temporarily locked" in locked.content.decode()
    # now even the right password is refused from there, with the same clear message
    again = _login(client, "olivia", "correct horse battery staple")
    assert again.status_code == 429 and "Too many failed sign-ins" in again.content.decode()
    assert "_auth_user_id" not in client.session
    # the real user elsewhere is not locked out by the attacker
    elsewhere = _login(client, "olivia", "correct horse battery staple", ip="203.0.113.50")
    assert elsewhere.status_code == 302
    client.logout()

    # staff see the lockout in the admin and clear it
    attempt = AccessAttempt.objects.get(username="olivia", ip_address="198.51.100.7")
    assert attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT
    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(staff)
    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "198.51.100.7" in listing.content.decode()
    deleted = client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert deleted.status_code == 302
    client.logout()
    assert _login(client, "olivia", "correct horse battery staple").status_code == 302


@pytest.mark.parametrize("password", ["olivia2026", "98765432109", "password1234"])
def test_weak_passwords_are_refused(db, password):
    user = UserFactory.build(username="olivia", first_name="Olivia", last_name="Smith", email="olivia@example.com")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_strong_password_is_accepted(db):
    user = UserFactory.build(username="olivia", email="olivia@example.com")
    validate_password("lantern-quietly-orbit-47", user)


# --- logs -----------------------------------------------------------------------------------------


def test_tokens_never_reach_a_log_line(client, prop, caplog):
    portal = "/manage/" + "abc.DEF_token-value" + "/"
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(portal)
        client.get("/bookings/PMS-NOPE/?t=the-confirmation-token&print=1")
        client.get("/ical/secret-feed-token.ics")
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 3
    ctx = ContextFilter()
    for record in records:
        ctx.filter(record)
        for line in (JsonFormatter().format(record), PlainFormatter().format(record)):
            for secret in ("abc.DEF_token-value", "the-confirmation-token", "secret-feed-token"):
                assert secret not in line, line
        json.loads(JsonFormatter().format(record))  # still one JSON object


def test_scrub_covers_query_secrets_credentials_and_stripe_keys():
    line = (
        "GET /checkout/return/?payment_intent=pi_1&payment_intent_client_secret=pi_1_secret_abc HTTP/1.1 "
        '"https://x/?token=abc&key=zz" Authorization: Bearer abcdef123456 sk_live_123abc whsec_999 signature=f00'
    )
    out = scrub(line)
    for secret in ("pi_1_secret_abc", "token=abc", "key=zz", "abcdef123456", "123abc", "whsec_999", "f00"):
        assert secret not in out, out
    assert "payment_intent=pi_1" in out  # ids that are not secrets stay readable


def test_gunicorn_access_log_is_scrubbed():
    from gunicorn.config import Config

    class Req:
        method, uri, path, query, version, headers = "GET", "/manage/tok3n/?t=x", "/manage/tok3n/", "t=x", (1, 1), []

    class Resp:
        status, sent, headers, response_length = "200 OK", 10, [], 10

    logger = GunicornLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/manage/tok3n/?t=x",
        "PATH_INFO": "/manage/tok3n/",
        "QUERY_STRING": "t=x",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://x/manage/tok3n/",
    }
    atoms = logger.atoms(Resp(), Req(), environ, timedelta(seconds=0.01))
    for key in ("r", "U", "q", "f"):
        assert "tok3n" not in atoms[key] and "t=x" not in atoms[key], (key, atoms[key])

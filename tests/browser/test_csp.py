"""The Content-Security-Policy breaks nothing: guest pages, the admin and the API docs load in headless
Chromium without a single CSP violation, and their scripts run (issue 19)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.properties.models import PropertyPhoto
from tests.factories import PropertyFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_pages_load_without_csp_violations(live_server, alice, page):
    home = PropertyFactory(owner=alice, name="Lakeside Loft", slug="lakeside-loft", base_price=Decimal("120.00"))
    PropertyPhoto.objects.create(property=home, url="/static/demo/photo-1.svg", caption="Living room", position=0)
    alice.set_password("correct horse battery staple")
    alice.save()

    violations: list[str] = []
    errors: list[str] = []

    def on_console(message) -> None:
        # ReDoc's side menu always asks for Redocly's attribution logo from their CDN once it has rendered;
        # the policy blocks it by design (nothing is loaded from outside) and ReDoc hides the image on error.
        if "Content Security Policy" in message.text and REDOC_LOGO not in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))

    base = live_server.url
    for url in ["/", f"/properties/{home.slug}/", f"/embed/{home.slug}/", "/manage/", "/api/docs/",
                "/api/docs/redoc/", "/admin/login/"]:  # fmt: skip
        page.goto(base + url)
        page.wait_for_load_state("networkidle")
    # the API docs rendered (their scripts ran)
    page.goto(base + "/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=20_000)

    page.goto(base + "/admin/login/")
    page.fill("#id_username", alice.username)
    page.fill("#id_password", "correct horse battery staple")
    page.click("input[type=submit]")
    page.wait_for_url(base + "/admin/")
    for url in [
        reverse("admin:properties_property_change", args=[home.pk]),
        reverse("admin:bookings_booking_add"),
        reverse("admin:availability_test_stay") + f"?property={home.pk}",
    ]:
        page.goto(base + url)
        page.wait_for_load_state("networkidle")
    assert not violations, "\n".join(violations)
    assert not errors, errors

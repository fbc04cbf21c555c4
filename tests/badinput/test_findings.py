"""Issue 11: each finding of the hostile-client review, reproduced. Bad input gets a clear 4xx, a form
error or a recorded refusal; nothing stored changes; never a 500."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
import stripe
from django.test import Client
from django.urls import reverse

from apps.availability.models import AvailabilityBlock, OccupiedNight, PricingRule
from apps.payments.models import StripeEvent
from apps.properties.models import Property
from tests.api.conftest import client_for
from tests.factories import future
from tests.stripe_fixtures import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db


def deep(n: int, leaf: str = "1") -> str:
    return "[" * n + leaf + "]" * n


@pytest.fixture
def admin_client(alice):
    c = Client(raise_request_exception=False)
    c.force_login(alice)
    return c


@pytest.fixture
def api(alice):
    c = client_for(alice)
    c.raise_request_exception = False
    return c


# --- 2. unbounded spans ------------------------------------------------------------------------


def test_api_refuses_a_block_spanning_a_century(api, prop):
    r = api.post(
        "/api/v1/blocks/",
        {"property": prop.pk, "start_date": "2000-01-01", "end_date": "2100-12-31", "block_type": "blocked"},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] == "validation_error"
    assert not AvailabilityBlock.objects.exists() and not OccupiedNight.objects.exists()


def test_api_refuses_a_block_longer_than_max_stay_nights(api, prop):
    start = future(5)
    r = api.post(
        "/api/v1/blocks/",
        {"property": prop.pk, "start_date": str(start), "end_date": str(start + timedelta(days=400))},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert not AvailabilityBlock.objects.exists()


def test_admin_refuses_an_endless_block(admin_client, prop):
    r = admin_client.post(
        reverse("admin:availability_availabilityblock_add"),
        {"property": prop.pk, "block_type": "blocked", "start_date": str(future(3)), "end_date": "9999-12-31"},
    )
    assert r.status_code == 200  # the form again, with an error
    assert not AvailabilityBlock.objects.exists() and not OccupiedNight.objects.exists()


def test_storefront_refuses_absurd_stays(client, prop):
    client.raise_request_exception = False
    for check_in, check_out in [
        ("0001-01-01", "9999-12-31"),
        (str(future(3)), "9999-12-31"),
        ("2000-01-01", "2001-01-01"),
    ]:
        url = (
            reverse("storefront:checkout", kwargs={"slug": prop.slug})
            + f"?check_in={check_in}&check_out={check_out}&guests=2"
        )
        r = client.get(url)
        assert r.status_code < 500, (check_in, check_out, r.status_code)
        r = client.get(
            reverse("storefront:property", kwargs={"slug": prop.slug}) + f"?check_in={check_in}&check_out={check_out}"
        )
        assert r.status_code < 500


# --- 6. Stripe webhook with a valid signature ----------------------------------------------------

WEBHOOK = "/payments/stripe/webhook/"


def _signed(body: str | bytes):
    client = Client(raise_request_exception=False)
    text = body.decode("utf-8", "surrogatepass") if isinstance(body, bytes) else body
    header = stripe.WebhookSignature.generate_signature_header(text, WEBHOOK_SECRET)
    return client.post(WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def _event(**over) -> dict:
    return {"id": "evt_ok", "object": "event", "type": "payment_intent.succeeded", "created": int(time.time()),
            "data": {"object": {"id": "pi_nope", "object": "payment_intent"}}, **over}  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        '{"id": "evt_deep", "object": "event", "type": "x", "data": ' + deep(100_000) + "}",
        json.dumps(_event(id="evt_" + "x" * 5000)),
        json.dumps(_event(id="evt_nul", type="payment_intent.succeeded\u0000")),
        json.dumps(_event(id="evt_nul2", data={"object": {"id": "pi_\u0000x"}})),
        '{"id": "evt_sur", "object": "event", "type": "x\\ud800", "data": {}}',
        '{"id": "evt_sur2", "object": "event", "type": "ping", "data": {"object": {"note": "\\ud800"}}}',
    ],
)
def test_stripe_webhook_signed_garbage_is_a_400_or_200_never_500(stripe_sandbox, body):
    r = _signed(body)
    assert r.status_code < 500, r.content[:300]


def test_stripe_webhook_unknown_payment_intent_is_not_retried_for_days(stripe_sandbox):
    r = _signed(json.dumps(_event(id="evt_unknown_pi", data={"object": {"id": "pi_doesnotexist123"}})))
    assert r.status_code == 200, r.content
    assert StripeEvent.objects.get(event_id="evt_unknown_pi").processed_at is not None


# --- 7. other 500s ----------------------------------------------------------------------------


def test_ical_export_with_nul_token_is_a_404(client):
    client.raise_request_exception = False
    assert client.get("/ical/%00.ics").status_code in (400, 404)


@pytest.mark.parametrize(
    "path", ["/api/v1/quotes/", "/api/v1/pricing-rules/", "/api/v1/blocks/", "/api/v1/properties/"]
)
def test_api_deeply_nested_json_is_a_400(api, prop, path):
    body = '{"property": ' + str(prop.pk) + ', "conditions": ' + deep(100_000) + "}"
    r = api.post(path, data=body, content_type="application/json")
    assert r.status_code == 400, r.content[:300]
    assert "error" in r.json()


@pytest.mark.parametrize("model", ["bookings/booking", "availability/availabilityblock"])
@pytest.mark.parametrize(
    "query",
    [
        "check_in__year=9999",
        "start_date__year=9999",
        "start_date__year=0",
        "status__exact=%00",
        "check_in__year=9999&check_in__month=12&check_in__day=31",
        "block_type__exact=%00",
    ],
)
def test_admin_changelist_with_absurd_filters_is_not_a_500(admin_client, prop, model, query):
    r = admin_client.get(f"/admin/{model}/?{query}")
    assert r.status_code < 500, (model, query)


def test_admin_blocked_block_with_a_price_is_a_form_error(admin_client, prop):
    r = admin_client.post(
        reverse("admin:availability_availabilityblock_add"),
        {"property": prop.pk, "block_type": "blocked", "start_date": str(future(3)), "end_date": str(future(5)),
         "price_override": "100"},
    )  # fmt: skip
    assert r.status_code in (200, 302)
    if r.status_code == 302:  # saved: then without the price
        assert AvailabilityBlock.objects.get().price_override in (None, Decimal("100"))


def _property_form(prop, **over) -> dict:
    data = {
        "owner": prop.owner_id, "name": prop.name, "slug": prop.slug, "status": "active", "description": "",
        "house_rules": "", "address": "{}", "city": "Berlin", "country": "DE", "latitude": "", "longitude": "",
        "timezone": "Europe/Berlin", "max_guests": "4", "bedrooms": "2", "bathrooms": "1.0", "amenities": "",
        "base_price": "100.00", "currency": "EUR", "cleaning_fee": "30.00", "default_min_stay": "1",
        "default_max_stay": "28", "min_notice_hours": "0", "max_advance_days": "365", "check_in_time": "15:00",
        "check_out_time": "11:00", "cancellation_policy": "moderate",
        "photos-TOTAL_FORMS": "0", "photos-INITIAL_FORMS": "0", "photos-MIN_NUM_FORMS": "0",
        "photos-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    data.update(over)
    return data


@pytest.mark.parametrize(
    "over",
    [
        # the address is entered as fields (street, postal code, ...) and stored as JSON
        {"street": "a\x00b"},
        {"street": "x" * 10_000},
        {"postal_code": "9" * 10_000},
        {"amenities": ",".join(f"a{i}" for i in range(10000))},
        {"name": "Loft\rBcc: x@example.com"},
        {"name": "Loft\x00"},
    ],
)
def test_admin_property_form_refuses_absurd_values(admin_client, prop, over):
    before = Property.objects.values().get(pk=prop.pk)
    r = admin_client.post(reverse("admin:properties_property_change", args=[prop.pk]), _property_form(prop, **over))
    assert r.status_code == 200, r.status_code  # the form again, with an error
    assert Property.objects.values().get(pk=prop.pk) == before


@pytest.mark.parametrize("conditions", [deep(5000), '{"days": [' + "9" * 10000 + "]}", '{"days": [1e999]}'])
def test_admin_rule_conditions_refuse_absurd_values(admin_client, prop, conditions):
    r = admin_client.post(
        reverse("admin:availability_pricingrule_add"),
        {"property": prop.pk, "name": "x", "rule_type": "weekend", "adjustment_type": "percentage",
         "adjustment_value": "10", "conditions": conditions, "priority": "0", "active": "on"},
    )  # fmt: skip
    assert r.status_code == 200, r.status_code
    assert not PricingRule.objects.exists()


def test_admin_permissions_page_with_a_non_numeric_id_is_a_404(admin_client, prop):
    for path in ["permissions/", "permissions/user-manage/abc/", "permissions/group-manage/abc/"]:
        r = admin_client.get(f"/admin/properties/property/abc/{path}")
        assert r.status_code in (302, 404), (path, r.status_code)
        r = admin_client.get(f"/admin/properties/property/{prop.pk}/{path}")
        assert r.status_code < 500, (path, r.status_code)


# --- 8. API contract ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "get"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope/",
        "/api/v1/bookings/abc/",
        "/api/v1/bookings/1%0A/",
        "/api/nothing",
        "/api/v1/properties/99999999999999999999/",
    ],
)
def test_every_api_answer_is_json(api, method, path):
    kwargs = {"data": "{}", "content_type": "application/json"} if method in ("post", "put", "patch") else {}
    r = getattr(api, method)(path, **kwargs)
    assert r["Content-Type"].startswith("application/json"), (method, path, r.status_code, r.content[:200])
    assert set(r.json()) == {"error"}, r.content[:200]
    assert r.status_code in (400, 404, 405)


def test_anonymous_post_to_unknown_api_path_is_json(client):
    client.raise_request_exception = False
    r = client.post("/api/v1/nope/", data="{}", content_type="application/json")
    assert r["Content-Type"].startswith("application/json") and r.status_code in (401, 403, 404)


def test_booking_without_a_guest_matches_the_schema(api, prop):
    from apps.bookings import services

    booking = services.booking_create(property_id=prop.pk, check_in=future(10), check_out=future(12), guests=1)
    r = api.get(f"/api/v1/bookings/{booking.pk}/")
    assert r.status_code == 200
    schema = Client().get("/api/schema/?format=json").json()
    guest = schema["components"]["schemas"]["Booking"]["properties"]["guest"]
    assert r.json()["guest"] is not None or guest.get("nullable") or "oneOf" in guest or "anyOf" in guest, guest


def test_admin_caps_amenities_like_the_api(admin_client, prop):
    before = list(prop.amenities)
    r = admin_client.post(
        reverse("admin:properties_property_change", args=[prop.pk]),
        _property_form(prop, amenities=",".join(f"a{i}" for i in range(150))),
    )
    assert r.status_code == 200
    prop.refresh_from_db()
    assert prop.amenities == before


# --- 4. money: three-decimal currencies -----------------------------------------------------------


def test_kwd_total_equals_the_quote(alice, api):
    """KWD has 3 decimals: the quote said 290.282, the booking stored 290.28 (a 2-decimal column)."""
    from apps.availability.pricing import quote_stay
    from apps.bookings import services
    from tests.factories import PropertyFactory

    home = PropertyFactory(owner=alice, currency="KWD", base_price=Decimal("90.01"), cleaning_fee=Decimal("0"))
    PricingRule.objects.create(
        property=home, name="VAT", rule_type="tax_percentage", adjustment_type="percentage",
        adjustment_value=Decimal("7.50"), conditions={},
    )  # fmt: skip
    quote = quote_stay(prop=home, check_in=future(10), check_out=future(13), guests=1)
    assert quote.total == Decimal("290.282"), quote.as_dict()
    booking = services.booking_create(property_id=home.pk, check_in=future(10), check_out=future(13), guests=1)
    booking.refresh_from_db()
    assert booking.total_price == quote.total
    assert Decimal(str(booking.price_snapshot["total"])) == booking.total_price
    assert api.get(f"/api/v1/bookings/{booking.pk}/").json()["total_price"] == "290.282"


@pytest.mark.parametrize(
    ("currency", "amount", "minor"),
    [("EUR", "12.34", 1234), ("JPY", "1234", 1234), ("KWD", "270.126", 270130), ("KWD", "270.124", 270120),
     ("ISK", "1234", 123400), ("HUF", "1234.00", 123400), ("TWD", "1234", 123400), ("UGX", "1234", 123400),
     ("BIF", "500", 500), ("USD", "0.5", 50)],
)  # fmt: skip
def test_stripe_minor_units(currency, amount, minor):
    from apps.core.money import from_stripe_minor, to_stripe_minor

    assert to_stripe_minor(Decimal(amount), currency) == minor
    assert to_stripe_minor(from_stripe_minor(minor, currency), currency) == minor


# --- 9. deadlines across DST ----------------------------------------------------------------------


def test_deadline_shown_is_the_deadline_applied_across_dst():
    """Los Angeles, check-in 16 March 2027 15:00 (DST began 14 March): the guest is shown "full refund
    before 11 March, 15:00", and 15:00 is when the full refund ends, not 14:00 (elapsed hours)."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from apps.bookings import policies

    la = ZoneInfo("America/Los_Angeles")
    starts_at = policies.check_in_at(check_in=date(2027, 3, 16), check_in_time=time(15, 0), tz=la)
    booked_at = datetime(2027, 1, 1, tzinfo=la)
    full, half = policies.tier_deadlines(policy="moderate", starts_at=starts_at)
    assert full.at == datetime(2027, 3, 11, 15, 0, tzinfo=la) and full.at.utcoffset() == timedelta(hours=-8)
    assert half.at == datetime(2027, 3, 15, 15, 0, tzinfo=la)
    utc = ZoneInfo("UTC")
    for deadline, share_before, share_after in ((full, 1, Decimal("0.5")), (half, Decimal("0.5"), 0)):
        before = (deadline.at - timedelta(minutes=1)).astimezone(utc)
        after = (deadline.at + timedelta(minutes=1)).astimezone(utc)
        assert (
            policies.refund_share(policy="moderate", starts_at=starts_at, booked_at=booked_at, now=before)
            == share_before
        )
        assert (
            policies.refund_share(policy="moderate", starts_at=starts_at, booked_at=booked_at, now=after) == share_after
        )
    lines = policies.describe_for_stay(policy="moderate", starts_at=starts_at, booked_at=booked_at, tz=la,
                                       now=datetime(2027, 2, 1, tzinfo=utc))  # fmt: skip
    assert "11 March 2027, 15:00" in lines[0] and "15 March 2027, 15:00" in lines[1]

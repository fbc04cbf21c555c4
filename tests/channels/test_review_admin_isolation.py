"""Reviewer's sweep over EVERY registered admin: owner alice tries owner bob's object on each one
(list, change, history, delete, every action, autocomplete) and never sees or touches it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from apps.api.services import api_token_create
from apps.availability import services as block_services
from apps.availability.models import PricingRule
from apps.bookings import services
from apps.channels.models import (
    AirbnbRequest,
    ChannelAlert,
    ChannelConnection,
    DeadLetter,
    Delivery,
    InboundMessage,
    ReconciliationRun,
    VrboFeedRead,
)
from apps.channels.models_vrbo import VrboFeedStatus
from apps.core.models import AuditEntry, SyncEvent
from apps.payments.models import Payment, Refund
from apps.properties.models import PropertyPhoto
from apps.storefront.models import Review
from tests.factories import future

pytestmark = pytest.mark.django_db

BOB_SECRET = "bob-plaintext-token-1f3a"  # noqa: S105
BOB_WEBHOOK = "bob-webhook-secret-9c2d"  # noqa: S105
BOB_RAW = "BOB-RAW-GUEST-Gertrud-Geheim"


@pytest.fixture
def bobs(bob, bob_prop, prop):
    b = services.booking_create(
        property_id=bob_prop.pk,
        check_in=future(5),
        check_out=future(8),
        guests=2,
        guest=services.GuestData(first_name="Bert", email="bert@example.com"),
    )
    conn = ChannelConnection(property=bob_prop, platform="booking_com", external_property_id="BOB-HOTEL")
    conn.set_secret("access_token", BOB_SECRET)
    conn.set_secret("webhook_secret", BOB_WEBHOOK)
    conn.save()
    ev = SyncEvent.objects.filter(property=bob_prop).first()
    dead = Delivery.objects.create(
        event=ev, connection=conn, range_start=future(1), range_end=future(9), status="dead", last_error="x"
    )
    pay = Payment.objects.create(
        booking=b,
        intent_id="pi_bob",
        idempotency_key="bob-pay",
        amount=Decimal("300"),
        currency="EUR",
        status="succeeded",
        amount_received=Decimal("300"),
    )
    vrbo_conn = ChannelConnection(
        property=bob_prop, platform="fewo_direkt", external_property_id="BOB-VRBO", username="bob-vrbo"
    )
    vrbo_conn.set_secret("access_token", BOB_SECRET)
    vrbo_conn.save()
    token, _ = api_token_create(user=bob, name="bob integrator")
    from apps.integrations import services as integration_services
    from apps.integrations.models import WebhookDelivery
    from apps.ledger import services as ledger_services
    from apps.ledger.models import LedgerLine, OwnerStatement

    hook, _ = integration_services.subscription_create(owner=bob, url="https://bob.example.com/hooks")
    hook_delivery = WebhookDelivery.objects.filter(subscription=hook).first() or integration_services.test_event_send(
        subscription=hook
    )
    return {
        "properties.property": bob_prop,
        "properties.propertyphoto": PropertyPhoto.objects.create(property=bob_prop, url="https://e.x/b.jpg"),
        "availability.availabilityblock": block_services.block_create(
            property_id=bob_prop.pk, start_date=future(20), end_date=future(22)
        ),
        "availability.pricingrule": PricingRule.objects.create(
            property=bob_prop,
            name="bob weekend",
            rule_type="weekend",
            adjustment_type="percentage",
            adjustment_value=Decimal("10"),
            conditions={"days": [4, 5]},
        ),
        "bookings.booking": b,
        "bookings.guest": b.guest,
        "core.syncevent": ev,
        "payments.payment": pay,
        "payments.refund": Refund.objects.create(
            booking=b,
            payment=pay,
            kind="owner",
            amount=Decimal("10"),
            currency="EUR",
            reason="r",
            idempotency_key="bob-ref",
        ),
        "channels.channelconnection": conn,
        "channels.delivery": dead,
        "channels.deadletter": DeadLetter.objects.get(pk=dead.pk),
        "channels.inboundmessage": InboundMessage.objects.create(
            platform="booking_com", property=bob_prop, connection=conn, body=BOB_RAW
        ),
        "channels.channelalert": ChannelAlert.objects.create(
            property=bob_prop, connection=conn, kind="conflict", message="bob alert"
        ),
        "channels.reconciliationrun": ReconciliationRun.objects.create(
            connection=conn, range_start=future(0), range_end=future(30)
        ),
        "channels.airbnbrequest": AirbnbRequest.objects.create(
            connection=conn,
            property=bob_prop,
            kind="request",
            code="HMBOB00001",
            check_in=future(30),
            check_out=future(32),
            guest_name="Bert",
        ),
        "channels.vrbofeedstatus": VrboFeedStatus.objects.get(pk=vrbo_conn.pk),
        "channels.vrbofeedread": VrboFeedRead.objects.create(
            connection=vrbo_conn, property=bob_prop, document="availability", item="BOB-VRBO", status_code=200
        ),
        "storefront.review": Review.objects.create(booking=b, rating=4, text="bob review"),
        "api.apitoken": token,
        "integrations.webhooksubscription": hook,
        "integrations.webhookdelivery": hook_delivery,
        "ledger.ledgerline": LedgerLine.objects.filter(booking=b).first(),
        "ledger.ownerstatement": OwnerStatement.objects.get(pk=bob_prop.pk),
        "ledger.propertyfinance": ledger_services.property_finance_set(
            property_id=bob_prop.pk, management_fee_percent=Decimal("10")
        ),
        "ledger.ownerlegal": ledger_services.owner_legal_set(owner_id=bob.pk, legal_name="Bob's Cabin GmbH"),
        "ledger.invoice": _bobs_invoice(bob_prop),
        # the audit log's entries of Bob's data (written by the triggers for the rows above)
        "core.auditentry": AuditEntry.objects.filter(owner_id=bob.pk, table_name="bookings_guest").latest("id"),
    }


def _bobs_invoice(bob_prop):
    from django.db import transaction

    from apps.ledger.invoices import invoice_sync
    from apps.ledger.models import Invoice

    stay = services.booking_create(
        property_id=bob_prop.pk, check_in=future(40), check_out=future(42), guests=1, status="confirmed"
    )
    with transaction.atomic():
        return Invoice.objects.filter(booking=stay).first() or invoice_sync(booking=stay)


def _snapshot(obj):
    fresh = type(obj)._base_manager.filter(pk=obj.pk).first()
    return None if fresh is None else model_to_dict(fresh)


LEAKS = (
    "Bob&#x27;s Cabin",
    "Bob's Cabin",
    "Munich",
    "bert@example.com",
    BOB_SECRET,
    BOB_WEBHOOK,
    BOB_RAW,
    "bob integrator",
    "bob review",
)


def _assert_no_leak(html: str, where: str) -> None:
    for needle in LEAKS:
        assert needle not in html, f"{needle!r} leaked on {where}"


@pytest.mark.parametrize("label", sorted(f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry))
def test_owner_cannot_reach_other_owners_object_on_any_admin(client, alice, prop, bobs, label):
    app, model = label.split(".")
    client.force_login(alice)
    listing = client.get(reverse(f"admin:{app}_{model}_changelist"))
    obj = bobs.get(label)
    if obj is None:
        # not owner data: must be staff-only (or need a permission owners don't have)
        assert listing.status_code == 403, f"{label} is neither owner-scoped in this test nor staff-only"
        return
    assert listing.status_code == 200, label
    html = listing.content.decode()
    assert f"/{obj.pk}/change/" not in html, label
    _assert_no_leak(html, f"{label} changelist")
    before = _snapshot(obj)
    change = client.get(reverse(f"admin:{app}_{model}_change", args=[obj.pk]))
    assert change.status_code == 302 and change.url == reverse("admin:index"), (label, change.status_code)
    history = client.get(reverse(f"admin:{app}_{model}_history", args=[obj.pk]))
    assert history.status_code in (302, 403, 404), label
    client.post(reverse(f"admin:{app}_{model}_delete", args=[obj.pk]), {"post": "yes"})
    # every action of this admin, posted with bob's id
    request = RequestFactory().get("/")
    request.user = alice
    model_admin = admin.site._registry[type(obj) if label != "channels.deadletter" else DeadLetter]
    for name in model_admin.get_actions(request):
        client.post(reverse(f"admin:{app}_{model}_changelist"), {"action": name, "_selected_action": [str(obj.pk)]})
    assert _snapshot(obj) == before, f"{label}: bob's object changed or vanished"
    # her add page: no FK choice of bob's
    try:
        add = client.get(reverse(f"admin:{app}_{model}_add"))
    except NoReverseMatch:
        add = None
    if add is not None and add.status_code == 200:
        _assert_no_leak(add.content.decode(), f"{label} add page")
    # autocompletes that start from this admin never offer bob's rows
    for field in model_admin.get_autocomplete_fields(request):
        r = client.get(
            reverse("admin:autocomplete"), {"app_label": app, "model_name": model, "field_name": field, "term": ""}
        )
        assert r.status_code in (200, 403), (label, field)
        if r.status_code == 200:
            related = type(obj)._meta.get_field(field).related_model
            bob_ids = {
                str(pk)
                for pk in related._base_manager.filter(
                    pk__in=[o.pk for o in bobs.values() if isinstance(o, related)]
                ).values_list("pk", flat=True)
            }
            assert not bob_ids & {x["id"] for x in r.json()["results"]}, (label, field)


def test_owner_cannot_attach_a_connection_or_test_a_stay_on_other_owners_property(client, alice, prop, bob_prop):
    client.force_login(alice)
    r = client.post(
        reverse("admin:channels_channelconnection_add"),
        {"property": bob_prop.pk, "platform": "airbnb", "auth_scheme": "none", "sync_enabled": "on"},
    )
    assert r.status_code == 200 and not ChannelConnection.objects.filter(property=bob_prop).exists()
    r = client.get(
        reverse("admin:availability_test_stay"),
        {"property": bob_prop.pk, "check_in": future(10), "check_out": future(12), "guests": 2},
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert "Select a valid choice" in html and "Munich" not in html


def test_connection_secrets_never_rendered_logged_or_returned(client, alice, prop, caplog):
    """Alice's own plaintext secrets: not in her admin pages (after test / sync actions), not in
    the API, not in any log record, not in a rejected webhook's stored record or answer."""
    import base64
    import logging

    from apps.sandbox import booking_com as sim
    from tests.api.conftest import client_for

    token, hook = "alice-plain-token-77aa", "alice-plain-hook-88bb"  # noqa: S105
    conn = ChannelConnection(
        property=prop,
        platform="booking_com",
        external_property_id="ALICE-H",
        base_url="http://127.0.0.1:9/nowhere",
        username="machine",
    )
    conn.set_secret("access_token", token)
    conn.set_secret("webhook_secret", hook)
    conn.save()
    needles = (token, hook, base64.b64encode(f"machine:{token}".encode()).decode())
    caplog.set_level(logging.DEBUG)
    client.force_login(alice)
    pages = []
    changelist = reverse("admin:channels_channelconnection_changelist")
    for action in ("test_connection", "sync_now"):
        pages.append(client.post(changelist, {"action": action, "_selected_action": [conn.pk]}, follow=True))
    pages.append(client.get(reverse("admin:channels_channelconnection_change", args=[conn.pk])))
    body = b"<x/>"
    hdrs = sim.signed_headers(secret="wrong", body=body, event_id="e")
    pages.append(
        client.post(
            reverse("channels:webhook", args=["booking_com"]),
            data=body,
            content_type="application/xml",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in hdrs.items() if k != "Content-Type"},
        )
    )
    for name in ("inboundmessage", "delivery", "channelalert"):
        pages.append(client.get(reverse(f"admin:channels_{name}_changelist")))
    for msg in InboundMessage.objects.all():
        pages.append(client.get(reverse("admin:channels_inboundmessage_change", args=[msg.pk])))
    api = client_for(alice)
    pages += [api.get("/api/v1/channel-connections/"), api.get(f"/api/v1/channel-connections/{conn.pk}/")]
    stored = " ".join(str(m.headers) + m.verification_error + m.parse_error for m in InboundMessage.objects.all())
    conn.refresh_from_db()
    for needle in needles:
        for page in pages:
            assert needle not in page.content.decode(errors="replace"), page.request
        assert needle not in caplog.text
        assert needle not in stored and needle not in conn.last_error

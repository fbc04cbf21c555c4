"""Issue 19, audit log: every write names its actor, in its transaction; immutable; owner-scoped."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from apps.api.services import api_token_create, api_token_revoke
from apps.availability import services as availability_services
from apps.bookings import services as booking_services
from apps.bookings import tokens
from apps.channels.models import ChannelConnection
from apps.core import audit
from apps.core.models import AuditEntry
from apps.properties import services as property_services
from tests.api.conftest import client_for, make_payment
from tests.channels.test_trust_boundary import ALICE_SECRET, _conn, _message, _post
from tests.factories import future


def _entries(table: str, **filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(table_name=table, **filters).order_by("id"))


def test_every_service_write_leaves_an_entry_naming_its_actor(alice):
    with audit.acting("user", "alice", user_id=alice.pk):
        prop = property_services.property_create(
            owner_id=alice.pk,
            name="Audit House",
            slug="audit-house",
            city="Berlin",
            country="DE",
            base_price=Decimal("100"),
            max_guests=4,
        )
        property_services.property_update(property_id=prop.pk, base_price=Decimal("120"))
        rule = availability_services.pricing_rule_create(
            property_id=prop.pk, name="Weekend", rule_type="weekend", adjustment_type="percentage",
            adjustment_value=Decimal("10"),
        )  # fmt: skip
        availability_services.pricing_rule_update(rule_id=rule.pk, adjustment_value=Decimal("12"))
        availability_services.pricing_rule_delete(rule_id=rule.pk)
        block = availability_services.block_create(property_id=prop.pk, start_date=future(40), end_date=future(42))
        availability_services.block_delete(block_id=block.pk)
        guest, _ = booking_services.guest_create(
            owner_id=alice.pk, data=booking_services.GuestData(first_name="Ada", email="ada@example.com")
        )
        booking_services.guest_update(guest_id=guest.pk, phone="+49 30 123")
        booking = booking_services.booking_create(
            property_id=prop.pk, check_in=future(10), check_out=future(12), guests=2, guest=guest, status="confirmed"
        )
        booking_services.booking_update(booking_id=booking.pk, special_requests="Late arrival")
        make_payment(booking, refunded=Decimal("10"))
        booking_services.booking_cancel(booking_id=booking.pk, reason="test")
        token, _raw = api_token_create(user=alice, name="tool")
        api_token_revoke(token_id=token.pk)
        conn = ChannelConnection(property=prop, platform="booking_com", external_property_id="999")
        conn.set_secret("access_token", "sekret-value")
        conn.save()

    tables = {
        "properties_property": prop.pk,
        "availability_pricingrule": rule.pk,
        "availability_availabilityblock": block.pk,
        "bookings_guest": guest.pk,
        "bookings_booking": booking.pk,
        "payments_payment": None,
        "payments_refund": None,
        "api_apitoken": token.pk,
        "channels_channelconnection": conn.pk,
    }
    for table, pk in tables.items():
        found = _entries(table, **({"object_id": str(pk)} if pk else {}))
        assert found, table
        for entry in found:
            assert (entry.actor_kind, entry.actor_user_id, entry.actor_label) == ("user", alice.pk, "alice"), table
            assert entry.owner_id == alice.pk, table
    # before/after of the changed fields only
    update = _entries("properties_property", object_id=str(prop.pk), operation="update")[0]
    assert update.before == {"base_price": 100.0} or update.before == {"base_price": "100.00"}, update.before
    assert set(update.after) == {"base_price"}
    assert {e.operation for e in _entries("availability_pricingrule", object_id=str(rule.pk))} == {
        "insert", "update", "delete",
    }  # fmt: skip
    cancelled = [e for e in _entries("bookings_booking", object_id=str(booking.pk)) if "status" in e.after]
    assert cancelled[-1].after["status"] == "cancelled" and cancelled[-1].property_id == prop.pk
    # secrets are masked: only the fact that they changed is recorded
    conn_entry = _entries("channels_channelconnection", object_id=str(conn.pk))[0]
    assert conn_entry.after["access_token_encrypted"] == "[secret]"
    assert "sekret" not in str(conn_entry.after)
    assert _entries("api_apitoken", object_id=str(token.pk))[0].after["key_hash"] == "[secret]"
    assert _entries("payments_payment")[0].after["client_secret"] == "[secret]"


def test_without_a_context_the_process_is_the_actor_and_psql_is_named(prop):
    block = availability_services.block_create(property_id=prop.pk, start_date=future(5), end_date=future(6))
    entry = _entries("availability_availabilityblock", object_id=str(block.pk))[0]
    assert entry.actor_kind == "system" and entry.actor_label.startswith("process ")
    with connection.cursor() as cur:  # a change outside the app's actor plumbing
        cur.cursor.execute("SELECT set_config('pms.actor', '', false)")
        cur.cursor.execute("UPDATE properties_property SET name = 'Renamed by hand' WHERE id = %s", [prop.pk])
    entry = _entries("properties_property", object_id=str(prop.pk), operation="update")[-1]
    assert entry.actor_kind == "database" and entry.after == {"name": "Renamed by hand"}


def test_entries_are_written_in_the_same_transaction(prop):
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        availability_services.block_create(property_id=prop.pk, start_date=future(5), end_date=future(6))
        assert AuditEntry.objects.count() > before
        raise RuntimeError("roll back")
    assert AuditEntry.objects.count() == before


def test_entries_are_immutable_except_for_a_gdpr_redaction(prop):
    availability_services.block_create(property_id=prop.pk, start_date=future(5), end_date=future(6))
    entry = AuditEntry.objects.latest("id")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(actor_label="someone else")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with transaction.atomic(), audit.redacting():
        AuditEntry.objects.filter(pk=entry.pk).update(after={"redacted": True})
    assert AuditEntry.objects.get(pk=entry.pk).after == {"redacted": True}
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():  # only inside redacting()
        AuditEntry.objects.filter(pk=entry.pk).update(after={})


def test_actors_of_the_entry_points_admin_api_guest_link_and_channel(client, alice, prop, bob):
    # admin (session user), with the request id
    client.force_login(alice)
    url = reverse("admin:properties_property_change", args=[prop.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list | dict)}
    response = client.post(url, {**data, **_inline_management(page), "name": "Alice's Loft, renamed"})
    assert response.status_code == 302, getattr(response, "context", None) and response.context["adminform"].errors
    entry = _entries("properties_property", object_id=str(prop.pk), operation="update")[-1]
    assert (entry.actor_kind, entry.actor_user_id) == ("user", alice.pk)
    assert entry.request_id == response["X-Request-ID"]
    client.logout()

    # API token
    api = client_for(alice, name="Revenue tool")
    created = api.post(
        "/api/v1/blocks/",
        {"property": prop.pk, "start_date": str(future(50)), "end_date": str(future(52)), "block_type": "blocked"},
        format="json",
    )
    assert created.status_code == 201, created.content
    entry = _entries("availability_availabilityblock", object_id=str(created.json()["id"]))[0]
    assert (entry.actor_kind, entry.actor_token_id, entry.actor_user_id) == ("api_token", api.token.pk, alice.pk)
    assert "Revenue tool" in entry.actor_label

    # guest link: the guest cancels in the portal
    booking = booking_services.booking_create(
        property_id=prop.pk, check_in=future(60), check_out=future(63), guests=2, status="confirmed",
        guest=booking_services.GuestData(first_name="Gus", email="gus@example.com"),
    )  # fmt: skip
    portal = tokens.portal_path(booking_id=booking.pk, email="gus@example.com")
    cancelled = client.post(portal + "cancel/", {"confirm": "1", "reason": "plans changed"})
    assert cancelled.status_code in (200, 302)
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    entry = [e for e in _entries("bookings_booking", object_id=str(booking.pk)) if e.after.get("status")][-1]
    assert entry.actor_kind == "guest_link" and booking.reference in entry.actor_label

    # channel: a signed webhook of Alice's connection
    conn = _conn(prop, "1111", ALICE_SECRET)
    assert _post(client, _message(hotel="1111", res_id="R-AUD", days_ahead=80), ALICE_SECRET).status_code == 200
    from apps.bookings.models import Booking

    channel_booking = Booking.objects.get(external_id="R-AUD")
    entry = _entries("bookings_booking", object_id=str(channel_booking.pk), operation="insert")[0]
    assert (entry.actor_kind, entry.actor_connection_id) == ("channel", conn.pk)


def _inline_management(page) -> dict:
    data = {}
    for formset in page.context.get("inline_admin_formsets", []):
        mgmt = formset.formset.management_form
        for name, field in mgmt.fields.items():
            data[f"{mgmt.prefix}-{name}"] = mgmt.initial.get(name, field.initial)
    return data


def test_owners_see_only_their_entries_in_the_admin_and_on_each_objects_history(client, alice, bob, prop, bob_prop):
    with audit.acting("user", "alice", user_id=alice.pk):
        mine = availability_services.block_create(property_id=prop.pk, start_date=future(5), end_date=future(6))
    with audit.acting("user", "bob", user_id=bob.pk):
        availability_services.block_create(property_id=bob_prop.pk, start_date=future(5), end_date=future(6))
    assert AuditEntry.objects.visible_to(alice).filter(property_id=bob_prop.pk).count() == 0
    assert AuditEntry.objects.visible_to(alice).filter(property_id=prop.pk).exists()

    client.force_login(alice)
    listing = client.get("/admin/core/auditentry/")
    assert listing.status_code == 200
    rows = list(listing.context["cl"].result_list)
    assert rows and all(e.owner_id == alice.pk for e in rows)
    found = client.get("/admin/core/auditentry/", {"q": str(mine.pk)})
    assert any(e.object_id == str(mine.pk) for e in found.context["cl"].result_list)
    history = client.get(reverse("admin:availability_availabilityblock_history", args=[mine.pk]))
    assert history.status_code == 200 and 'id="audit-log"' in history.content.decode()
    assert list(history.context["audit_entries"])[0].object_id == str(mine.pk)
    # nobody changes or deletes entries through the admin
    entry = AuditEntry.objects.visible_to(alice).first()
    assert client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code in (403, 302)
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_a_task_carries_the_actor_of_the_request_that_queued_it(prop, alice):
    """Eager tasks run as their caller; a worker's task is named after the caller + the task."""
    from apps.core.audit import _task_actor_enter, _task_actor_exit, actor_var

    class Req:
        is_eager = False
        headers = {"pms_actor": '{"kind": "user", "label": "alice", "user_id": 1}'}

    class Task:
        name = "bookings.expire_holds"
        request = Req()

    _task_actor_enter(task=Task())
    try:
        assert actor_var.get() == {"kind": "user", "label": "alice via task bookings.expire_holds", "user_id": 1}
    finally:
        _task_actor_exit(task=Task())
    assert actor_var.get() is None
    Req.headers = {}
    _task_actor_enter(task=Task())
    try:
        assert actor_var.get() == {"kind": "system", "label": "task bookings.expire_holds"}
    finally:
        _task_actor_exit(task=Task())


def test_cascaded_and_queryset_updates_are_recorded_too(prop):
    """The database writes the entries: a QuerySet.update() bypassing the services is not lost."""
    from apps.properties.models import Property

    with audit.acting("system", "maintenance script"):
        Property.objects.filter(pk=prop.pk).update(max_guests=9)
    entry = _entries("properties_property", object_id=str(prop.pk), operation="update")[-1]
    assert entry.after == {"max_guests": 9} and entry.actor_label == "maintenance script"
    assert entry.created_at > prop.created_at - timedelta(seconds=1)

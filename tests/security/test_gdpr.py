"""Issue 19, GDPR: export and erase a guest within one owner's data; retention of raw inbound bodies."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.bookings.models import Booking, Guest
from apps.channels.models import InboundMessage
from apps.core import audit
from apps.core.models import AuditEntry
from apps.payments.models import Payment
from apps.privacy import services as privacy
from apps.sandbox import booking_com as sim
from apps.sandbox.models import SimListing, SimReservation
from apps.storefront.models import Review
from tests.api.conftest import make_payment
from tests.channels.test_trust_boundary import ALICE_SECRET, _conn, _post
from tests.factories import future

NAME, SURNAME, EMAIL, PHONE = "Philippa", "Quennell-Zimmer", "pq.zimmer@example.org", "+49 170 5550199"


def _tables_containing(needle: str, *, except_owner: int | None = None) -> list[str]:
    """Every table (but the platform simulators', which stand for the platforms' own systems) whose rows
    contain ``needle`` anywhere, as text; rows of ``except_owner`` (another controller) not counted."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.table_name, bool_or(c.column_name = 'owner_id') FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema "
            "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name NOT LIKE 'sandbox\\_%%' "
            "GROUP BY c.table_name"
        )
        tables = cur.fetchall()
        found = []
        for table, has_owner in tables:
            sql = f'SELECT count(*) FROM "{table}" t WHERE t::text ILIKE %s'  # noqa: S608
            params: list = [f"%{needle}%"]
            if has_owner and except_owner is not None:
                sql += " AND t.owner_id IS DISTINCT FROM %s"
                params.append(except_owner)
            cur.execute(sql, params)
            if cur.fetchone()[0]:
                found.append(table)
    return found


def _channel_message(*, res_id: str, days_ahead: int) -> bytes:
    """A signed-shaped Booking.com reservation of this guest, built by the simulator's own code."""
    listing, _ = SimListing.objects.get_or_create(
        hotel_code="1111", defaults={"username": "u1111", "password": "p", "room_code": "101"}
    )
    start = timezone.localdate() + timedelta(days=days_ahead)
    res = sim.create_reservation(
        listing=listing, check_in=start, check_out=start + timedelta(days=3), total=Decimal("300.00"), force=True
    )
    SimReservation.objects.filter(pk=res.pk).update(first_name=NAME, last_name=SURNAME, email=EMAIL)
    res.refresh_from_db()
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + sim.tostring(
        sim.reservation_document([res], modify=False), encoding="utf-8"
    )
    return body.replace(f'ResID_Value="{res.res_id}"'.encode(), f'ResID_Value="{res_id}"'.encode())


def _invoices(owner) -> list:
    from apps.ledger.models import Invoice

    return list(Invoice.objects.filter(owner=owner).order_by("pk").values())


def _revenue(owner) -> tuple:
    bookings = Booking.objects.filter(property__owner=owner).order_by("pk")
    payments = Payment.objects.filter(booking__property__owner=owner).order_by("pk")
    return (
        [
            (b.reference, b.check_in, b.check_out, b.total_price, b.currency, b.status, b.price_snapshot)
            for b in bookings
        ],
        [(p.amount, p.amount_received, p.amount_refunded, p.status) for p in payments],
    )


@pytest.fixture
def guest_everywhere(client, alice, prop, bob, bob_prop):
    """The guest in Alice's data through every door: a direct booking with payment, refund, a review and
    owner notes; a second booking by contact only; a channel webhook with the raw body; audit entries.
    The same e-mail in Bob's guest book must stay untouched."""
    with audit.acting("user", "alice", user_id=alice.pk):
        guest, _ = booking_services.guest_create(
            owner_id=alice.pk,
            data=booking_services.GuestData(
                first_name=NAME, last_name=SURNAME, email=EMAIL, phone=PHONE, notes=f"VIP, call {PHONE}"
            ),
        )
        booking_services.guest_update(guest_id=guest.pk, notes=f"{NAME} prefers the top floor")
        direct = booking_services.booking_create(
            property_id=prop.pk, check_in=future(10), check_out=future(13), guests=2, guest=guest,
            status="confirmed", special_requests=f"Please call {NAME} on {PHONE}",
        )  # fmt: skip
        make_payment(direct, refunded=Decimal("20"))
        Review.objects.create(booking=direct, rating=5, text=f"Lovely! — {NAME} {SURNAME}")
        contact_only = booking_services.booking_create(
            property_id=prop.pk, check_in=future(20), check_out=future(22), guests=1, status="confirmed",
            guest=booking_services.GuestData(first_name=NAME, last_name=SURNAME, email=EMAIL, phone=PHONE),
        )  # fmt: skip
    _conn(prop, "1111", ALICE_SECRET)
    assert _post(client, _channel_message(res_id="R-GDPR", days_ahead=40), ALICE_SECRET).status_code == 200
    with audit.acting("user", "bob", user_id=bob.pk):
        bobs, _ = booking_services.guest_create(
            owner_id=bob.pk, data=booking_services.GuestData(first_name=NAME, last_name=SURNAME, email=EMAIL)
        )
    return {"guest": guest, "direct": direct, "contact_only": contact_only, "bobs": bobs}


def test_export_is_one_document_of_everything_held_in_that_owners_data(guest_everywhere, alice):
    document = privacy.guest_export(owner_id=alice.pk, email=" PQ.Zimmer@Example.org ")
    json.dumps(document)  # one JSON document
    assert [g["id"] for g in document["guests"]] == [guest_everywhere["guest"].pk]
    refs = {b["reference"] for b in document["bookings"]}
    assert {guest_everywhere["direct"].reference, guest_everywhere["contact_only"].reference} <= refs
    direct = next(b for b in document["bookings"] if b["reference"] == guest_everywhere["direct"].reference)
    assert (
        f"{direct['reference']}.ics" in direct["files"]
        and "BEGIN:VCALENDAR" in direct["files"][f"{direct['reference']}.ics"]
    )
    assert document["payments"] and "client_secret" not in document["payments"][0]
    assert document["refunds"] and document["reviews"][0]["rating"] == 5
    assert document["audit_log"] and any(e["table_name"] == "bookings_guest" for e in document["audit_log"])
    # Bob's guest with the same e-mail is Bob's business, not in Alice's export
    assert guest_everywhere["bobs"].pk not in [g["id"] for g in document["guests"]]
    logged = AuditEntry.objects.filter(action="gdpr.export").latest("id")
    assert logged.owner_id == alice.pk and EMAIL not in json.dumps(logged.after)


def test_erase_leaves_no_trace_in_any_table_and_keeps_the_revenue(guest_everywhere, alice, bob):
    channel_booking = Booking.objects.get(external_id="R-GDPR")
    assert channel_booking.guest is not None and channel_booking.guest.email == EMAIL  # the same guest
    assert InboundMessage.objects.filter(booking=channel_booking).exclude(body="").exists()
    for needle in (NAME, SURNAME, EMAIL, PHONE):
        assert _tables_containing(needle), needle  # it was there before
    revenue = _revenue(alice)
    invoices_before = _invoices(alice)

    with audit.acting("user", "alice", user_id=alice.pk):
        result = privacy.guest_erase(owner_id=alice.pk, email=EMAIL)
    assert result["guests"] == 1 and result["bookings"] == 3 and result["inbound_messages"] >= 1

    for needle in (NAME, SURNAME, EMAIL, PHONE):
        # issued invoices are tax records kept for the legal retention period as issued (buyer's name and
        # the e-mail printed on them): the one deliberate exception, and nothing else
        assert set(_tables_containing(needle, except_owner=bob.pk)) <= {"ledger_invoice"}, needle
    assert _invoices(alice) == invoices_before
    assert Guest.objects.get(pk=guest_everywhere["bobs"].pk).email == EMAIL  # Bob's guest book untouched
    assert _revenue(alice) == revenue  # references, dates, amounts, status, price breakdown unchanged
    assert Review.objects.get(booking=guest_everywhere["direct"]).rating == 5
    entry = AuditEntry.objects.filter(action="gdpr.erase", operation="event").latest("id")
    assert (entry.actor_kind, entry.actor_user_id, entry.owner_id) == ("user", alice.pk, alice.pk)


def test_commands_export_and_erase_with_clear_errors(guest_everywhere, alice, tmp_path, capsys):
    out = tmp_path / "export.json"
    call_command("gdpr_export", "--owner", "alice", "--email", EMAIL, "--output", str(out))
    assert json.loads(out.read_text())["guests"][0]["email"] == EMAIL
    call_command("gdpr_erase", "--owner", "alice", "--email", EMAIL)  # dry run
    assert Guest.objects.get(pk=guest_everywhere["guest"].pk).email == EMAIL
    call_command("gdpr_erase", "--owner", "alice", "--email", EMAIL, "--yes")
    assert Guest.objects.get(pk=guest_everywhere["guest"].pk).email == ""
    with pytest.raises(CommandError, match="No user named"):
        call_command("gdpr_erase", "--owner", "nobody", "--email", EMAIL)
    with pytest.raises(CommandError, match="e-mail"):
        call_command("gdpr_export", "--owner", "alice", "--email", "not-an-address")


def test_admin_actions_are_owner_scoped(client, guest_everywhere, alice, bob):
    client.force_login(bob)
    # Bob selects Alice's guest by id: not his, nothing happens
    response = client.post(
        "/admin/bookings/guest/",
        {"action": "gdpr_erase", "_selected_action": [guest_everywhere["guest"].pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert Guest.objects.get(pk=guest_everywhere["guest"].pk).email == EMAIL
    client.logout()

    client.force_login(alice)
    pk = guest_everywhere["guest"].pk
    export = client.post("/admin/bookings/guest/", {"action": "gdpr_export", "_selected_action": [pk]})
    assert export.status_code == 200 and json.loads(export.content)["guests"][0]["id"] == pk
    confirm = client.post("/admin/bookings/guest/", {"action": "gdpr_erase", "_selected_action": [pk]})
    assert confirm.status_code == 200 and b"Erase personal data?" in confirm.content
    assert Guest.objects.get(pk=pk).email == EMAIL  # not before the confirmation
    done = client.post("/admin/bookings/guest/", {"action": "gdpr_erase", "_selected_action": [pk], "post": "yes"})
    assert done.status_code == 302
    assert Guest.objects.get(pk=pk).email == "" and Guest.objects.get(pk=pk).first_name == privacy.ERASED_NAME
    assert Guest.objects.get(pk=guest_everywhere["bobs"].pk).email == EMAIL  # Bob's guest book untouched


def test_raw_inbound_bodies_are_purged_after_the_retention(guest_everywhere, settings):
    message = InboundMessage.objects.exclude(body="").first()
    assert message is not None
    settings.INBOUND_BODY_RETENTION_DAYS = 90
    assert privacy.inbound_bodies_purge() == 0  # the stay has not even begun
    later = timezone.now() + timedelta(days=40 + 3 + 91)
    assert privacy.inbound_bodies_purge(now=later) >= 1
    message.refresh_from_db()
    assert message.body == "" and message.platform and message.received_at and message.status  # metadata kept
    orphan = InboundMessage.objects.create(platform="booking_com", body="<xml>guest data</xml>")
    InboundMessage.objects.filter(pk=orphan.pk).update(received_at=timezone.now() - timedelta(days=91))
    assert privacy.inbound_bodies_purge() == 1
    call_command("purge_inbound_bodies")


def test_an_owner_account_is_exported_and_erased(client, alice, prop, bob):
    from apps.api.models import ApiToken
    from apps.api.services import api_token_create
    from apps.channels.models import ChannelConnection
    from apps.properties.models import Property

    alice.first_name, alice.last_name, alice.email = "Alicia", "Vandersloot", "alicia.v@example.net"
    alice.save()
    with audit.acting("user", alice.username, user_id=alice.pk):
        token, _ = api_token_create(user=alice, name="revenue tool")
        conn = _conn(prop, "1111", ALICE_SECRET)
    document = privacy.owner_export(user_id=alice.pk)
    json.dumps(document)
    assert document["account"]["email"] == "alicia.v@example.net" and "password" not in document["account"]
    assert [p["id"] for p in document["properties"]] == [prop.pk]
    assert "webhook_secret_encrypted" not in document["channel_connections"][0]
    assert "key_hash" not in document["api_tokens"][0]
    assert document["audit_log_of_their_actions"]

    revenue = _revenue(alice)
    result = privacy.owner_erase(user_id=alice.pk)
    assert result == {"api_tokens_revoked": 1, "connections_disconnected": 1, "properties_closed": 1}
    alice.refresh_from_db()
    assert not alice.is_active and not alice.has_usable_password() and alice.email == ""
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    conn = ChannelConnection.objects.get(pk=conn.pk)
    assert not conn.sync_enabled and not conn.has_secret("webhook_secret")
    assert Property.objects.get(pk=prop.pk).status == Property.Status.INACTIVE
    assert _revenue(alice) == revenue
    for needle in ("Alicia", "Vandersloot", "alicia.v@example.net"):
        assert _tables_containing(needle) == [], needle
    # the revoked token no longer opens the API
    assert client.get("/api/v1/properties/", HTTP_AUTHORIZATION="Bearer x").status_code == 401
    with pytest.raises(CommandError, match="either --email"):
        call_command("gdpr_erase", "--owner", "bob")
    call_command("gdpr_erase", "--owner", "bob", "--account", "--yes")
    assert not type(bob).objects.get(pk=bob.pk).is_active

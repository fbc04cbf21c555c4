"""Each resource end to end through the API, writes through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.availability.models import AvailabilityBlock, PricingRule
from apps.bookings.models import Booking
from apps.core.models import SyncEvent
from apps.properties.models import Property
from tests.api.test_basics import assert_error
from tests.factories import future

pytestmark = pytest.mark.django_db


# --- properties --------------------------------------------------------------------------------


def test_property_crud(alice, alice_api):
    response = alice_api.post(
        "/api/v1/properties/",
        {"name": "Neue Wohnung", "city": "Hamburg", "country": "de", "max_guests": 3, "base_price": "90.00",
         "amenities": ["wifi"], "address": {"street": "Elbchaussee 1"}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == alice.pk and body["slug"] == "neue-wohnung" and body["country"] == "DE"
    pk = body["id"]
    again = alice_api.post(
        "/api/v1/properties/",
        {"name": "Neue Wohnung", "city": "Hamburg", "country": "DE", "max_guests": 3, "base_price": "90.00"},
        format="json",
    )
    assert again.json()["slug"] == "neue-wohnung-2"

    response = alice_api.patch(f"/api/v1/properties/{pk}/", {"base_price": "95.50"}, format="json")
    assert response.status_code == 200 and response.json()["base_price"] == "95.50"
    assert_error(
        alice_api.patch(f"/api/v1/properties/{pk}/", {"default_min_stay": 10, "default_max_stay": 5}, format="json"),
        400,
        "validation_error",
    )
    assert_error(alice_api.patch(f"/api/v1/properties/{pk}/", {"timezone": "Mars/Base"}, format="json"), 400)
    assert_error(alice_api.patch(f"/api/v1/properties/{pk}/", {"currency": "XXX"}, format="json"), 400)
    assert_error(alice_api.patch(f"/api/v1/properties/{pk}/", {"address": {"a": "\x00"}}, format="json"), 400)

    assert alice_api.delete(f"/api/v1/properties/{pk}/").status_code == 204
    assert not Property.objects.filter(pk=pk).exists()


def test_property_list_filters_and_ordering(alice, alice_api, prop):
    from tests.factories import PropertyFactory

    PropertyFactory(owner=alice, name="Zeta", city="Munich", status="draft")
    PropertyFactory(owner=alice, name="Beta", city="Munich")
    names = [p["name"] for p in alice_api.get("/api/v1/properties/").json()["results"]]
    assert names == ["Alice's Loft", "Beta", "Zeta"]
    munich = alice_api.get("/api/v1/properties/?city=munich&ordering=-name").json()
    assert [p["name"] for p in munich["results"]] == ["Zeta", "Beta"] and munich["count"] == 2
    drafts = alice_api.get("/api/v1/properties/?status=draft").json()
    assert [p["name"] for p in drafts["results"]] == ["Zeta"]
    assert_error(alice_api.get("/api/v1/properties/?status=nope"), 400, "validation_error")
    page = alice_api.get("/api/v1/properties/?page_size=2&page=2").json()
    assert page["count"] == 3 and [p["name"] for p in page["results"]] == ["Zeta"]
    assert_error(alice_api.get("/api/v1/properties/?page=99"), 404)


def test_property_with_bookings_cannot_be_deleted(alice_api, world):
    assert_error(alice_api.delete(f"/api/v1/properties/{world['property'].pk}/"), 409, "protected")


def test_user_without_owner_role_cannot_create_property(charlie_api):
    response = charlie_api.post(
        "/api/v1/properties/",
        {"name": "X", "city": "Y", "country": "DE", "max_guests": 1, "base_price": "1"},
        format="json",
    )
    assert_error(response, 403, "permission_denied")


def test_photos(alice_api, prop):
    response = alice_api.post(
        "/api/v1/photos/", {"property": prop.pk, "url": "https://example.com/p.jpg", "caption": "Hall"}, format="json"
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["src"] == "https://example.com/p.jpg"
    assert_error(alice_api.post("/api/v1/photos/", {"property": prop.pk}, format="json"), 400)
    assert alice_api.patch(f"/api/v1/photos/{pk}/", {"position": 3}, format="json").json()["position"] == 3
    listed = alice_api.get(f"/api/v1/photos/?property={prop.pk}").json()
    assert [p["id"] for p in listed["results"]] == [pk]
    detail = alice_api.get(f"/api/v1/properties/{prop.pk}/").json()
    assert detail["photos"][0]["id"] == pk
    assert alice_api.delete(f"/api/v1/photos/{pk}/").status_code == 204


def test_photo_upload_multipart(alice_api, prop, tmp_path, settings):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, format="PNG")
    buf.name = "red.png"
    buf.seek(0)
    response = alice_api.post("/api/v1/photos/", {"property": prop.pk, "image": buf}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["src"].endswith(".png")


# --- calendar, blocks, pricing rules ------------------------------------------------------------


def test_calendar(alice_api, world):
    prop = world["property"]
    start = future(9)
    response = alice_api.get(f"/api/v1/properties/{prop.pk}/calendar/?start={start}&end={future(14)}")
    assert response.status_code == 200, response.content
    days = response.json()["days"]
    assert [d["date"] for d in days] == [(start + timedelta(days=i)).isoformat() for i in range(5)]
    assert [d["status"] for d in days] == ["available", "booked", "booked", "booked", "available"]
    assert set(days[0]) == {"date", "status", "price", "min_stay", "max_stay", "closed_to_arrival",
                            "closed_to_departure"}  # fmt: skip
    default = alice_api.get(f"/api/v1/properties/{prop.pk}/calendar/").json()
    assert len(default["days"]) == 30
    assert_error(alice_api.get(f"/api/v1/properties/{prop.pk}/calendar/?start={future(5)}&end={future(1)}"), 400)
    assert_error(alice_api.get(f"/api/v1/properties/{prop.pk}/calendar/?start=2026-13-01"), 400)
    assert_error(alice_api.get(f"/api/v1/properties/{prop.pk}/calendar/?start={future(1)}&end={future(500)}"), 400)


def test_blocks_and_price_overrides(alice_api, world):
    prop = world["property"]
    response = alice_api.post(
        "/api/v1/blocks/",
        {"property": prop.pk, "start_date": str(future(60)), "end_date": str(future(65)), "block_type": "available",
         "price_override": "222.00", "min_stay": 2},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    override = response.json()
    cal = alice_api.get(f"/api/v1/properties/{prop.pk}/calendar/?start={future(60)}&end={future(61)}").json()
    assert cal["days"][0]["price"] == "222.00" and cal["days"][0]["min_stay"] == 2

    response = alice_api.patch(f"/api/v1/blocks/{override['id']}/", {"price_override": "250.00"}, format="json")
    assert response.status_code == 200 and response.json()["price_override"] == "250.00"

    # a blocked range over the booking: 409 with the booking's dates
    booking = world["booking"]
    response = alice_api.post(
        "/api/v1/blocks/",
        {"property": prop.pk, "start_date": str(future(11)), "end_date": str(future(20)), "block_type": "blocked"},
        format="json",
    )
    err = assert_error(response, 409, "booking_conflict")
    assert err["details"]["conflicts"][0]["start"] == booking.check_in.isoformat()
    assert err["details"]["conflicts"][0]["end"] == booking.check_out.isoformat()

    err = assert_error(
        alice_api.post("/api/v1/blocks/", {"property": prop.pk, "start_date": str(future(5)),
                                           "end_date": str(future(3))}, format="json"),
        400,
    )  # fmt: skip
    assert err["code"] == "validation_error"
    assert_error(
        alice_api.post("/api/v1/blocks/", {"property": prop.pk, "start_date": str(future(70)),
                                           "end_date": str(future(72)), "block_type": "blocked",
                                           "price_override": "5.00"}, format="json"),
        400,
    )  # fmt: skip
    listed = alice_api.get(f"/api/v1/blocks/?property={prop.pk}&block_type=available").json()
    assert [b["id"] for b in listed["results"]] == [override["id"]]
    ranged = alice_api.get(f"/api/v1/blocks/?start={future(41)}&end={future(42)}").json()
    assert [b["id"] for b in ranged["results"]] == [world["block"].pk]

    assert alice_api.delete(f"/api/v1/blocks/{world['block'].pk}/").status_code == 204
    assert not AvailabilityBlock.objects.filter(pk=world["block"].pk).exists()


def test_pricing_rules(alice_api, prop):
    before = SyncEvent.objects.filter(event_type="pricing.updated").count()
    response = alice_api.post(
        "/api/v1/pricing-rules/",
        {"property": prop.pk, "name": "Long stay", "rule_type": "length_of_stay", "adjustment_type": "percentage",
         "adjustment_value": "-10.00", "conditions": {"min_nights": 7}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    err = assert_error(
        alice_api.post("/api/v1/pricing-rules/", {"property": prop.pk, "rule_type": "length_of_stay",
                                                  "adjustment_type": "percentage", "adjustment_value": "5",
                                                  "conditions": {"min_nights": 0}}, format="json"),
        400,
    )  # fmt: skip
    assert "conditions" in err["details"]
    assert_error(alice_api.patch(f"/api/v1/pricing-rules/{pk}/", {"conditions": {"bogus": 1}}, format="json"), 400)
    assert alice_api.patch(f"/api/v1/pricing-rules/{pk}/", {"active": False}, format="json").status_code == 200
    assert alice_api.get(f"/api/v1/pricing-rules/?active=false&property={prop.pk}").json()["count"] == 1
    assert alice_api.delete(f"/api/v1/pricing-rules/{pk}/").status_code == 204
    assert not PricingRule.objects.filter(pk=pk).exists()
    assert SyncEvent.objects.filter(event_type="pricing.updated").count() == before + 3


# --- quotes and search --------------------------------------------------------------------------


def test_quote(alice_api, world):
    prop = world["property"]
    response = alice_api.post(
        "/api/v1/quotes/", {"property": prop.pk, "check_in": str(future(20)), "check_out": str(future(22)),
                            "guests": 2}, format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["bookable"] is True and body["reasons"] == []
    assert body["quote"]["total"] == "230.00"  # 2 x 100 + 30 cleaning (the weekend rule is inactive)
    taken = alice_api.post(
        "/api/v1/quotes/", {"property": prop.pk, "check_in": str(future(11)), "check_out": str(future(12)),
                            "guests": 9}, format="json").json()  # fmt: skip
    assert taken["bookable"] is False and taken["quote"] is None
    assert {"over_capacity"} <= {r["code"] for r in taken["reasons"]}


def test_search_is_owner_scoped(alice_api, bob_api, prop, bob_prop):
    mine = alice_api.get(f"/api/v1/search/?check_in={future(20)}&check_out={future(22)}").json()
    assert [r["property"] for r in mine["results"]] == [prop.pk]
    assert mine["results"][0]["total"] is not None and mine["count"] == 1
    theirs = bob_api.get("/api/v1/search/?location=Munich").json()
    assert [r["property"] for r in theirs["results"]] == [bob_prop.pk]
    assert alice_api.get("/api/v1/search/?location=Munich").json()["count"] == 0
    assert_error(alice_api.get(f"/api/v1/search/?check_in={future(20)}"), 400, "validation_error")
    assert_error(alice_api.get("/api/v1/search/?guests=0"), 400)


# --- bookings and guests ------------------------------------------------------------------------


def test_booking_create_and_lifecycle(alice_api, prop):
    response = alice_api.post(
        "/api/v1/bookings/",
        {"property": prop.pk, "check_in": str(future(30)), "check_out": str(future(33)), "guests": 2,
         "guest": {"first_name": "Max", "email": "max@example.com"}, "special_requests": "Crib"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == "api" and body["status"] == "reserved" and body["guest"]["first_name"] == "Max"
    assert response["Location"].endswith(f"/api/v1/bookings/{body['id']}/")
    pk = body["id"]
    assert alice_api.post(f"/api/v1/bookings/{pk}/confirm/").json()["status"] == "confirmed"
    err = assert_error(alice_api.post(f"/api/v1/bookings/{pk}/check-out/"), 409, "invalid_transition")
    assert err["details"]["current"] == "confirmed"
    err = assert_error(alice_api.post(f"/api/v1/bookings/{pk}/check-in/"), 409, "too_early")  # 30 days ahead
    assert err["details"]["earliest"] == str(future(30))
    # a stay that starts today (the property's local day) checks in and out
    from apps.bookings import services as booking_services

    today = timezone.localtime(timezone.now(), prop.tz).date()
    pk = booking_services.booking_create(
        property_id=prop.pk, check_in=today, check_out=today + timedelta(days=2), guests=1, status="confirmed",
        source="api", enforce_rules=False,
    ).pk  # fmt: skip
    assert alice_api.post(f"/api/v1/bookings/{pk}/check-in/").json()["status"] == "checked_in"
    assert alice_api.post(f"/api/v1/bookings/{pk}/check-out/").json()["status"] == "checked_out"
    assert_error(alice_api.post(f"/api/v1/bookings/{pk}/cancel/", {"reason": "x"}, format="json"), 409)


def test_booking_cancel_frees_dates(alice_api, world):
    booking = world["booking"]
    response = alice_api.post(f"/api/v1/bookings/{booking.pk}/cancel/", {"reason": "Changed plans"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["cancellation_reason"] == "Changed plans"
    again = alice_api.post(
        "/api/v1/bookings/", {"property": booking.property_id, "check_in": str(booking.check_in),
                              "check_out": str(booking.check_out), "guests": 1}, format="json")  # fmt: skip
    assert again.status_code == 201


def test_booking_conflict_and_rules(alice_api, world):
    booking = world["booking"]
    prop = world["property"]
    err = assert_error(
        alice_api.post("/api/v1/bookings/", {"property": prop.pk, "check_in": str(future(12)),
                                             "check_out": str(future(15)), "guests": 1}, format="json"),
        409,
        "booking_conflict",
    )  # fmt: skip
    assert err["details"]["conflicts"] == [
        {"kind": "booking", "id": booking.pk, "reference": booking.reference,
         "start": booking.check_in.isoformat(), "end": booking.check_out.isoformat()}
    ]  # fmt: skip
    err = assert_error(
        alice_api.post("/api/v1/bookings/", {"property": prop.pk, "check_in": str(future(50)),
                                             "check_out": str(future(52)), "guests": 99}, format="json"),
        400,
    )  # fmt: skip
    assert err["code"] == "validation_error"
    assert_error(
        alice_api.post("/api/v1/bookings/", {"property": prop.pk, "check_in": str(future(5)),
                                             "check_out": str(future(5)), "guests": 1}, format="json"),
        400,
    )  # fmt: skip
    past = timezone.localdate() - timedelta(days=3)
    assert_error(
        alice_api.post("/api/v1/bookings/", {"property": prop.pk, "check_in": str(past),
                                             "check_out": str(past + timedelta(days=1)), "guests": 1}, format="json"),
        400,
    )  # fmt: skip


def test_booking_list_filters(alice_api, world):
    prop = world["property"]
    later = alice_api.post(
        "/api/v1/bookings/", {"property": prop.pk, "check_in": str(future(80)), "check_out": str(future(82)),
                              "guests": 1, "status": "confirmed"}, format="json").json()  # fmt: skip
    everything = alice_api.get("/api/v1/bookings/").json()
    assert [b["id"] for b in everything["results"]] == [later["id"], world["booking"].pk]  # -check_in
    assert [b["id"] for b in alice_api.get("/api/v1/bookings/?source=api").json()["results"]] == [later["id"]]
    assert [b["id"] for b in alice_api.get("/api/v1/bookings/?status=reserved").json()["results"]] == [
        world["booking"].pk
    ]
    window = alice_api.get(f"/api/v1/bookings/?start={future(79)}&end={future(90)}").json()
    assert [b["id"] for b in window["results"]] == [later["id"]]
    asc = alice_api.get(f"/api/v1/bookings/?property={prop.pk}&ordering=check_in").json()
    assert [b["id"] for b in asc["results"]] == [world["booking"].pk, later["id"]]
    ref = alice_api.get(f"/api/v1/bookings/?reference={later['reference']}").json()
    assert ref["count"] == 1
    assert_error(alice_api.get("/api/v1/bookings/?start=yesterday"), 400)
    assert_error(alice_api.get("/api/v1/bookings/?property=x"), 400)


def test_guests(alice_api, world):
    guest = world["guest"]
    listed = alice_api.get("/api/v1/guests/").json()
    assert [g["id"] for g in listed["results"]] == [guest.pk]
    assert alice_api.get(f"/api/v1/guests/{guest.pk}/").json()["email"] == "erika@example.com"
    assert alice_api.get("/api/v1/guests/?email=ERIKA@example.com").json()["count"] == 1


def test_booking_patch_changes_stay_and_special_requests(alice_api, world):
    booking, prop = world["booking"], world["property"]
    url = f"/api/v1/bookings/{booking.pk}/"
    body = alice_api.patch(url, {"special_requests": "Baby cot"}, format="json").json()
    assert body["special_requests"] == "Baby cot" and body["check_in"] == str(booking.check_in)
    response = alice_api.patch(url, {"check_in": str(future(60)), "check_out": str(future(63)), "guests": 1},
                               format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["check_in"], body["check_out"], body["guests"]) == (str(future(60)), str(future(63)), 1)
    assert body["special_requests"] == "Baby cot"
    event = SyncEvent.objects.filter(entity_id=str(booking.pk), event_type="booking.updated").latest("pk")
    assert event.source == "api" and event.payload["previous_check_in"] == str(booking.check_in)
    # the old dates are free again, the new ones are taken
    stay = {"property": prop.pk, "check_in": str(booking.check_in), "check_out": str(booking.check_out), "guests": 1}
    freed = alice_api.post("/api/v1/bookings/", stay, format="json")
    assert freed.status_code == 201, freed.content
    other = Booking.objects.get(pk=freed.json()["id"])
    # moving onto another stay: 409 with its dates, and nothing changes (special requests neither)
    err = assert_error(
        alice_api.patch(url, {"check_in": str(other.check_in), "check_out": str(other.check_out),
                              "special_requests": "lost"}, format="json"),
        409,
        "booking_conflict",
    )  # fmt: skip
    assert err["details"]["conflicts"] == [
        {"kind": "booking", "id": other.pk, "reference": other.reference,
         "start": other.check_in.isoformat(), "end": other.check_out.isoformat()}
    ]  # fmt: skip
    booking.refresh_from_db()
    assert (booking.check_in, booking.special_requests) == (future(60), "Baby cot")
    # only one side of the stay: merged with the other
    assert alice_api.patch(url, {"check_out": str(future(65))}, format="json").json()["nights"] == 5
    assert_error(alice_api.patch(url, {"check_out": str(future(60))}, format="json"), 400, "validation_error")
    err = assert_error(alice_api.patch(url, {"guests": prop.max_guests + 1}, format="json"), 400)
    assert "guests" in err["details"]
    assert_error(alice_api.patch(url, {"check_in": "soon"}, format="json"), 400, "validation_error")
    assert_error(alice_api.put(url, {"guests": 1}, format="json"), 405, "method_not_allowed")
    alice_api.post(f"{url}cancel/")
    assert_error(alice_api.patch(url, {"check_in": str(future(70)), "check_out": str(future(71))}, format="json"),
                 400, "validation_error")  # fmt: skip


def test_admin_changes_special_requests_through_the_service(client, alice, world):
    from django.urls import reverse

    booking = world["booking"]
    client.force_login(alice)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    response = client.post(url, {"check_in": str(booking.check_in), "check_out": str(booking.check_out),
                                 "guests": booking.guests, "special_requests": "Vegan breakfast"})  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    booking.refresh_from_db()
    assert booking.special_requests == "Vegan breakfast" and booking.updated_at > booking.created_at


def test_guest_create_update_and_no_delete(alice, alice_api, world):
    new = {"first_name": " Max ", "last_name": "Power", "email": "Max@Example.com", "phone": "+49 1",
           "country": "de", "language": "de", "notes": "VIP"}  # fmt: skip
    response = alice_api.post("/api/v1/guests/", new, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"].endswith(f"/api/v1/guests/{body['id']}/")
    assert (body["first_name"], body["email"], body["country"], body["notes"], body["owner"]) == (
        "Max", "max@example.com", "DE", "VIP", alice.pk,
    )  # fmt: skip
    pk = body["id"]
    # the same e-mail again: the same guest, updated (200), like bookings do
    again = alice_api.post("/api/v1/guests/", {"first_name": "Maximilian", "email": "max@example.com"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == pk and again.json()["first_name"] == "Maximilian"
    assert again.json()["notes"] == "VIP"  # omitted notes are left alone
    url = f"/api/v1/guests/{pk}/"
    assert alice_api.patch(url, {"phone": "+49 2"}, format="json").json()["phone"] == "+49 2"
    err = assert_error(alice_api.patch(url, {"email": "ERIKA@example.com"}, format="json"), 409, "guest_email_taken")
    assert err["details"]["guest_id"] == world["guest"].pk
    assert_error(alice_api.patch(url, {"first_name": "  "}, format="json"), 400, "validation_error")
    assert_error(alice_api.patch(url, {"country": "Germany"}, format="json"), 400, "validation_error")
    assert_error(alice_api.put(url, {"last_name": "x"}, format="json"), 400, "validation_error")  # PUT needs first_name
    replaced = alice_api.put(url, {"first_name": "Max", "email": "max@example.com"}, format="json").json()
    assert (replaced["phone"], replaced["notes"], replaced["language"]) == ("", "", "en")
    assert_error(alice_api.delete(url), 405, "method_not_allowed")
    assert_error(alice_api.delete(f"/api/v1/guests/{world['guest'].pk}/"), 405, "method_not_allowed")
    # the owner can only be chosen by staff (another user's id is simply not a valid choice)
    err = assert_error(alice_api.post("/api/v1/guests/", {"first_name": "X", "owner": world["property"].pk + 999},
                                      format="json"), 400, "validation_error")  # fmt: skip
    assert "owner" in err["details"]


def test_guest_owner_is_the_token_user_or_chosen_by_staff(alice_api, bob, bob_api, staff_api, charlie_api):
    err = assert_error(alice_api.post("/api/v1/guests/", {"first_name": "X", "owner": bob.pk}, format="json"), 400)
    assert "owner" in err["details"]
    made = staff_api.post("/api/v1/guests/", {"first_name": "Bea", "owner": bob.pk}, format="json").json()
    assert made["owner"] == bob.pk
    assert [g["id"] for g in bob_api.get("/api/v1/guests/").json()["results"]] == [made["id"]]
    assert alice_api.get("/api/v1/guests/").json()["count"] == 0
    assert_error(alice_api.patch(f"/api/v1/guests/{made['id']}/", {"phone": "1"}, format="json"), 404)
    assert staff_api.patch(f"/api/v1/guests/{made['id']}/", {"phone": "1"}, format="json").json()["phone"] == "1"
    assert_error(charlie_api.post("/api/v1/guests/", {"first_name": "X"}, format="json"), 403, "permission_denied")


def test_guest_create_is_idempotent(alice_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "guest-1"}
    first = alice_api.post("/api/v1/guests/", {"first_name": "Ida"}, format="json", **headers)
    second = alice_api.post("/api/v1/guests/", {"first_name": "Ida"}, format="json", **headers)
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true" and second.json()["id"] == first.json()["id"]
    assert alice_api.get("/api/v1/guests/").json()["count"] == 1


def test_payments_are_read_only_and_never_show_the_client_secret(alice_api, world, bob_world):
    booking, payment = world["booking"], world["payment"]
    from tests.api.conftest import make_payment

    make_payment(bob_world["booking"])
    response = alice_api.get(f"/api/v1/payments/?booking={booking.pk}")
    assert response.status_code == 200
    assert "pi_secret_do_not_leak" not in response.content.decode() and "client_secret" not in response.content.decode()
    (row,) = response.json()["results"]
    assert row["id"] == payment.pk and row["booking"] == booking.pk and row["status"] == "succeeded"
    assert (row["amount_received"], row["amount_refunded"]) == (str(payment.amount_received), "10.00")
    assert [(r["amount"], r["kind"], r["status"]) for r in row["refunds"]] == [("10.00", "owner", "succeeded")]
    assert alice_api.get("/api/v1/payments/").json()["count"] == 1  # bob's payment is not listed
    assert alice_api.get(f"/api/v1/payments/?booking={bob_world['booking'].pk}").json()["count"] == 0
    assert alice_api.get("/api/v1/payments/?status=canceled").json()["count"] == 0
    assert_error(alice_api.get("/api/v1/payments/?booking=x"), 400, "validation_error")
    detail = alice_api.get(f"/api/v1/payments/{payment.pk}/")
    assert detail.json() == row and "pi_secret" not in detail.content.decode()
    assert_error(alice_api.post("/api/v1/payments/", {}, format="json"), 405, "method_not_allowed")
    assert_error(alice_api.patch(f"/api/v1/payments/{payment.pk}/", {}, format="json"), 405)
    assert_error(alice_api.delete(f"/api/v1/payments/{payment.pk}/"), 405)


def test_sync_events(alice_api, world):
    events = alice_api.get("/api/v1/sync-events/").json()
    assert events["count"] == SyncEvent.objects.filter(property=world["property"]).count() > 0
    created = alice_api.get("/api/v1/sync-events/?event_type=booking.created").json()
    assert [e["entity_id"] for e in created["results"]] == [str(world["booking"].pk)]
    assert alice_api.get("/api/v1/sync-events/?processed=maybe").status_code == 400
    one = world["sync-event"]
    assert alice_api.get(f"/api/v1/sync-events/{one.pk}/").json()["id"] == str(one.pk)


def test_channel_connections(alice_api, world):
    if "channel-connection" not in world:
        pytest.skip("channels not available")
    conn = world["channel-connection"]
    body = alice_api.get("/api/v1/channel-connections/").json()
    assert [c["id"] for c in body["results"]] == [conn.pk]
    detail = alice_api.get(f"/api/v1/channel-connections/{conn.pk}/").json()
    assert detail["platform"] == "airbnb"
    assert not any("secret" in k or "token" in k for k in detail)


def test_staff_sees_everything(staff_api, world, bob_world):
    ids = {b["id"] for b in staff_api.get("/api/v1/bookings/").json()["results"]}
    assert ids == {world["booking"].pk, bob_world["booking"].pk}
    assert Booking.objects.count() == 2

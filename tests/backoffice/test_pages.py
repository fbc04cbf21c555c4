"""The booking page (price breakdown as a table, contact, payments, channel messages) and the property's
iCal export URL with regenerate; outsiders and view-only co-hosts cannot regenerate."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from guardian.shortcuts import assign_perm

from apps.bookings import services as booking_services
from apps.channels.models import InboundMessage
from apps.properties.models import Property
from tests.factories import UserFactory, future


@pytest.mark.django_db
def test_booking_page_shows_breakdown_contact_payments_and_messages(client, alice, prop):
    booking = booking_services.booking_create(
        property_id=prop.pk, check_in=future(10), check_out=future(13), guests=2, status="confirmed",
        guest=booking_services.GuestData(first_name="Ana", last_name="Silva", email="ana@example.com",
                                         phone="+49 30 555"),
    )  # fmt: skip
    InboundMessage.objects.create(platform="booking_com", via="pull", property=prop, booking=booking, body="x",
                                  status="processed")  # fmt: skip
    client.force_login(alice)
    page = client.get(reverse("admin:bookings_booking_change", args=[booking.pk])).content.decode()
    assert "data-price-breakdown" in page and "3 nights" in page and "Cleaning" in page
    assert "mailto:ana@example.com" in page and "tel:+49 30 555" in page
    assert "data-channel-messages" in page and "Booking.com" in page
    assert "Payments and refunds" in page
    assert '"nights":' not in page  # no raw JSON any more


@pytest.mark.django_db
def test_ical_export_url_copy_and_regenerate(client, alice, bob, prop):
    client.force_login(alice)
    change = reverse("admin:properties_property_change", args=[prop.pk])
    old = prop.ical_token
    page = client.get(change).content.decode()
    assert f"/ical/{old}.ics" in page and 'data-copy="#ical-export-url"' in page
    regenerate = reverse("admin:backoffice_ical_regenerate", args=[prop.pk])
    assert client.get(regenerate).status_code == 405
    assert client.post(regenerate).status_code == 302
    prop.refresh_from_db()
    assert prop.ical_token != old
    assert client.get(f"/ical/{old}.ics").status_code == 404
    assert client.get(f"/ical/{prop.ical_token}.ics").status_code == 200
    client.force_login(bob)
    assert client.post(regenerate).status_code == 404
    viewer = UserFactory(username="vik")
    viewer.groups.add(Group.objects.get(name="Co-hosts"))
    assign_perm("properties.view_property", viewer, prop)
    client.force_login(viewer)
    assert client.post(regenerate).status_code == 403
    assert Property.objects.get(pk=prop.pk).ical_token == prop.ical_token

"""A fresh demo opens clean: seed_demo on a live server (the simulators over real HTTP), then what a
new user sees first: no reconciliation difference, an iCal import without conflict, no alert, drawn
photos that differ per home; and seeding again changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from apps.bookings.models import Booking, BookingSource
from apps.channels import ical
from apps.channels.models import ChannelAlert, ChannelConnection, ReconciliationRun
from apps.ledger.selectors import month_range, owner_statement
from apps.payments.models import Payment
from apps.properties.models import Property, PropertyPhoto
from apps.sandbox.models import SimReservation
from apps.sandbox.models.expedia import ExpBooking
from apps.sandbox.models.google_vr import GoogleDay, GoogleListing
from tests.ledger.sql import independent_totals

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_fresh_demo_is_clean_and_seeding_again_changes_nothing(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with override_settings(SITE_URL=live_server.url):
        call_command("seed_demo", "--homes", "4", verbosity=0)  # both channel-connected homes and two more
        counts = (Property.objects.count(), Booking.objects.count(), PropertyPhoto.objects.count())
        assert counts[0] == 4 and counts[1] > 150 and counts[2] == 12
        assert set(Booking.objects.values_list("source", flat=True)) >= {
            "direct",
            "airbnb",
            "booking_com",
            "expedia",
            "fewo_direkt",
            "google_vr",
        }

        # The simulator knows the seeded Booking.com bookings of its hotel: reconcile finds nothing.
        bcom = ChannelConnection.objects.get(platform="booking_com")
        assert bcom.base_url == f"{live_server.url}/sandbox/booking_com"
        ours = Booking.objects.filter(property=bcom.property, source=BookingSource.BOOKING_COM)
        assert ours.exists()
        assert set(SimReservation.objects.values_list("res_id", flat=True)) == set(
            ours.values_list("external_id", flat=True)
        )
        out = io.StringIO()
        call_command("reconcile", stdout=out)
        assert "no differences" in out.getvalue(), out.getvalue()
        assert "{" not in out.getvalue()  # a sentence, not a Python repr
        assert set(ReconciliationRun.objects.values_list("status", flat=True)) == {"ok"}
        # ...and the Expedia simulator the seeded Expedia bookings of its hotel (confirmed, not retrieved again)
        expedia = ChannelConnection.objects.get(platform="expedia")
        assert expedia.base_url == f"{live_server.url}/sandbox/expedia"
        assert ReconciliationRun.objects.filter(connection=expedia).exists()
        assert set(ExpBooking.objects.values_list("booking_id", flat=True)) == set(
            Booking.objects.filter(property=expedia.property, source="expedia").values_list("external_id", flat=True)
        )
        # The first home is listed on the Google simulator from its owner's feed, with the calendar.
        google = ChannelConnection.objects.get(platform="google_vr")
        assert google.property_id == bcom.property_id
        listing = GoogleListing.objects.get(hotel_id=google.external_property_id)
        assert listing.listed and not listing.problems and listing.room_capacity == google.property.max_guests
        assert GoogleDay.objects.filter(listing=listing).count() >= 365

        # The first home is on Airbnb too, connected through the OAuth flow; Airbnb knows its bookings.
        abnb = ChannelConnection.objects.get(platform="airbnb")
        assert abnb.property == bcom.property and abnb.sync_enabled and abnb.has_secret("refresh_token")
        assert abnb.base_url == f"{live_server.url}/sandbox/airbnb" and abnb.external_property_id
        assert ReconciliationRun.objects.filter(connection=abnb).get().status == "ok"

        # The Airbnb feed takes free dates: the import creates its block without a conflict.
        feed = ChannelConnection.objects.get(platform="ical")
        result = ical.import_connection(connection_id=feed.pk)
        assert result.ok and result.created == ["demo-airbnb-1@airbnb.com"] and not result.conflicts
        assert not ChannelAlert.objects.exists()

        # FeWo-direkt: the simulator crawls the second home's feeds (every read answered, nothing stale).
        from apps.sandbox import vrbo as vrbo_sim
        from apps.sandbox.models.vrbo import VrboSimListing

        crawl = vrbo_sim.crawl(VrboSimListing.objects.get(listing_external_id="FEWO-DEMO-1"), trigger="test")
        assert crawl.error == "" and crawl.fetched == 9, crawl.reads
        assert ChannelConnection.objects.get(platform="fewo_direkt").property == feed.property

        # Drawn photos: three per home, files on disk, different between homes.
        svgs = set()
        for photo in PropertyPhoto.objects.select_related("property"):
            assert photo.image.name.startswith(f"demo/{photo.property.slug}-") and not photo.url
            svgs.add((tmp_path / photo.image.name).read_text())
        assert len(svgs) == 12
        assert all("<svg" in s and "http" not in s.replace("http://www.w3.org/2000/svg", "") for s in svgs)

        # Money: every booking seeded "paid" has its payment, and every booking reconciles with the ledger.
        paid = Booking.objects.filter(source="direct", payment_status__in=["paid", "partially_refunded"])
        assert paid.exists() and not paid.exclude(payments__status="succeeded").exists()
        payments = Payment.objects.count()
        call_command("ledger_backfill", "--check", stdout=io.StringIO())
        # A seeded owner's statements equal an independent SQL sum over bookings, payments and refunds.
        olivia = get_user_model().objects.get(username="olivia")
        first = timezone.localdate().replace(day=1)
        for month in [(first - timedelta(days=40)).replace(day=1), first, (first + timedelta(days=40)).replace(day=1)]:
            start, end = month_range(f"{month:%Y-%m}")
            statement = owner_statement(owner_id=olivia.pk, start=start, end=end)
            sql = independent_totals(owner_id=olivia.pk, start=start, end=end)
            totals = statement.totals.get("EUR")
            assert totals is not None and totals["gross"] == sql["charged"] > 0, (month, totals, sql)
            assert (totals["paid"], -totals["refunded"]) == (sql["received"], sql["refunded"]), month

        call_command("seed_demo", "--homes", "4", verbosity=0)
        assert (Property.objects.count(), Booking.objects.count(), PropertyPhoto.objects.count()) == counts
        assert Payment.objects.count() == payments
        assert ical.import_connection(connection_id=feed.pk).unchanged == 1  # the feed kept its dates
        call_command("audit_calendar")
    assert not ChannelAlert.objects.exists()

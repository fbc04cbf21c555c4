"""Demo data for Airbnb: the PMS's app registered on the simulator (calling back to ``SITE_URL``), a demo
host with two listings, and one demo property connected through the real OAuth flow: the consent
page's grant, our token exchange over HTTP, the listing fetched from the simulator and chosen.

``seed_demo`` runs before the demo's web server, so the exchange goes to a short-lived server of the
simulator on a free loopback port; the connection then talks to the simulator under ``SITE_URL``.
Idempotent: a second run changes nothing but the URLs (when the demo moved to another port)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.utils import timezone

DEMO_HOST_EMAIL = "host@airbnb.demo"
DEMO_HOST_PASSWORD = "demo-host-pass"  # noqa: S105 - the simulator's demo login, printed in the README
DEMO_LISTINGS = ("51000001", "51000002")


@contextmanager
def _simulator_server() -> Iterator[str]:
    """The simulator (only) on 127.0.0.1:<free port>, for the few calls made while seeding."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.urls import include, path

    class SimulatorURLs:
        urlpatterns = [path("sandbox/", include("apps.sandbox.urls"))]

    class Handler(WSGIHandler):
        def get_response(self, request):
            request.urlconf = SimulatorURLs
            return super().get_response(request)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=False)
    server.set_app(Handler())
    thread = threading.Thread(target=server.serve_forever, name="seed-airbnb-simulator", daemon=True)
    thread.start()
    port = server.server_address[1]
    old = (settings.AIRBNB_API_URL, list(settings.SSRF_ALLOWED_HOSTS), settings.ALLOWED_HOSTS)
    settings.AIRBNB_API_URL = f"http://127.0.0.1:{port}/sandbox/airbnb"
    settings.SSRF_ALLOWED_HOSTS = [*old[1], f"127.0.0.1:{port}"]
    try:
        yield settings.AIRBNB_API_URL
    finally:
        settings.AIRBNB_API_URL, settings.SSRF_ALLOWED_HOSTS, settings.ALLOWED_HOSTS = old
        server.shutdown()
        server.server_close()


def seed_demo_airbnb(prop: Any) -> Any:
    """Connect ``prop`` to the Airbnb simulator (idempotent). Returns the connection."""
    from django.urls import reverse

    from apps.bookings.models import Booking, BookingStatus
    from apps.channels import airbnb as channel_airbnb
    from apps.channels.models import ChannelConnection

    from . import airbnb as sim
    from .models.airbnb import AirbnbHost, AirbnbListing, AirbnbReservation

    site = settings.SITE_URL.rstrip("/")
    config = channel_airbnb.app_config()
    if not config.client_id:
        return None  # no sandbox, no partner app: nothing to seed
    callback = site + reverse("admin:channels_channelconnection_airbnb_callback")
    app = sim.app_register(
        client_id=config.client_id,
        client_secret=config.client_secret,
        redirect_uris=[callback],
        pms_base_url=f"{site}/webhooks/airbnb",
        notification_secret=config.notification_secret,
    )
    host, _ = AirbnbHost.objects.get_or_create(
        email=DEMO_HOST_EMAIL, defaults={"password": DEMO_HOST_PASSWORD, "first_name": "Olivia"}
    )
    names = (prop.name, "Olivia's other Airbnb home (not in the PMS)")
    for listing_id, name in zip(DEMO_LISTINGS, names, strict=True):
        AirbnbListing.objects.get_or_create(
            listing_id=listing_id,
            defaults={
                "host": host,
                "name": name,
                "listing_currency": prop.currency,
                "default_daily_price": prop.base_price,
            },
        )
    listing = AirbnbListing.objects.get(listing_id=DEMO_LISTINGS[0])
    # Airbnb knows the property's Airbnb bookings (no "missing on the platform" at start)
    for booking in Booking.objects.filter(property=prop, source="airbnb").select_related("guest"):
        if not booking.external_id or len(booking.external_id) > 20:
            continue
        cancelled = booking.status == BookingStatus.CANCELLED
        res, created = AirbnbReservation.objects.get_or_create(
            confirmation_code=booking.external_id,
            defaults={
                "listing": listing,
                "status": AirbnbReservation.Status.CANCELLED if cancelled else AirbnbReservation.Status.ACCEPTED,
                "start_date": booking.check_in,
                "nights": (booking.check_out - booking.check_in).days,
                "number_of_guests": booking.guests,
                "guest_first_name": booking.guest.first_name if booking.guest else "Guest",
                "guest_last_name": booking.guest.last_name if booking.guest else "",
                "listing_base_price": booking.total_price or 0,
                "currency": booking.currency,
            },
        )
        if created and not cancelled:
            sim._occupy(res)
    conn = ChannelConnection.objects.filter(property=prop, platform="airbnb").first()
    if conn is None or not conn.external_property_id:
        with _simulator_server() as api_url:
            code = sim.grant_code(app=app, host=host, redirect_uri=callback)  # the host approved on the consent page
            conn = channel_airbnb.connect_finish(property_id=prop.pk, code=code, redirect_uri=callback)
            ChannelConnection.objects.filter(pk=conn.pk).update(base_url=api_url, label="Airbnb (simulator)")
            conn.refresh_from_db()
            conn = channel_airbnb.listing_map(connection_id=conn.pk, listing_id=listing.listing_id)
    api_url = channel_airbnb.app_config().api_url
    if conn.base_url != api_url:  # talk to the simulator under SITE_URL (also after the demo moved port)
        ChannelConnection.objects.filter(pk=conn.pk).update(base_url=api_url, updated_at=timezone.now())
    from apps.channels.services import connection_sync_now

    connection_sync_now(connection_id=conn.pk)  # the demo's worker pushes the whole calendar at start
    return conn

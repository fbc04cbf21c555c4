"""Demo: one property connected to the Expedia simulator (EQC test hotel 111, booking retrieval).

Idempotent. The simulator learns the seeded Expedia bookings of that property (confirmed already, so
they are not retrieved again), as the platform would know them: reconciliation opens clean. The
hotel is ready for Booking Notification too (its ``bn_url`` and credentials match the connection's):
switch both to "push" in the admin to try it.
"""

from __future__ import annotations

from django.conf import settings

DEMO_HOTEL = "111"
DEMO_USER = "demo-eqc-user"
DEMO_PASSWORD = "ECLPASS"  # noqa: S105 - the simulator's documented test password, not a secret
DEMO_BN_USER = "expedia-bn"
DEMO_BN_PASSWORD = "demo-bn-secret"  # noqa: S105 - simulator only


def seed_demo_expedia(props: list) -> None:
    from apps.bookings.models import Booking, BookingSource, BookingStatus
    from apps.channels.models import ChannelConnection
    from apps.channels.services import connection_sync_now

    from .models.expedia import ExpBooking, ExpHotel, ExpTransaction

    prop = props[2] if len(props) > 2 else props[0]
    site = settings.SITE_URL.rstrip("/")
    hotel, _ = ExpHotel.objects.get_or_create(
        hotel_id=DEMO_HOTEL,
        defaults={
            "name": prop.name,
            "username": DEMO_USER,
            "password": DEMO_PASSWORD,
            "currency": prop.currency,
            "bn_username": DEMO_BN_USER,
            "bn_password": DEMO_BN_PASSWORD,
        },
    )
    ExpHotel.objects.filter(pk=hotel.pk).update(bn_url=f"{site}/webhooks/expedia/bn/")  # follows PORT
    conn = ChannelConnection.objects.filter(platform="expedia", external_property_id=DEMO_HOTEL).first()
    if conn is None:
        conn = ChannelConnection(
            property=prop,
            platform="expedia",
            label="Expedia (EQC simulator)",
            external_property_id=DEMO_HOTEL,
            external_room_id=hotel.room_type_id,
            external_rate_plan_id=hotel.rate_plan_id,
            base_url=f"{site}/sandbox/expedia",
            username=DEMO_USER,
            settings={"reservation_model": "pull", "bn_username": DEMO_BN_USER},
        )
        conn.set_secret("access_token", DEMO_PASSWORD)
        conn.set_secret("webhook_secret", DEMO_BN_PASSWORD)
        conn.save()
    elif conn.base_url.endswith("/sandbox/expedia") and conn.base_url != f"{site}/sandbox/expedia":
        ChannelConnection.objects.filter(pk=conn.pk).update(base_url=f"{site}/sandbox/expedia")
    for booking in Booking.objects.filter(property=conn.property, source=BookingSource.EXPEDIA).select_related("guest"):
        if ExpBooking.objects.filter(booking_id=booking.external_id).exists():
            continue
        cancelled = booking.status == BookingStatus.CANCELLED
        guest = booking.guest
        known = ExpBooking.objects.create(
            hotel=hotel,
            booking_id=booking.external_id,
            status=ExpBooking.Status.CANCELLED if cancelled else ExpBooking.Status.BOOKED,
            check_in=booking.check_in,
            check_out=booking.check_out,
            adults=booking.guests,
            given_name=(guest.first_name if guest else "Guest")[:100],
            surname=(guest.last_name if guest else "")[:100],
            total=booking.total_price or 0,
            currency=booking.currency,
            confirm_number=booking.reference,
        )
        for seq, kind in enumerate(["Book", "Cancel"] if cancelled else ["Book"], start=1):
            ExpTransaction.objects.create(
                booking=known,
                seq=seq,
                type=kind,
                status=ExpTransaction.Status.CONFIRMED,
                check_in=booking.check_in,
                check_out=booking.check_out,
                adults=booking.guests,
                total=booking.total_price or 0,
                retrieved_count=1,
                confirm_count=1,
                confirm_number=booking.reference,
            )
    connection_sync_now(connection_id=conn.pk)  # Expedia gets the whole calendar at start

"""Demo data: owners, a co-host, staff, 14 properties in several cities, a year of bookings from
every source, blocks and pricing rules. Idempotent: running it again adds nothing twice."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm
from tqdm import tqdm

from apps.availability import services as availability_services
from apps.availability.models import AvailabilityBlock, PricingRule
from apps.bookings import services as booking_services
from apps.bookings.errors import BookingConflict
from apps.bookings.models import Booking, BookingSource, BookingStatus
from apps.core.errors import DomainError
from apps.core.roles import ensure_roles
from apps.core.tenancy import COHOSTS_GROUP, OWNERS_GROUP, STAFF_GROUP
from apps.properties.models import Property, PropertyPhoto
from apps.sandbox.demo_expedia import seed_demo_expedia
from apps.sandbox.demo_money import seed_demo_money
from apps.sandbox.google_vr import seed_demo_google_vr

PROPERTIES = [
    # owner, name, city, country, tz, guests, bedrooms, price, currency, amenities
    (
        "olivia",
        "Altbau Loft Prenzlauer Berg",
        "Berlin",
        "DE",
        "Europe/Berlin",
        4,
        2,
        "129",
        "EUR",
        ["wifi", "kitchen", "washer", "balcony"],
    ),
    (
        "olivia",
        "Spree View Studio",
        "Berlin",
        "DE",
        "Europe/Berlin",
        2,
        1,
        "89",
        "EUR",
        ["wifi", "kitchen", "elevator"],
    ),
    (
        "olivia",
        "Isar Garden Apartment",
        "Munich",
        "DE",
        "Europe/Berlin",
        5,
        2,
        "149",
        "EUR",
        ["wifi", "kitchen", "garden", "parking"],
    ),
    (
        "olivia",
        "Schwabing Family Flat",
        "Munich",
        "DE",
        "Europe/Berlin",
        6,
        3,
        "179",
        "EUR",
        ["wifi", "kitchen", "washer", "crib"],
    ),
    (
        "olivia",
        "Elbphilharmonie Penthouse",
        "Hamburg",
        "DE",
        "Europe/Berlin",
        4,
        2,
        "219",
        "EUR",
        ["wifi", "kitchen", "balcony", "elevator", "air_conditioning"],
    ),
    ("olivia", "Alster Houseboat", "Hamburg", "DE", "Europe/Berlin", 3, 1, "139", "EUR", ["wifi", "kitchen"]),
    (
        "olivia",
        "Baltic Dune Cottage",
        "Binz",
        "DE",
        "Europe/Berlin",
        6,
        3,
        "159",
        "EUR",
        ["wifi", "kitchen", "garden", "parking", "sauna"],
    ),
    (
        "max",
        "Alfama Azulejo House",
        "Lisbon",
        "PT",
        "Europe/Lisbon",
        4,
        2,
        "119",
        "EUR",
        ["wifi", "kitchen", "air_conditioning"],
    ),
    ("max", "Bairro Alto Rooftop", "Lisbon", "PT", "Europe/Lisbon", 2, 1, "99", "EUR", ["wifi", "kitchen", "terrace"]),
    (
        "max",
        "Gràcia Modernist Flat",
        "Barcelona",
        "ES",
        "Europe/Madrid",
        4,
        2,
        "139",
        "EUR",
        ["wifi", "kitchen", "air_conditioning", "balcony"],
    ),
    (
        "max",
        "Costa Brava Villa",
        "Cadaqués",
        "ES",
        "Europe/Madrid",
        8,
        4,
        "329",
        "EUR",
        ["wifi", "kitchen", "pool", "parking", "garden"],
    ),
    (
        "max",
        "Jordaan Canal House",
        "Amsterdam",
        "NL",
        "Europe/Amsterdam",
        4,
        2,
        "199",
        "EUR",
        ["wifi", "kitchen", "washer"],
    ),
    (
        "max",
        "Nyhavn Harbour Flat",
        "Copenhagen",
        "DK",
        "Europe/Copenhagen",
        3,
        1,
        "1450",
        "DKK",
        ["wifi", "kitchen", "elevator"],
    ),
    (
        "max",
        "Alpine Chalet Zermatt",
        "Zermatt",
        "CH",
        "Europe/Zurich",
        8,
        4,
        "420",
        "CHF",
        ["wifi", "kitchen", "fireplace", "sauna", "parking"],
    ),
]

SOURCES = [
    BookingSource.DIRECT,
    BookingSource.AIRBNB,
    BookingSource.BOOKING_COM,
    BookingSource.EXPEDIA,
    BookingSource.FEWO_DIREKT,
    BookingSource.GOOGLE_VR,
]
FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Lea",
    "Marco",
    "Nora",
    "Oskar",
    "Paula",
    "Rafael",
    "Sofia",
    "Tom",
    "Ula",
    "Viktor",
]
LAST = ["Schmidt", "Müller", "Silva", "García", "Jansen", "Nielsen", "Rossi", "Dubois", "Novak", "Berg"]


class Command(BaseCommand):
    help = "Load realistic demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--homes", type=int, default=len(PROPERTIES), help="Seed only the first N homes (a quick smoke test)."
        )

    def handle(self, *args, seed: int, homes: int, **options):
        import logging

        if options.get("verbosity", 1) < 2:
            logging.getLogger("apps").setLevel(logging.WARNING)  # not a line per seeded booking
        rng = random.Random(seed)
        ensure_roles()
        users = self._users()
        today = timezone.localdate()
        created_props = []
        for spec in PROPERTIES[: max(2, homes)]:  # the two channel-connected homes at least
            prop, created = self._property(users, spec)
            created_props.append((prop, created))
        cohost = users["cohost"]
        assign_perm("properties.view_property", cohost, created_props[0][0])
        assign_perm("properties.change_property", cohost, created_props[0][0])

        made = 0
        for prop, _ in tqdm(created_props, desc="properties", unit="prop", disable=options.get("verbosity", 1) < 1):
            self._photos(prop)
            if Booking.objects.filter(property=prop).exists():
                continue  # already seeded
            self._rules(prop)
            made += self._calendar(prop, rng, today)
        seed_demo_money()  # every paid booking has its payment; every booking is in the ledger
        # The channels come last: the simulator learns the seeded Booking.com bookings, and the
        # Airbnb feed takes free dates, so a fresh demo opens without differences or conflicts.
        self._channels([p for p, _ in created_props])
        seed_demo_google_vr(created_props[0][0])  # the first home is listed on Google Vacation Rentals too
        from apps.sandbox.vrbo import seed_demo_vrbo  # FeWo-direkt: the simulator crawls this home's feeds

        seed_demo_vrbo(created_props[1][0])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Property.objects.count()} properties, {Booking.objects.count()} bookings "
                f"({made} new)."
            )
        )

    def _users(self) -> dict:
        User = get_user_model()
        out = {}
        specs = [
            ("admin", "demo-admin-pass", True, [STAFF_GROUP]),
            ("olivia", "demo-owner-pass", False, [OWNERS_GROUP]),
            ("max", "demo-owner-pass", False, [OWNERS_GROUP]),
            ("cohost", "demo-owner-pass", False, [COHOSTS_GROUP]),
        ]
        for username, password, superuser, groups in specs:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@pms.localhost", "is_staff": True, "is_superuser": superuser},
            )
            if created:
                user.set_password(password)
                user.save()
            for name in groups:
                user.groups.add(Group.objects.get(name=name))
            out[username] = user
        return out

    def _property(self, users, spec):
        owner, name, city, country, tz, guests, bedrooms, price, currency, amenities = spec
        from django.utils.text import slugify

        prop, created = Property.objects.get_or_create(
            slug=slugify(name),
            defaults=dict(
                owner=users[owner],
                name=name,
                city=city,
                country=country,
                timezone=tz,
                address={"street": "Demo street 1", "postal_code": "10000", "city": city, "country": country},
                description=f"A lovely place to stay in {city}: {', '.join(amenities)}.",
                house_rules="No smoking. No parties. Quiet hours 22:00-07:00.",
                max_guests=guests,
                bedrooms=bedrooms,
                bathrooms=Decimal("1.0") + (bedrooms > 2),
                base_price=Decimal(price),
                currency=currency,
                amenities=amenities,
                cleaning_fee=(Decimal(price) * Decimal("0.4")).quantize(Decimal("1")),
                default_min_stay=2,
                default_max_stay=28,
                min_notice_hours=24,
                max_advance_days=365,
                cancellation_policy=["flexible", "moderate", "strict"][len(name) % 3],
            ),
        )
        return prop, created

    def _photos(self, prop: Property) -> None:
        """Three drawn photos per home (apps/sandbox/demo_photos.py) under MEDIA_ROOT/demo/; photos of an
        older seed (the shared placeholders) are replaced, and missing files are drawn again."""
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        from apps.sandbox.demo_photos import photo_svgs

        photos = {p.position: p for p in PropertyPhoto.objects.filter(property=prop)}
        for i, (caption, svg) in enumerate(photo_svgs(slug=prop.slug, name=prop.name)):
            name = f"demo/{prop.slug}-{i + 1}.svg"
            photo = photos.get(i)
            ours = photo is None or photo.image.name.startswith("demo/") or photo.url.startswith("/static/demo/")
            if not ours or (photo is not None and photo.image.name == name and default_storage.exists(name)):
                continue  # an owner's own photo, or drawn already
            if default_storage.exists(name):
                default_storage.delete(name)
            stored = default_storage.save(name, ContentFile(svg.encode()))
            if photo is None:
                PropertyPhoto.objects.create(property=prop, position=i, caption=caption, image=stored)
            else:
                PropertyPhoto.objects.filter(pk=photo.pk).update(image=stored, url="", caption=caption)

    def _channels(self, props: list[Property]) -> None:
        """A Booking.com connection to the local simulator and an Airbnb iCal feed on the sandbox host."""
        from django.conf import settings

        from apps.channels.models import ChannelConnection
        from apps.sandbox import ical_host
        from apps.sandbox.models import SimListing

        site = settings.SITE_URL.rstrip("/")
        bcom_prop, ical_prop = props[0], props[1]
        SimListing.objects.get_or_create(
            hotel_code="1000001",
            defaults={
                "name": bcom_prop.name,
                "username": "demo-machine-account",
                "password": "demo-sim-secret",
                "room_code": "101",
                "rate_plan_code": "1",
                "currency": bcom_prop.currency,
            },
        )
        conn = ChannelConnection.objects.filter(property=bcom_prop, platform="booking_com").first()
        if conn is None:
            conn = ChannelConnection(
                property=bcom_prop,
                platform="booking_com",
                label="Booking.com (simulator)",
                external_property_id="1000001",
                external_room_id="101",
                external_rate_plan_id="1",
                base_url=f"{site}/sandbox/booking_com",
                auth_scheme="basic",
                username="demo-machine-account",
            )
            conn.set_secret("access_token", "demo-sim-secret")
            conn.save()
        elif conn.base_url.endswith("/sandbox/booking_com") and conn.base_url != f"{site}/sandbox/booking_com":
            # The demo now runs on another port: its simulator moved with it.
            ChannelConnection.objects.filter(pk=conn.pk).update(base_url=f"{site}/sandbox/booking_com")
        self._simulator_reservations(bcom_prop, SimListing.objects.get(hotel_code="1000001"))
        from apps.channels.services import connection_sync_now

        connection_sync_now(connection_id=conn.pk)  # the simulator gets the whole calendar at start
        from apps.sandbox.airbnb_demo import seed_demo_airbnb  # the same home on Airbnb (API, real OAuth flow)

        seed_demo_airbnb(bcom_prop)

        uid = "demo-airbnb-1@airbnb.com"
        block = AvailabilityBlock.objects.filter(property=ical_prop, external_uid=uid).first()
        if block is not None:
            start, end = block.start_date, block.end_date  # imported already: the feed stays as it was
        else:
            start = self._free_window(ical_prop, timezone.localdate() + timedelta(days=30), nights=4)
            end = start + timedelta(days=4)
        feed = (
            "BEGIN:VCALENDAR\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\nVERSION:2.0\r\n"
            f"BEGIN:VEVENT\r\nDTEND;VALUE=DATE:{end:%Y%m%d}\r\nDTSTART;VALUE=DATE:{start:%Y%m%d}\r\n"
            "UID:demo-airbnb-1@airbnb.com\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        ical_host.feed_set(name="demo-airbnb", body=feed)
        ical_url = f"{site}/sandbox/ical/demo-airbnb.ics"
        ical_conn, created = ChannelConnection.objects.get_or_create(
            property=ical_prop,
            platform="ical",
            defaults={"label": "Airbnb iCal feed (sandbox)", "ical_source": "airbnb", "ical_import_url": ical_url},
        )
        if not created and ical_conn.ical_import_url.endswith("/sandbox/ical/demo-airbnb.ics"):
            ChannelConnection.objects.filter(pk=ical_conn.pk).update(ical_import_url=ical_url)
        seed_demo_expedia(props)  # the third home on the Expedia simulator (EQC test hotel 111)

    def _simulator_reservations(self, prop: Property, listing) -> None:
        """The simulator knows the seeded Booking.com bookings of its hotel (already acknowledged, so
        they are not pulled again), as the platform would: no "missing on the platform" at start."""
        from apps.sandbox.models import SimReservation

        now = timezone.now()
        for booking in Booking.objects.filter(property=prop, source=BookingSource.BOOKING_COM).select_related("guest"):
            cancelled = booking.status == BookingStatus.CANCELLED
            guest = booking.guest
            SimReservation.objects.get_or_create(
                res_id=booking.external_id,
                defaults={
                    "listing": listing,
                    "status": SimReservation.Status.CANCELLED if cancelled else SimReservation.Status.BOOKED,
                    "check_in": booking.check_in,
                    "check_out": booking.check_out,
                    "guests": booking.guests,
                    "first_name": guest.first_name if guest else "Guest",
                    "last_name": guest.last_name if guest else "",
                    "email": guest.email if guest else "",
                    "total": booking.total_price,
                    "currency": booking.currency,
                    "version": 2 if cancelled else 1,
                    "acked_version": 2 if cancelled else 1,
                    "new_acked_at": now,
                },
            )

    def _free_window(self, prop: Property, first: date, *, nights: int) -> date:
        """The first arrival day from ``first`` on with ``nights`` free nights (no booking, no block)."""
        from apps.availability.models import OccupiedNight

        taken = set(
            OccupiedNight.objects.filter(
                property=prop, night__gte=first, night__lt=first + timedelta(days=365)
            ).values_list("night", flat=True)
        )
        day = first
        while any(day + timedelta(days=i) in taken for i in range(nights)):
            day += timedelta(days=1)
        return day

    def _rules(self, prop: Property) -> None:
        if PricingRule.objects.filter(property=prop).exists():
            return
        year = timezone.localdate().year
        rules = [
            ("Weekend", "weekend", "percentage", "15", {"days": [4, 5]}, 10),
            (
                "Summer season",
                "seasonal",
                "percentage",
                "25",
                {"start_date": f"{year}-07-01", "end_date": f"{year}-09-01", "recurring_yearly": True},
                5,
            ),
            ("Weekly discount", "length_of_stay", "percentage", "-10", {"min_nights": 7}, 20),
            ("Last minute", "last_minute", "percentage", "-8", {"max_days_before": 3}, 30),
            ("Tourist tax", "tax_per_person_night", "fixed", "2.50", {}, 50),
        ]
        for name, rule_type, adj_type, value, cond, prio in rules:
            PricingRule.objects.create(
                property=prop,
                name=name,
                rule_type=rule_type,
                adjustment_type=adj_type,
                adjustment_value=Decimal(value),
                conditions=cond,
                priority=prio,
            )

    def _calendar(self, prop: Property, rng: random.Random, today: date) -> int:
        made = 0
        day = today - timedelta(days=150)
        end = today + timedelta(days=215)
        while day < end:
            day += timedelta(days=rng.randint(0, 5))
            nights = rng.choice([2, 3, 3, 4, 5, 7, 10])
            check_out = day + timedelta(days=nights)
            if rng.random() < 0.08:
                try:
                    availability_services.block_create(
                        property_id=prop.pk,
                        start_date=day,
                        end_date=check_out,
                        block_type=rng.choice([AvailabilityBlock.Type.BLOCKED, AvailabilityBlock.Type.MAINTENANCE]),
                        note="Owner stay" if rng.random() < 0.5 else "Painting",
                    )
                except DomainError:
                    pass
                day = check_out
                continue
            source = rng.choice(SOURCES)
            guest = booking_services.GuestData(
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
                email=f"guest{rng.randint(1, 400)}@example.com",
                country=rng.choice(["DE", "NL", "US", "GB", "FR"]),
                language=rng.choice(["en", "de"]),
            )
            try:
                with transaction.atomic():
                    booking = booking_services.booking_create(
                        property_id=prop.pk,
                        check_in=day,
                        check_out=check_out,
                        guests=rng.randint(1, prop.max_guests),
                        source=source,
                        guest=guest,
                        status=BookingStatus.CONFIRMED,
                        external_id=None if source == BookingSource.DIRECT else f"{source}-{prop.pk}-{day:%Y%m%d}",
                        payment_status="paid" if source == BookingSource.DIRECT else "not_required",
                        enforce_rules=False,
                    )
                    if check_out <= today:
                        booking_services.booking_check_in(booking_id=booking.pk)
                        booking_services.booking_check_out(booking_id=booking.pk)
                    elif day <= today:
                        booking_services.booking_check_in(booking_id=booking.pk)
                    elif rng.random() < 0.06:
                        booking_services.booking_cancel(booking_id=booking.pk, reason="Guest changed plans.")
                made += 1
            except BookingConflict:
                pass
            day = check_out
        return made

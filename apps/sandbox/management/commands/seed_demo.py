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

    def handle(self, *args, seed: int, **options):
        rng = random.Random(seed)
        ensure_roles()
        users = self._users()
        today = timezone.localdate()
        created_props = []
        for spec in PROPERTIES:
            prop, created = self._property(users, spec)
            created_props.append((prop, created))
        cohost = users["cohost"]
        assign_perm("properties.view_property", cohost, created_props[0][0])
        assign_perm("properties.change_property", cohost, created_props[0][0])

        self._channels([p for p, _ in created_props])
        made = 0
        for prop, _ in tqdm(created_props, desc="properties", unit="prop", disable=options.get("verbosity", 1) < 1):
            if Booking.objects.filter(property=prop).exists():
                continue  # already seeded
            self._rules(prop)
            made += self._calendar(prop, rng, today)
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
        if created:
            for i in range(3):
                PropertyPhoto.objects.create(
                    property=prop,
                    position=i,
                    caption=f"{name} – view {i + 1}",
                    url=f"/static/demo/photo-{(len(name) + i) % 6 + 1}.svg",
                )
        return prop, created

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
        if not ChannelConnection.objects.filter(property=bcom_prop, platform="booking_com").exists():
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
        start = timezone.localdate() + timedelta(days=40)
        end = start + timedelta(days=4)
        feed = (
            "BEGIN:VCALENDAR\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\nVERSION:2.0\r\n"
            f"BEGIN:VEVENT\r\nDTEND;VALUE=DATE:{end:%Y%m%d}\r\nDTSTART;VALUE=DATE:{start:%Y%m%d}\r\n"
            "UID:demo-airbnb-1@airbnb.com\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        ical_host.feed_set(name="demo-airbnb", body=feed)
        ChannelConnection.objects.get_or_create(
            property=ical_prop,
            platform="ical",
            defaults={
                "label": "Airbnb iCal feed (sandbox)",
                "ical_source": "airbnb",
                "ical_import_url": f"{site}/sandbox/ical/demo-airbnb.ics",
            },
        )

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

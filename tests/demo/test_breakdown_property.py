"""The price breakdown a guest reads always adds up to the total it shows: a property test over
random pricing rules, stays, currencies and languages that reads the rendered property page, the
checkout, the confirmation page and the confirmation e-mail (HTML and text), not the quote object."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.availability.models import PricingRule
from apps.bookings import services as booking_services
from apps.bookings import tokens
from apps.bookings.emails import send_booking_confirmation
from apps.bookings.models import Booking, BookingStatus
from apps.core.money import quantum
from apps.ledger.selectors import stay_charges
from apps.properties.models import Property
from tests.factories import PropertyFactory
from tests.storefront.helpers import checkout_url, property_url

pytestmark = pytest.mark.django_db

TABLE = re.compile(r'<table class="breakdown">(.*?)</table>', re.S)
ROW = re.compile(r"<tr(?: class=\"total\")?><td>(.*?)</td><td(?: data-total)?>(.*?)</td></tr>", re.S)


def money(text: str, language: str) -> Decimal:
    """ "€1,234.56", "−CHF 12.50", "1.234,56 €", "¥12,345" -> Decimal."""
    text = text.replace("\xa0", " ").strip()
    negative = text.startswith(("−", "-"))
    digits = re.sub(r"[^\d.,]", "", text)
    digits = digits.replace(".", "").replace(",", ".") if language == "de" else digits.replace(",", "")
    value = Decimal(digits)
    return -value if negative else value


def breakdown(html: str, language: str = "en") -> tuple[list[Decimal], Decimal]:
    match = TABLE.search(html)
    assert match, "no price breakdown on the page"
    rows = ROW.findall(match.group(1))
    assert len(rows) >= 2
    *lines, (_, total) = rows
    return [money(amount, language) for _, amount in lines], money(total, language)


def percent(low: int, high: int):
    return st.decimals(min_value=low, max_value=high, places=2, allow_nan=False, allow_infinity=False)


RULES = st.lists(
    st.one_of(
        st.tuples(st.just("weekend"), st.sampled_from(["percentage", "fixed"]), percent(-40, 60), st.just({})),
        st.tuples(
            st.just("seasonal"),
            st.just("percentage"),
            percent(-30, 50),
            st.integers(0, 20).map(lambda a: {"start": a, "end": a + 10}),
        ),
        st.tuples(
            st.just("length_of_stay"),
            st.sampled_from(["percentage", "fixed"]),
            percent(-35, 0),
            st.integers(1, 10).map(lambda n: {"min_nights": n}),
        ),
        st.tuples(
            st.just("last_minute"),
            st.just("percentage"),
            percent(-25, 0),
            st.integers(1, 10).map(lambda n: {"max_days_before": n}),
        ),
        st.tuples(st.just("tax_percentage"), st.just("percentage"), percent(0, 20), st.just({})),
        st.tuples(st.just("tax_per_person_night"), st.just("fixed"), percent(0, 5), st.just({})),
        st.tuples(
            st.just("extra_guest_fee"),
            st.just("fixed"),
            percent(0, 30),
            st.integers(1, 3).map(lambda n: {"above_guests": n}),
        ),
    ),
    max_size=6,
)


@pytest.fixture
def home(alice):
    return PropertyFactory(owner=alice, name="Random Rules Home", slug="random-rules", max_guests=6)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rules=RULES,
    base=percent(20, 400),
    cleaning=percent(0, 120),
    currency=st.sampled_from(["EUR", "CHF", "JPY"]),
    lead=st.integers(1, 40),
    nights=st.integers(1, 14),
    guests=st.integers(1, 6),
    language=st.sampled_from(["en", "de"]),
)
def test_every_rendered_breakdown_adds_up_to_its_total(
    client, home, rules, base, cleaning, currency, lead, nights, guests, language
):
    q = quantum(currency)
    # bookings are never deleted (their ledger lines refer to them): cancelling frees the dates
    for stale in Booking.objects.filter(property=home).exclude(status=BookingStatus.CANCELLED):
        booking_services.booking_cancel(booking_id=stale.pk)
    PricingRule.objects.filter(property=home).delete()
    Property.objects.filter(pk=home.pk).update(
        base_price=base.quantize(q),
        cleaning_fee=cleaning.quantize(q),
        currency=currency,
        min_notice_hours=0,
        default_min_stay=1,
        default_max_stay=30,
        max_advance_days=400,
    )
    home.refresh_from_db()
    today = timezone.localdate()
    check_in = today + timedelta(days=lead)
    check_out = check_in + timedelta(days=nights)
    for i, (rule_type, adjustment, value, cond) in enumerate(rules):
        if rule_type == "seasonal":
            cond = {
                "start_date": (today + timedelta(days=cond["start"])).isoformat(),
                "end_date": (today + timedelta(days=cond["end"])).isoformat(),
            }
        if rule_type == "weekend":
            cond = {"days": [4, 5]}
        PricingRule.objects.create(
            property=home,
            name=["Weekend", "Summer season", "Weekly discount", "Tourist tax", "", "Special"][i % 6],
            rule_type=rule_type,
            adjustment_type=adjustment,
            adjustment_value=value,
            conditions=cond,
            priority=i,
        )
    client.cookies["django_language"] = language
    headers = {"HTTP_ACCEPT_LANGUAGE": language}

    page = client.get(property_url(home.slug, check_in, check_out, guests), **headers)
    assert page.status_code == 200
    lines, total = breakdown(page.content.decode(), language)
    assert sum(lines) == total, ("property page", lines, total)

    checkout = client.get(checkout_url(home.slug, check_in, check_out, guests), **headers)
    assert checkout.status_code == 200
    assert breakdown(checkout.content.decode(), language) == (lines, total), "checkout"

    booking = booking_services.booking_create(
        property_id=home.pk,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        status=BookingStatus.CONFIRMED,
        payment_status="paid",
        guest=booking_services.GuestData(
            first_name="Ana", last_name="Silva", email="ana@example.com", language=language
        ),
    )
    assert booking.total_price == total
    # the ledger's stay lines (rent per night, adjustments, fees, taxes) add up to the same total
    assert stay_charges(booking) == total, "ledger"
    email_language = booking.guest.language  # an existing guest keeps the language they booked in first
    confirmation = client.get(tokens.confirmation_path(reference=booking.reference), **headers)
    assert confirmation.status_code == 200
    assert breakdown(confirmation.content.decode(), language) == (lines, total), "confirmation"

    mail.outbox.clear()
    send_booking_confirmation(booking_id=booking.pk)
    message = mail.outbox[-1]
    html = message.alternatives[0][0]
    amounts = [money(a, email_language) for a in re.findall(r'<td align="right"[^>]*>(.*?)</td>', html)]
    assert amounts[:-1] == lines and amounts[-1] == total, ("e-mail (HTML)", amounts)
    text_amounts = [
        money(line.rsplit(": ", 1)[1], email_language)
        for line in message.body.splitlines()
        if re.search(r": −?\D{0,4}[\d.,]+\D{0,4}$", line) and any(c in line for c in "€¥F")
    ]
    assert text_amounts[:-1] == lines and text_amounts[-1] == total, ("e-mail (text)", text_amounts)

"""Reads for the guest pages and guest e-mails (no writes here)."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.bookings.models import Booking, BookingStatus
from apps.bookings.presentation import (  # noqa: F401 - the guest pages read them from here too
    StayTimes,
    line_label,
    price_lines,
    stay_times,
    stay_times_utc,
)
from apps.properties.models import Property, PropertyPhoto

from .models import Review

#: Amenities guests read in their language (unknown codes: "hot_tub" -> "Hot tub").
AMENITY_LABELS = {
    "wifi": lambda: _("Wi-Fi"),
    "kitchen": lambda: _("Kitchen"),
    "washer": lambda: _("Washing machine"),
    "balcony": lambda: _("Balcony"),
    "terrace": lambda: _("Terrace"),
    "garden": lambda: _("Garden"),
    "parking": lambda: _("Parking"),
    "elevator": lambda: _("Lift"),
    "crib": lambda: _("Cot"),
    "air_conditioning": lambda: _("Air conditioning"),
    "sauna": lambda: _("Sauna"),
    "pool": lambda: _("Pool"),
    "fireplace": lambda: _("Fireplace"),
    "canoe": lambda: _("Canoe"),
}


def amenity_label(code: str) -> str:
    make = AMENITY_LABELS.get(str(code))
    return make() if make else str(code).replace("_", " ").capitalize()


#: Guest-facing messages for stay-check reason codes (the service's English message is the fallback).
_REASON_MESSAGES = {
    "over_capacity": lambda r: _("This home sleeps at most %(n)s guests.") % {"n": r.get("max_guests", "?")},
    "min_stay": lambda r: _("The minimum stay for these dates is %(n)s nights.") % {"n": r.get("min_stay", "?")},
    "max_stay": lambda r: _("The maximum stay for these dates is %(n)s nights.") % {"n": r.get("max_stay", "?")},
    "too_short_notice": lambda r: _notice_message(r),
    "beyond_max_advance": lambda r: (
        _("Stays can be booked at most %(n)s days ahead.") % {"n": r.get("max_advance_days", "?")}
    ),
    "booked": lambda r: _("Some of these nights are already booked."),
    "blocked": lambda r: _("Some of these nights are not available."),
    "closed_to_arrival": lambda r: _("Arrival is not possible on the chosen check-in day."),
    "closed_to_departure": lambda r: _("Departure is not possible on the chosen check-out day."),
}


def _notice_message(reason: dict[str, Any]) -> str:
    """Say how much notice this home needs (the stay check only says that it is too little)."""
    hours = reason.get("min_notice_hours")
    if str(reason.get("message", "")).endswith("in the past."):
        return _("This stay starts in the past.")
    if not isinstance(hours, int) or hours <= 0:
        return _("This stay starts too soon to be booked online.")
    if hours % 24 == 0:
        days = hours // 24
        needed = ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    else:
        needed = ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
    return _("This stay starts too soon: this home must be booked at least %(time)s before check-in.") % {
        "time": needed
    }


def property_public_get(*, slug: str) -> Property | None:
    """An active property by slug (what guests may see), or None."""
    return Property.objects.bookable().filter(slug=slug).first()


def first_photos(*, property_ids: list[int]) -> dict[int, PropertyPhoto]:
    """The first photo of each property, in one query."""
    photos: dict[int, PropertyPhoto] = {}
    for photo in PropertyPhoto.objects.filter(property_id__in=property_ids).order_by("property_id", "position", "id"):
        photos.setdefault(photo.property_id, photo)
    return photos


def amenity_choices() -> list[str]:
    """Every amenity offered by some active property, sorted."""
    seen: set[str] = set()
    for values in Property.objects.bookable().values_list("amenities", flat=True):
        seen.update(v for v in values or [] if v)
    return sorted(seen)


def reviews_for(*, prop: Property, limit: int = 20) -> tuple[list[Review], dict[str, Any]]:
    qs = Review.objects.filter(booking__property=prop).select_related("booking__guest")
    stats = qs.aggregate(avg=Avg("rating"), count=Count("id"))
    return list(qs.order_by("-created_at")[:limit]), stats


def _spans(reason: dict[str, Any]) -> str:
    from django.utils.formats import date_format

    out = []
    for span in reason.get("dates") or []:
        try:
            start, end = date.fromisoformat(span[0]), date.fromisoformat(span[1])
        except (TypeError, ValueError, IndexError):
            continue
        out.append(date_format(start, _("j M")) + " – " + date_format(end, _("j M Y")))
    return ", ".join(out)


def reason_message(reason: dict[str, Any]) -> str:
    code = reason.get("code", "")
    spans = _spans(reason) if code in ("booked", "blocked") else ""
    if spans and code == "booked":
        return _("Already booked: %(dates)s.") % {"dates": spans}
    if spans:
        return _("Not available: %(dates)s.") % {"dates": spans}
    make = _REASON_MESSAGES.get(code)
    return make(reason) if make else str(reason.get("message", ""))


def refunds_given(*, booking: Booking) -> list[dict[str, Any]]:
    """Refunds of this booking as the guest sees them (amount, whether the money is on its way or
    back already, when), newest last; failed attempts are not shown."""
    from apps.payments.selectors import refunds_for_booking

    return [
        {"amount": r.amount, "currency": r.currency, "done": r.status == "succeeded", "at": r.created_at}
        for r in refunds_for_booking(booking=booking)
        if r.status != "failed" and r.amount > 0
    ]


def local_today(*, prop: Property, now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), prop.tz).date()


def review_allowed(*, booking: Booking, now: datetime | None = None) -> bool:
    """Reviews open after check-out: a checked-out booking, or a stay whose check-out day has come."""
    if booking.status == BookingStatus.CHECKED_OUT:
        return True
    if booking.status in (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN):
        return booking.check_out <= local_today(prop=booking.property, now=now)
    return False


def month_start(value: date) -> date:
    return value.replace(day=1)


def add_months(value: date, months: int) -> date:
    month = value.month - 1 + months
    year = value.year + month // 12
    month = month % 12 + 1
    day = min(value.day, pycalendar.monthrange(year, month)[1])
    return date(year, month, day)


def month_grid(*, first: date, days: dict[date, Any]) -> list[list[tuple[date, Any] | None]]:
    """Weeks (Monday first) of one month; each cell is (date, day info) or None for padding."""
    weeks: list[list[tuple[date, Any] | None]] = []
    week: list[tuple[date, Any] | None] = [None] * first.weekday()
    d = first
    while d.month == first.month:
        week.append((d, days.get(d)))
        if len(week) == 7:
            weeks.append(week)
            week = []
        d += timedelta(days=1)
    if week:
        week += [None] * (7 - len(week))
        weeks.append(week)
    return weeks


def last_departure(*, days: dict[date, Any], check_in: date, limit: int = 366) -> date | None:
    """The latest day a stay arriving on ``check_in`` can end: the first day, after the arrival day,
    whose night is not free (another stay's arrival day can be a departure day), or the first day
    past the calendar shown. None if the arrival night itself is taken."""
    first = days.get(check_in)
    if first is None or first.status != "available":
        return None
    d = check_in + timedelta(days=1)
    for _i in range(limit):
        info = days.get(d)
        if info is None or info.status != "available":  # beyond the calendar shown, or taken
            return d
        d += timedelta(days=1)
    return d


def nearest_alternatives(
    *, prop: Property, check_in: date, check_out: date, guests: int, window_days: int = 45, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The nearest bookable stays of the same length starting before and after ``check_in``.

    One calendar read over the window finds candidates; each candidate is then confirmed with
    ``stay_check`` (which also applies notice, advance and pricing rules). At most one before and
    one after, nearest first.
    """
    from apps.availability.selectors import calendar_days, stay_check

    nights = (check_out - check_in).days
    if nights < 1:
        return []
    today = local_today(prop=prop, now=now)
    start = max(today, check_in - timedelta(days=window_days))
    end = check_out + timedelta(days=window_days + 1)
    days = {d.date: d for d in calendar_days(prop=prop, start=start, end=end)}

    def candidate(s: date) -> bool:
        e = s + timedelta(days=nights)
        first, last = days.get(s), days.get(e)
        if first is None or first.closed_to_arrival or not first.min_stay <= nights <= first.max_stay:
            return False
        if last is not None and last.closed_to_departure:
            return False
        return all(
            days.get(s + timedelta(days=i)) is not None and days[s + timedelta(days=i)].available for i in range(nights)
        )

    found: dict[str, dict[str, Any]] = {}
    checks = 0
    for offset in range(1, window_days + 1):
        for direction, s in (
            ("before", check_in - timedelta(days=offset)),
            ("after", check_in + timedelta(days=offset)),
        ):
            if direction in found or s < start or not candidate(s):
                continue
            checks += 1
            e = s + timedelta(days=nights)
            result = stay_check(prop=prop, check_in=s, check_out=e, guests=guests, now=now)
            if result.bookable and result.quote is not None:
                found[direction] = {
                    "check_in": s,
                    "check_out": e,
                    "nights": nights,
                    "total": result.quote.total,
                    "currency": result.quote.currency,
                    "query": f"check_in={s.isoformat()}&check_out={e.isoformat()}&guests={guests}",
                }
        if len(found) == 2 or checks >= 8:
            break
    return sorted(found.values(), key=lambda a: abs((a["check_in"] - check_in).days))


def cancellation_policy(
    *, prop: Property, check_in: date | None = None, booked_at: datetime | None = None
) -> dict[str, Any]:
    """The property's cancellation policy as guests read it before booking (and its dated deadlines
    for a given stay, in the property's time zone)."""
    from apps.bookings import policies

    code = prop.cancellation_policy
    try:
        text = policies.describe(code)
    except ValueError:
        return {"code": code, "text": "", "deadlines": []}
    deadlines: list[str] = []
    if check_in is not None:
        starts_at = policies.check_in_at(check_in=check_in, check_in_time=prop.check_in_time, tz=prop.tz)
        deadlines = policies.describe_for_stay(
            policy=code, starts_at=starts_at, booked_at=booked_at or timezone.now(), tz=prop.tz
        )
    return {"code": code, "text": text, "deadlines": deadlines}


def booking_ics(*, booking: Booking, url: str) -> bytes:
    """An iCalendar file with the stay (check-in to check-out, at the property's times)."""
    import icalendar

    prop = booking.property
    start, end = stay_times_utc(prop=prop, check_in=booking.check_in, check_out=booking.check_out)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//PMS-Webapp//Guest booking//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"{booking.reference}@pms-webapp")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"{prop.name} ({booking.reference})")
    address = prop.address or {}
    location = ", ".join(
        str(x) for x in (address.get("street"), address.get("postal_code"), prop.city, prop.country) if x
    )
    event.add("location", location)
    event.add("description", f"{booking.reference}\n{url}")
    event.add("url", url)
    cal.add_component(event)
    return cal.to_ical()

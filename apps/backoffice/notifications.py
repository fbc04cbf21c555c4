"""Notifications to owners: a new, changed or cancelled booking from any source, a refused channel
reservation, an update a channel never got (dead letter), other channel alerts, and a daily digest of
tomorrow's arrivals and departures; in the owner's language (their preferences), listed in the admin and
e-mailed.

How they travel:
- booking events: ``handle_event`` is an outbox handler (``OUTBOX_HANDLERS``); it runs in the relay's
  transaction and only writes the notification row (unique per owner and outbox event, so a replayed
  event notifies nobody twice);
- channel alerts: ``alerts_collect`` (beat) turns every unresolved alert of the last days that has no
  notification yet into one (unique per owner and alert);
- the digest: ``digest_create`` (beat, daily) writes one per owner and day;
- e-mail: ``notifications_send`` (beat, every 20 s) claims each pending row by a conditional update and
  sends it, so two workers never send the same one; an owner who does not want that kind, or has no
  e-mail address, gets the row in the admin only.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import NotificationPreference, OwnerNotification

logger = logging.getLogger(__name__)

Kind = OwnerNotification.Kind
PAID_STATES = ("confirmed", "checked_in", "checked_out")
STAY_FIELDS = {"check_in", "check_out", "guests"}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        Kind.BOOKING_NEW: "New booking {reference}: {property}, {check_in} to {check_out}",
        Kind.BOOKING_CHANGED: "Booking {reference} changed: {property}, now {check_in} to {check_out}",
        Kind.BOOKING_CANCELLED: "Booking {reference} cancelled: {property}, {check_in} to {check_out}",
        Kind.CHANNEL_REFUSED: "A {channel} reservation for {property} was refused",
        Kind.DEAD_LETTER: "{channel} did not get an update for {property}",
        Kind.CHANNEL_ALERT: "Channel alert for {property}",
        Kind.DIGEST: "Tomorrow, {day}: {arrivals} arrival(s), {departures} departure(s)",
        Kind.BREAKER_OPEN: "{channel} keeps failing: updates are paused and retried shortly",
        Kind.PAYMENT_FAILED: "Payment failed for booking {reference}: {property}",
        "breaker_body": (
            "Our calls to {channel} failed {failures} times in a row, so we pause them and try again shortly. "
            "Nothing is lost: the updates wait in the queue.\n\nSync health: {url}\n"
        ),
        "payment_body": "The guest's payment for {reference} ({check_in} to {check_out}) failed.\n\nOpen it: {url}\n",
        "booking_body": (
            "{what}\n\nReference: {reference}\nProperty: {property}\nFrom: {source}\nStay: {check_in} to "
            "{check_out} ({nights} night(s)), {guests} guest(s)\nGuest: {guest}\nTotal: {total} {currency}\n\n"
            "Open it: {url}\n"
        ),
        "alert_body": "{message}\n\nSee the sync health page: {url}\n",
        "digest_arrivals": "Arrivals",
        "digest_departures": "Departures",
        "digest_none": "none",
        "digest_body": "{arrivals_title}:\n{arrivals}\n\n{departures_title}:\n{departures}\n\nCalendar: {url}\n",
        "footer": "\n--\nPMS-Webapp back office. Change which e-mails you get: {prefs}\n",
    },
    "de": {
        Kind.BOOKING_NEW: "Neue Buchung {reference}: {property}, {check_in} bis {check_out}",
        Kind.BOOKING_CHANGED: "Buchung {reference} geändert: {property}, jetzt {check_in} bis {check_out}",
        Kind.BOOKING_CANCELLED: "Buchung {reference} storniert: {property}, {check_in} bis {check_out}",
        Kind.CHANNEL_REFUSED: "Eine Reservierung über {channel} für {property} wurde abgelehnt",
        Kind.DEAD_LETTER: "{channel} hat eine Aktualisierung für {property} nicht erhalten",
        Kind.CHANNEL_ALERT: "Kanal-Warnung für {property}",
        Kind.DIGEST: "Morgen, {day}: {arrivals} Anreise(n), {departures} Abreise(n)",
        Kind.BREAKER_OPEN: "{channel} schlägt wiederholt fehl: Aktualisierungen pausieren und werden gleich wiederholt",
        Kind.PAYMENT_FAILED: "Zahlung für Buchung {reference} fehlgeschlagen: {property}",
        "breaker_body": (
            "Unsere Aufrufe bei {channel} sind {failures}-mal hintereinander fehlgeschlagen; wir pausieren sie und "
            "versuchen es gleich wieder. Nichts geht verloren: die Aktualisierungen warten in der Warteschlange."
            "\n\nSynchronisations-Übersicht: {url}\n"
        ),
        "payment_body": (
            "Die Zahlung des Gastes für {reference} ({check_in} bis {check_out}) ist fehlgeschlagen.\n\nÖffnen: {url}\n"
        ),
        "booking_body": (
            "{what}\n\nBuchungsnummer: {reference}\nUnterkunft: {property}\nÜber: {source}\nAufenthalt: "
            "{check_in} bis {check_out} ({nights} Nacht/Nächte), {guests} Gast/Gäste\nGast: {guest}\n"
            "Gesamt: {total} {currency}\n\nÖffnen: {url}\n"
        ),
        "alert_body": "{message}\n\nZur Synchronisations-Übersicht: {url}\n",
        "digest_arrivals": "Anreisen",
        "digest_departures": "Abreisen",
        "digest_none": "keine",
        "digest_body": "{arrivals_title}:\n{arrivals}\n\n{departures_title}:\n{departures}\n\nKalender: {url}\n",
        "footer": "\n--\nPMS-Webapp Backoffice. Welche E-Mails Sie erhalten, stellen Sie hier ein: {prefs}\n",
    },
}


def _lang(user: Any) -> str:
    pref = NotificationPreference.objects.filter(user=user).values_list("language", flat=True).first()
    return pref if pref in TEXTS else "en"


def _url(name: str, *args: Any) -> str:
    from django.urls import reverse

    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def _create(*, recipient: Any, dedupe_key: str, **fields: Any) -> OwnerNotification | None:
    """The notification, once per recipient and cause (None when it already exists)."""
    if OwnerNotification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():
            return OwnerNotification.objects.create(recipient=recipient, dedupe_key=dedupe_key, **fields)
    except IntegrityError:  # created concurrently
        return None


# --- booking events (outbox handler) --------------------------------------------------------------


def booking_kind(event: Any) -> str | None:
    """Which owner notification a booking event calls for, if any."""
    payload = event.payload or {}
    status, previous = payload.get("status"), payload.get("previous_status")
    if not payload.get("booking_id"):
        return None
    if event.event_type == "booking.created":
        return Kind.BOOKING_NEW if status in PAID_STATES else None  # a checkout's hold is not a booking yet
    if event.event_type == "booking.updated":
        if status == "confirmed" and previous in ("reserved", "inquiry"):
            return Kind.BOOKING_NEW
        if STAY_FIELDS & set(payload.get("changed") or ()) and status != "cancelled":
            return Kind.BOOKING_CHANGED
        return None
    if event.event_type == "booking.cancelled" and previous in PAID_STATES:
        return Kind.BOOKING_CANCELLED
    return None


def _booking_text(kind: str, booking: Any, lang: str) -> tuple[str, str]:
    texts = TEXTS[lang]
    contact = booking.guest_contact or {}
    guest = (
        booking.guest.full_name if booking.guest else f"{contact.get('first_name', '')} {contact.get('last_name', '')}"
    )
    values = {
        "reference": booking.reference,
        "property": booking.property.name,
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "nights": booking.nights,
        "guests": booking.guests,
        "guest": guest.strip() or "–",
        "source": booking.get_source_display(),
        "total": booking.total_price,
        "currency": booking.currency,
        "url": _url("admin:bookings_booking_change", booking.pk),
    }
    subject = texts[kind].format(**values)
    body = texts["booking_body"].format(what=subject, **values) + texts["footer"].format(
        prefs=_url("admin:backoffice_notifications")
    )
    return subject, body


def handle_event(event: Any) -> None:
    """Outbox handler: write the owner's notification of a booking event (no I/O here).

    It never fails the dispatch: the same relay transaction delivers the event to the channels, and a
    notification is not worth holding a calendar push back. An error rolls back its own savepoint and is
    logged (the owner still sees the booking on the dashboard and the calendar)."""
    kind = booking_kind(event)
    if kind is None:
        return
    try:
        with transaction.atomic():
            _notify_booking(event, kind)
    except Exception:
        logger.exception("owner notification for event %s not written", event.pk)


def _notify_booking(event: Any, kind: str) -> None:
    from apps.bookings.models import Booking

    booking = Booking.objects.select_related("property__owner", "guest").filter(pk=event.payload["booking_id"]).first()
    if booking is None:
        return
    owner = booking.property.owner
    lang = _lang(owner)
    subject, body = _booking_text(kind, booking, lang)
    _create(
        recipient=owner,
        dedupe_key=f"event:{event.pk}",
        property=booking.property,
        booking=booking,
        kind=kind,
        language=lang,
        subject=subject[:250],
        body=body,
    )


# --- channel alerts (beat) ------------------------------------------------------------------------

ALERT_KINDS = {"conflict": Kind.CHANNEL_REFUSED, "dead_letter": Kind.DEAD_LETTER}


def alerts_collect(*, days: int = 3, now: Any = None) -> int:
    """One notification per unresolved channel alert of the last ``days`` days for its property's
    owner (alerts with no property are the staff's, in the admin). Returns how many were created."""
    from apps.channels.models import ChannelAlert

    now = now or timezone.now()
    made = 0
    alerts = (
        ChannelAlert.objects.filter(created_at__gte=now - timedelta(days=days), property__isnull=False)
        .select_related("property__owner", "connection")
        .order_by("id")
    )
    known = set(
        OwnerNotification.objects.filter(dedupe_key__in=[f"alert:{a.pk}" for a in alerts]).values_list(
            "dedupe_key", flat=True
        )
    )
    for alert in alerts:
        if f"alert:{alert.pk}" in known:
            continue
        owner = alert.property.owner
        lang = _lang(owner)
        kind = ALERT_KINDS.get(alert.kind, Kind.CHANNEL_ALERT)
        channel = alert.connection.get_platform_display() if alert.connection else "–"
        subject = TEXTS[lang][kind].format(channel=channel, property=alert.property.name)
        body = TEXTS[lang]["alert_body"].format(
            message=alert.message, url=_url("admin:backoffice_sync_health")
        ) + TEXTS[lang]["footer"].format(prefs=_url("admin:backoffice_notifications"))
        if _create(
            recipient=owner,
            dedupe_key=f"alert:{alert.pk}",
            property=alert.property,
            kind=kind,
            language=lang,
            subject=subject[:250],
            body=body,
        ):
            made += 1
    return made


def breakers_collect() -> int:
    """An open circuit breaker of a platform: one notification per owner with a connection to it, per
    opening (keyed by the moment it opened). Redis down: nothing to tell (the sync health page says so)."""
    import redis

    from apps.channels import breaker
    from apps.channels.models import ChannelConnection

    made = 0
    conns = list(
        ChannelConnection.objects.filter(sync_enabled=True).exclude(platform="ical").select_related("property__owner")
    )
    states: dict[str, Any] = {}
    for conn in conns:
        if conn.platform not in states:
            try:
                states[conn.platform] = breaker.state(conn.platform)
            except (redis.RedisError, OSError):
                states[conn.platform] = None
        state = states[conn.platform]
        if state is None or state.opened_at is None:
            continue
        owner = conn.property.owner
        lang = _lang(owner)
        channel = conn.get_platform_display()
        subject = TEXTS[lang][Kind.BREAKER_OPEN].format(channel=channel)
        body = TEXTS[lang]["breaker_body"].format(
            channel=channel, failures=state.failures, url=_url("admin:backoffice_sync_health")
        ) + TEXTS[lang]["footer"].format(prefs=_url("admin:backoffice_notifications"))
        if _create(
            recipient=owner,
            dedupe_key=f"breaker:{conn.platform}:{int(state.opened_at)}",
            property=conn.property,
            kind=Kind.BREAKER_OPEN,
            language=lang,
            subject=subject[:250],
            body=body,
        ):
            made += 1
    return made


def payments_collect(*, days: int = 3, now: Any = None) -> int:
    """A booking whose payment failed (changed in the last ``days`` days): one notification to its owner."""
    from apps.bookings.models import Booking, BookingStatus, PaymentStatus

    now = now or timezone.now()
    made = 0
    for booking in (
        Booking.objects.filter(payment_status=PaymentStatus.FAILED, updated_at__gte=now - timedelta(days=days))
        .exclude(status=BookingStatus.CANCELLED)
        .select_related("property__owner")
    ):
        owner = booking.property.owner
        lang = _lang(owner)
        values = {
            "reference": booking.reference,
            "property": booking.property.name,
            "check_in": booking.check_in.isoformat(),
            "check_out": booking.check_out.isoformat(),
            "url": _url("admin:bookings_booking_change", booking.pk),
        }
        body = TEXTS[lang]["payment_body"].format(**values) + TEXTS[lang]["footer"].format(
            prefs=_url("admin:backoffice_notifications")
        )
        if _create(
            recipient=owner,
            dedupe_key=f"payment_failed:{booking.pk}",
            property=booking.property,
            booking=booking,
            kind=Kind.PAYMENT_FAILED,
            language=lang,
            subject=TEXTS[lang][Kind.PAYMENT_FAILED].format(**values)[:250],
            body=body,
        ):
            made += 1
    return made


# --- daily digest (beat) --------------------------------------------------------------------------


def digest_create(*, day: date | None = None) -> int:
    """Each owner with an arrival or departure on ``day`` (default tomorrow) gets one digest."""
    from apps.bookings.models import Booking, BookingStatus

    day = day or timezone.localdate() + timedelta(days=1)
    active = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN, BookingStatus.RESERVED)
    moves: dict[int, dict[str, list[Any]]] = {}
    owners: dict[int, Any] = {}
    for b in (
        Booking.objects.filter(status__in=active)
        .filter(Q(check_in=day) | Q(check_out=day))
        .select_related("property__owner", "guest")
        .order_by("property__name", "check_in")
    ):
        owners[b.property.owner_id] = b.property.owner
        entry = moves.setdefault(b.property.owner_id, {"arrivals": [], "departures": []})
        entry["arrivals" if b.check_in == day else "departures"].append(b)
    made = 0
    for owner_id, entry in moves.items():
        owner = owners[owner_id]
        lang = _lang(owner)
        t = TEXTS[lang]

        def lines(items: list[Any], t: dict[str, str] = t) -> str:
            if not items:
                return "  " + t["digest_none"]
            return "\n".join(
                f"  {b.property.name}: {(b.guest.full_name if b.guest else '') or b.reference} "
                f"({b.reference}, {b.guests}, {b.check_in.isoformat()} – {b.check_out.isoformat()})"
                for b in items
            )

        subject = t[Kind.DIGEST].format(
            day=day.isoformat(), arrivals=len(entry["arrivals"]), departures=len(entry["departures"])
        )
        body = t["digest_body"].format(
            arrivals_title=t["digest_arrivals"],
            arrivals=lines(entry["arrivals"]),
            departures_title=t["digest_departures"],
            departures=lines(entry["departures"]),
            url=_url("admin:backoffice_calendar"),
        ) + t["footer"].format(prefs=_url("admin:backoffice_notifications"))
        if _create(
            recipient=owner,
            dedupe_key=f"digest:{day.isoformat()}",
            kind=Kind.DIGEST,
            language=lang,
            subject=subject[:250],
            body=body,
        ):
            made += 1
    return made


# --- e-mail (beat) --------------------------------------------------------------------------------

WANTS = {
    Kind.BOOKING_NEW: "email_bookings",
    Kind.BOOKING_CHANGED: "email_bookings",
    Kind.BOOKING_CANCELLED: "email_bookings",
    Kind.CHANNEL_REFUSED: "email_channel_problems",
    Kind.DEAD_LETTER: "email_channel_problems",
    Kind.CHANNEL_ALERT: "email_channel_problems",
    Kind.BREAKER_OPEN: "email_channel_problems",
    Kind.PAYMENT_FAILED: "email_bookings",
    Kind.DIGEST: "email_daily_digest",
}
MAX_EMAIL_ATTEMPTS = 5
STALE_CLAIM = timedelta(minutes=10)


def notifications_send(*, limit: int = 200, now: Any = None) -> int:
    """E-mail pending notifications; each row is claimed (pending/failed -> sending) before it is
    sent, so it is sent at most once however many workers run this. Returns how many were sent."""
    now = now or timezone.now()
    status = OwnerNotification.EmailStatus
    # "sending" for longer than STALE_CLAIM: the worker died between its claim and the send; take it over
    claimable = Q(email_status__in=[status.PENDING, status.FAILED]) | Q(
        email_status=status.SENDING, emailed_at__lt=now - STALE_CLAIM
    )
    ids = list(
        OwnerNotification.objects.filter(claimable, email_attempts__lt=MAX_EMAIL_ATTEMPTS)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in ids:
        claimed = (
            OwnerNotification.objects.filter(claimable, pk=pk)
            .filter(email_attempts__lt=MAX_EMAIL_ATTEMPTS)
            .update(email_status=status.SENDING, email_attempts=F("email_attempts") + 1, emailed_at=now)
        )
        if claimed != 1:
            continue
        note = OwnerNotification.objects.select_related("recipient").get(pk=pk)
        pref = NotificationPreference.objects.filter(user=note.recipient).first()
        wanted = getattr(pref, WANTS.get(note.kind, "email_bookings"), True) if pref else True
        if not wanted or not note.recipient.email:
            OwnerNotification.objects.filter(pk=pk).update(email_status=status.SKIPPED)
            continue
        try:
            send_mail(note.subject, note.body, None, [note.recipient.email])
        except Exception as exc:  # SMTP down: try again on the next run (bounded)
            logger.warning("owner notification %s not sent: %s", pk, exc)
            OwnerNotification.objects.filter(pk=pk).update(email_status=status.FAILED, email_error=str(exc)[:500])
            continue
        OwnerNotification.objects.filter(pk=pk).update(email_status=status.SENT, emailed_at=now)
        sent += 1
    return sent

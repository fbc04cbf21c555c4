"""Google Vacation Rentals adapter: push-only ARI (see PLATFORMS.md section 5; paths [INFERRED]).

One push of [start, end) sends, in this order, each as its own message:

1. ``Transaction`` property data (``PropertyDataSet``: ``RoomData`` with ``RoomID`` = the hotel id, as
   Google wants for vacation rentals, name and ``Capacity``; ``PackageData``) -> ``property_data``;
2. ``TaxFeeInfo`` (overlay: cleaning fee, extra-guest fees, percentage and per-person taxes) -> ``taxes``;
3. ``Promotions`` (overlay: length-of-stay and last-minute rules, in our priority order) -> ``promotions``;
4. per calendar month: ``OTA_HotelInvCountNotifRQ`` (1 or 0 units), ``OTA_HotelAvailNotifRQ``
   (``BookingLimit``, ``LengthsOfStay`` SetMinLOS/SetMaxLOS, ``RestrictionStatus`` Master/Arrival/
   Departure, advance-booking offsets) and ``OTA_HotelRateAmountNotifRQ`` (``BaseByGuestAmts`` per guest
   count with ``AmountBeforeTax``, ``NotifType="Overlay"``) -> ``ota/hotel_*_notif``.

A short push (under ``FULL_PUSH_DAYS``: a booking, a block) leaves out 1.–3. when Google acknowledged the
same content within ``DIGEST_SECONDS``; a long one (sync now, a price change, reconciliation) always sends
them. ``InvTypeCode`` equals ``HotelCode`` (the listing id). Every message carries a unique id (``EchoToken``
or ``id``) and a timestamp. **Ordering**: the pushes of one connection are serialised by a Redis lock,
each takes a timestamp strictly later than the connection's previous one, and the core's state is read
*after* taking it, so whatever message Google holds last (it applies messages in timestamp order) carries
state at least as new as its timestamp: a stalled or retried push can never overwrite newer prices with
older ones, and nothing is sent with a timestamp older than 24 hours (a push that took that long is
re-stamped and re-read). A retry re-reads the core and sends new messages; Google answers a replayed id
with its first answer. **Limit**: at most 400 messages/s per partner account (Redis token bucket).

Auth: Google identifies the sender by its source address (allowlist in Hotel Center) and the partner
key in ``POS/Source/RequestorID/@ID``; there is no token. Errors: HTTP 401/403 -> auth, 429 ->
rate-limited, 5xx -> retryable; ``Errors/Error`` codes ``MESSAGE_TOO_OLD`` / ``TRY_AGAIN`` -> retryable,
``NOT_AUTHORIZED`` -> auth, anything else (unknown hotel, invalid value) -> permanent.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 (building only)

import redis
from django.utils import timezone

from .base import AdapterError, ChannelAdapter, DayState, ErrorKind, PushResult, error_for_status
from .booking_com import OTA_NS, month_chunks, ota_errors, parse_xml, runs

logger = logging.getLogger(__name__)

MESSAGES_PER_SECOND = 400  # Google's documented limit per partner account
MAX_MESSAGE_AGE = timedelta(hours=24)
LOCK_SECONDS = 60
FULL_PUSH_DAYS = 28  # a push this long always re-sends the property-level messages
DIGEST_SECONDS = 6 * 3600  # and a short push re-sends them at least this often
AUTH_CODES = {"NOT_AUTHORIZED"}
RETRYABLE_CODES = {"MESSAGE_TOO_OLD", "TRY_AGAIN"}

PATHS = {
    "Transaction": "travel/hotels/uploads/property_data",
    "TaxFeeInfo": "travel/hotels/uploads/taxes",
    "Promotions": "travel/hotels/uploads/promotions",
    "OTA_HotelInvCountNotifRQ": "travel/hotels/uploads/ota/hotel_inv_count_notif",
    "OTA_HotelAvailNotifRQ": "travel/hotels/uploads/ota/hotel_avail_notif",
    "OTA_HotelRateAmountNotifRQ": "travel/hotels/uploads/ota/hotel_rate_amount_notif",
}

# KEYS[1] last timestamp (µs) of the connection; ARGV[1] now (µs). Returns max(now, last + 1).
_NEXT_STAMP = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local ts = now
if ts <= last then ts = last + 1 end
redis.call('SET', KEYS[1], string.format('%.0f', ts), 'EX', 172800)
return string.format('%.0f', ts)
"""


def _money(value: Decimal) -> str:
    return f"{Decimal(value):f}"


def _xml(el: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(el, encoding="utf-8")


def _stamp(ts: datetime) -> str:
    return ts.isoformat(timespec="microseconds")


class Messages:
    """Builds the messages of one push; ``ts`` and a per-push id prefix make every id unique."""

    def __init__(self, *, state, ts: datetime, push_id: str) -> None:
        self.state = state
        self.ts = ts
        self.push_id = push_id
        self.seq = 0

    def _id(self) -> str:
        self.seq += 1
        return f"{self.push_id}-{self.seq}"

    def _ota(self, tag: str, **attrs: str) -> Element:
        root = Element(
            tag,
            {"xmlns": OTA_NS, "TimeStamp": _stamp(self.ts), "EchoToken": self._id(), "Version": "3.0", **attrs},
        )
        source = SubElement(SubElement(root, "POS"), "Source")
        SubElement(source, "RequestorID", ID=self.state.partner)
        return root

    def _google(self, tag: str) -> Element:
        return Element(tag, timestamp=_stamp(self.ts), id=self._id(), partner=self.state.partner)

    # -- property level --------------------------------------------------------------------------
    def transaction(self) -> bytes:
        s = self.state
        root = self._google("Transaction")
        data = SubElement(root, "PropertyDataSet", action="overlay")
        SubElement(data, "Property").text = s.hotel_id
        room = SubElement(data, "RoomData")
        SubElement(room, "RoomID").text = s.hotel_id
        SubElement(SubElement(room, "Name"), "Text", text=s.name[:300], language="en")
        SubElement(room, "Capacity").text = str(s.capacity)
        package = SubElement(data, "PackageData")
        SubElement(package, "PackageID").text = s.hotel_id
        SubElement(SubElement(package, "Name"), "Text", text="Direct booking", language="en")
        SubElement(package, "Occupancy").text = str(s.capacity)
        SubElement(data, "Timezone").text = s.timezone  # [INFERRED] Google derives it from the location
        return _xml(root)

    def _charge(self, parent: Element, tag: str, item: dict) -> None:
        el = SubElement(parent, tag, id=item["id"])
        SubElement(el, "Type").text = item["type"]
        SubElement(el, "Basis").text = item["basis"]
        SubElement(el, "Period").text = item["period"]
        SubElement(el, "Amount").text = _money(item["amount"])
        if item["type"] == "amount":
            SubElement(el, "Currency").text = self.state.currency
        if item.get("guests_above") is not None:
            SubElement(el, "GuestsAbove").text = str(item["guests_above"])  # [INFERRED] extra-guest fees

    def tax_fee_info(self) -> bytes:
        s = self.state
        root = self._google("TaxFeeInfo")
        prop = SubElement(root, "Property", action="overlay")
        SubElement(prop, "ID").text = s.hotel_id
        taxes = SubElement(prop, "Taxes")
        for item in s.taxes:
            self._charge(taxes, "Tax", item)
        fees = SubElement(prop, "Fees")
        for item in s.fees:
            self._charge(fees, "Fee", item)
        return _xml(root)

    def promotions(self) -> bytes:
        s = self.state
        root = self._google("Promotions")
        hotel = SubElement(root, "HotelPromotions", hotel_id=s.hotel_id, action="overlay")
        for order, promo in enumerate(s.promotions, start=1):
            el = SubElement(hotel, "Promotion", id=promo["id"], order=str(order))
            if promo["kind"] == "length_of_stay":
                SubElement(el, "LengthOfStay", min=str(promo["min_nights"]))
            else:
                SubElement(el, "BookingWindow", min="0", max=str(promo["max_days_before"]))
            discount = -Decimal(promo["value"])  # Google's Discount is positive for a discount
            if promo["adjustment"] == "percentage":
                SubElement(el, "Discount", percentage=_money(discount))
            else:
                SubElement(el, "Discount", fixed_amount=_money(discount), applied_nights="stay")
        return _xml(root)

    # -- nightly ---------------------------------------------------------------------------------
    def _control(self, parent: Element, start: date, end: date, **extra: str) -> None:
        hotel = self.state.hotel_id
        SubElement(
            parent,
            "StatusApplicationControl",
            Start=start.isoformat(),
            End=end.isoformat(),
            InvTypeCode=hotel,
            **extra,
        )

    def inv_count(self, days: list[DayState]) -> bytes:
        root = self._ota("OTA_HotelInvCountNotifRQ")
        inventories = SubElement(root, "Inventories", HotelCode=self.state.hotel_id)
        for start, end, d in runs(days, key=lambda d: d.available):
            inv = SubElement(inventories, "Inventory")
            self._control(inv, start, end)
            SubElement(SubElement(inv, "InvCounts"), "InvCount", Count="1" if d.available else "0", CountType="2")
        return _xml(root)

    def avail(self, days: list[DayState]) -> bytes:
        s = self.state
        root = self._ota("OTA_HotelAvailNotifRQ")
        msgs = SubElement(root, "AvailStatusMessages", HotelCode=s.hotel_id)
        for start, end, d in runs(days, key=lambda d: d.restrictions()):
            msg = SubElement(
                msgs,
                "AvailStatusMessage",
                BookingLimit="1" if d.available else "0",
                MinAdvancedBookingOffset=f"P{s.min_advance_days}D",
                MaxAdvancedBookingOffset=f"P{s.max_advance_days}D",
            )
            self._control(msg, start, end, RatePlanCode=s.hotel_id)
            los = SubElement(msg, "LengthsOfStay", ArrivalDateBased="1")
            SubElement(los, "LengthOfStay", Time=str(d.min_stay or 1), TimeUnit="Day", MinMaxMessageType="SetMinLOS")
            if d.max_stay:
                SubElement(los, "LengthOfStay", Time=str(d.max_stay), TimeUnit="Day", MinMaxMessageType="SetMaxLOS")
            SubElement(msg, "RestrictionStatus", Restriction="Master", Status="Open" if d.available else "Close")
            for restriction, closed in (("Arrival", d.closed_to_arrival), ("Departure", d.closed_to_departure)):
                extra = SubElement(msgs, "AvailStatusMessage")
                self._control(extra, start, end, RatePlanCode=s.hotel_id)
                SubElement(extra, "RestrictionStatus", Restriction=restriction, Status="Close" if closed else "Open")
        return _xml(root)

    def rates(self, days: list[DayState]) -> bytes | None:
        s = self.state
        priced = [d for d in days if d.price is not None]
        if not priced:
            return None
        root = self._ota("OTA_HotelRateAmountNotifRQ", NotifType="Overlay")
        msgs = SubElement(root, "RateAmountMessages", HotelCode=s.hotel_id)
        for start, end, d in runs(priced, key=lambda d: (d.price, d.currency)):
            msg = SubElement(msgs, "RateAmountMessage")
            self._control(msg, start, end, RatePlanCode=s.hotel_id)
            amounts = SubElement(SubElement(SubElement(msg, "Rates"), "Rate"), "BaseByGuestAmts")
            for guests in range(1, s.capacity + 1):
                SubElement(
                    amounts,
                    "BaseByGuestAmt",
                    AmountBeforeTax=_money(d.price),
                    CurrencyCode=d.currency,
                    NumberOfGuests=str(guests),
                )
        return _xml(root)

    def property_digests(self) -> dict[str, str]:
        """A digest of what each property-level message says (ids and timestamps left out)."""
        s = self.state
        content = {
            "Transaction": (s.hotel_id, s.name, s.capacity, s.timezone),
            "TaxFeeInfo": (s.hotel_id, s.currency, repr(s.taxes), repr(s.fees)),
            "Promotions": (s.hotel_id, repr(s.promotions)),
        }
        return {kind: hashlib.sha256(repr(value).encode()).hexdigest()[:32] for kind, value in content.items()}

    def all(self, *, start: date, end: date, skip: frozenset[str] = frozenset()) -> list[tuple[str, bytes]]:
        out = [
            (kind, build())
            for kind, build in (
                ("Transaction", self.transaction),
                ("TaxFeeInfo", self.tax_fee_info),
                ("Promotions", self.promotions),
            )
            if kind not in skip
        ]
        days = [d for d in self.state.days if start <= d.day < end]
        for chunk in month_chunks(days):
            out.append(("OTA_HotelInvCountNotifRQ", self.inv_count(chunk)))
            out.append(("OTA_HotelAvailNotifRQ", self.avail(chunk)))
            rate = self.rates(chunk)
            if rate is not None:
                out.append(("OTA_HotelRateAmountNotifRQ", rate))
        return out


def error_from_google(errors: list[tuple[str, str]], http_status: int) -> AdapterError:
    codes = {c for c, _ in errors}
    text = "; ".join(f"{c} {t}".strip() for c, t in errors)[:500]
    if codes & AUTH_CODES:
        kind = ErrorKind.AUTH
    elif codes and codes <= RETRYABLE_CODES:
        kind = ErrorKind.RETRYABLE
    else:
        kind = ErrorKind.PERMANENT
    return AdapterError(f"Google error: {text}", kind=kind, http_status=http_status, code=",".join(sorted(codes)))


class GoogleVRAdapter(ChannelAdapter):
    platform = "google_vr"
    supports_push = True
    supports_pull = False
    holds_reservations = False

    def _url(self, kind: str) -> str:
        base = (self.connection.base_url or "https://www.google.com").rstrip("/")
        return f"{base}/{PATHS[kind]}"

    def _check(self) -> None:
        if not self.connection.external_property_id or not self.connection.username:
            raise AdapterError(
                "Set the Google partner key (username) and the listing id (platform property id).",
                kind=ErrorKind.PERMANENT,
            )

    # --- ordering and the per-account limit (Redis, shared by every worker) ----------------------
    def _lock(self):
        from apps.channels import redis as chredis

        return chredis.client().lock(
            chredis.key("google_vr", "push", self.connection.pk), timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS
        )

    def _next_timestamp(self) -> datetime:
        from apps.channels import redis as chredis

        now_us = int(time.time() * 1_000_000)
        key = chredis.key("google_vr", "last_ts", self.connection.pk)
        stamp = int(chredis.client().eval(_NEXT_STAMP, 1, key, now_us))
        return datetime.fromtimestamp(stamp / 1_000_000, tz=UTC)

    def _digest_key(self, kind: str) -> str:
        from apps.channels import redis as chredis

        return chredis.key("google_vr", "sent", self.connection.pk, kind)

    def _unchanged(self, digests: dict[str, str]) -> frozenset[str]:
        from apps.channels import redis as chredis

        kinds = list(digests)
        held = chredis.client().mget([self._digest_key(kind) for kind in kinds])
        return frozenset(kind for kind, value in zip(kinds, held, strict=True) if value == digests[kind])

    def _remember(self, kind: str, digest: str) -> None:
        from apps.channels import redis as chredis

        chredis.client().set(self._digest_key(kind), digest, ex=DIGEST_SECONDS)

    def _take_message_token(self) -> None:
        from apps.channels import ratelimit
        from apps.channels import redis as chredis

        key = chredis.key("bucket", "google_vr_account", self.connection.username)
        while True:
            wait = float(
                chredis.client().eval(ratelimit._TAKE, 1, key, MESSAGES_PER_SECOND, MESSAGES_PER_SECOND, time.time(), 1)
            )
            if wait <= 0:
                return
            time.sleep(min(wait, 1.0))

    # --- HTTP -------------------------------------------------------------------------------------
    def _send(self, kind: str, body: bytes) -> tuple[int, int, list[str]]:
        self._take_message_token()
        response, ms = self._http("POST", self._url(kind), data=body, headers={"Content-Type": "application/xml"})
        err = error_for_status(response.status_code, retry_after=response.headers.get("Retry-After"))
        if err:
            raise err
        try:
            root = parse_xml(response.content)
        except ValueError as exc:
            raise AdapterError(
                f"Google sent a malformed response: {exc}", kind=ErrorKind.RETRYABLE, http_status=response.status_code
            ) from None
        errors, warnings = ota_errors(root)
        if errors:
            raise error_from_google(errors, response.status_code)
        return response.status_code, ms, warnings

    # --- outbound ----------------------------------------------------------------------------------
    def push_calendar(self, days: list[DayState]) -> PushResult:
        from apps.channels.google_vr import push_state

        self._check()
        today = timezone.localdate()
        wanted = [d.day for d in days if d.day >= today]
        result = PushResult()
        if not wanted:
            return result
        start, end = min(wanted), max(wanted) + timedelta(days=1)
        lock = self._lock()
        if not lock.acquire():
            raise AdapterError("Another push to this Google listing is still running.", kind=ErrorKind.RETRYABLE)
        try:
            ts = self._next_timestamp()
            # The state is read after the timestamp is taken (see the module docstring).
            state = push_state(connection=self.connection, start=start, end=end)
            messages = Messages(state=state, ts=ts, push_id=f"{self.connection.pk}-{secrets.token_hex(6)}")
            digests = messages.property_digests()
            # A short push (a booking, a block) leaves out property data, taxes and promotions that Google
            # already acknowledged unchanged; a long one (sync now, a price change, the daily
            # reconciliation) always sends them.
            skip = frozenset() if (end - start).days >= FULL_PUSH_DAYS else self._unchanged(digests)
            for kind, body in messages.all(start=start, end=end, skip=skip):
                if timezone.now() - ts > MAX_MESSAGE_AGE:
                    raise AdapterError("The push took longer than 24 hours; it is re-read.", kind=ErrorKind.RETRYABLE)
                status, ms, warnings = self._send(kind, body)
                if kind in digests:
                    self._remember(kind, digests[kind])
                result.http_status = status
                result.latency_ms += ms
                result.requests += 1
                result.warnings += warnings
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:  # it expired: nothing left to release
                logger.warning("push lock of connection %s had expired", self.connection.pk)
        return result

    # --- reconciliation ------------------------------------------------------------------------
    def fetch_bookings(self, *, start: date, end: date) -> list:
        """Google never holds reservations: guests book on our own pages."""
        return []

    def fetch_calendar(self, *, start: date, end: date) -> dict:
        """Google offers partners no read of the ARI it holds: reconciliation sends the whole horizon
        again (Google's own advice: overlay the full calendar regularly). Price accuracy is checked by
        ``apps.channels.google_vr.price_accuracy_check``."""
        return {}

    def request_cost(self, days: list[DayState]) -> int:
        return 3 + 3 * len(month_chunks(days))  # at most

    def test_connection(self) -> str:
        """Google has no read call for partners; an empty overlay of property data proves the address
        is allowed and the listing is in the account's feed."""
        from apps.channels.google_vr import PushState

        self._check()
        state = PushState(
            hotel_id=self.connection.external_property_id,
            partner=self.connection.username,
            name=self.connection.property.name,
            currency=self.connection.property.currency,
            timezone=self.connection.property.timezone,
            capacity=self.connection.property.max_guests,
            min_advance_days=1,
            max_advance_days=365,
        )
        messages = Messages(state=state, ts=self._next_timestamp(), push_id=f"{self.connection.pk}-test")
        messages.push_id += f"-{secrets.token_hex(4)}"
        self._send("Transaction", messages.transaction())
        return "Connected: Google accepted the property data of this listing."

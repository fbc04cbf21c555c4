"""Inbound: webhooks (``POST /webhooks/<platform>/``) and pulled reservation queues.

Every message is stored raw first (``InboundMessage``), then verified, parsed, deduplicated on the
platform's natural key (``InboundKey``) and applied through the booking services. A conflicting
reservation is refused on the platform (after commit, no lock held) and raises an alert.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.bookings.models import Booking
from apps.core.errors import DomainError, unavailable_dependency
from apps.core.models import SyncEvent
from apps.core.observability import record_channel_error
from apps.core.outbox import event_emit

from . import breaker
from .adapters import adapter_class, get_adapter
from .adapters.base import AdapterError, ChannelReservation, InboundMalformed, InboundRejected, reservation_check
from .models import ChannelAlert, ChannelConnection, InboundKey, InboundMessage, Platform
from .services import ApplyResult, alert_create, refusal_reclose, reservation_apply

logger = logging.getLogger(__name__)

SENSITIVE_HEADERS = {"authorization", "cookie", "proxy-authorization", "x-api-key"}
MAX_BODY = 2 * 1024 * 1024
#: Reservations one pushed message may carry (each is applied in its own transaction while the
#: platform waits for the answer); a larger batch is refused (413) and kept.
MAX_RESERVATIONS_PER_MESSAGE = 50


def _storable(text: str) -> str:
    """PostgreSQL text and jsonb refuse NUL characters: keep the message, mark where they were."""
    return text.replace("\x00", "\ufffd")


def safe_headers(headers: dict[str, str]) -> dict[str, str]:
    return {
        _storable(k): ("[redacted]" if k.lower() in SENSITIVE_HEADERS else _storable(v[:1000]))
        for k, v in headers.items()
    }


def verify_hmac(*, headers: dict[str, str], body: bytes, secret: str, now: float | None = None) -> None:
    """HMAC-SHA256 over ``timestamp + "." + body`` in ``X-Signature: sha256=<hex>``, with
    ``X-Timestamp`` inside the tolerance window (replays of old messages are refused)."""
    lower = {k.lower(): v for k, v in headers.items()}
    ts, sig = lower.get("x-timestamp", ""), lower.get("x-signature", "")
    if not ts or not sig:
        raise InboundRejected("Missing X-Timestamp or X-Signature header.")
    try:
        ts_value = int(ts)
    except ValueError:
        raise InboundRejected("X-Timestamp is not a Unix timestamp.") from None
    if abs((now or time.time()) - ts_value) > settings.CHANNEL_WEBHOOK_TOLERANCE_SECONDS:
        raise InboundRejected("X-Timestamp is outside the accepted time window.")
    expected = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    given = sig.split("=", 1)[1] if sig.startswith("sha256=") else sig
    # bytes: compare_digest raises TypeError on non-ASCII str (a forged header must be a 403)
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise InboundRejected("The signature does not match.")


@dataclass
class InboundResponse:
    http_status: int
    body: dict[str, Any]
    message: InboundMessage


def _finish(msg: InboundMessage, *, status: str, http: int, body: dict, **fields: Any) -> InboundResponse:
    for k, v in fields.items():
        setattr(msg, k, v)
    msg.status = status
    msg.processed_at = timezone.now()
    msg.result = {**msg.result, **body}
    msg.save()
    if status in (InboundMessage.Status.REJECTED, InboundMessage.Status.INVALID, InboundMessage.Status.FAILED):
        record_channel_error(platform=msg.platform, kind=str(status), direction="inbound")
    return InboundResponse(http, {"status": status, **body}, msg)


def process_reservation(*, msg: InboundMessage, connection: ChannelConnection, res: ChannelReservation) -> ApplyResult:
    """Claim the natural key and apply, in one transaction. A second message with the same key is
    a duplicate and answers the first one's outcome."""
    try:
        res = reservation_check(res)  # before its key is claimed: the key is built from its fields
    except DomainError as exc:
        result = ApplyResult("invalid", None, str(exc), {"field": exc.details.get("field", "")})
        alert_create(
            connection=connection,
            property_id=connection.property_id,
            kind=ChannelAlert.Kind.INBOUND_FAILED,
            message=f"{connection.get_platform_display()} sent a reservation that was refused: {exc}",
            details={"external_id": str(res.external_id)[:128], "message_id": str(msg.pk)},
        )
        return result
    key = res.natural_key
    with transaction.atomic():
        try:
            with transaction.atomic():
                InboundKey.objects.create(
                    connection=connection, platform=connection.platform, natural_key=key, message=msg
                )
        except IntegrityError:
            first = InboundKey.objects.select_related("message").get(connection=connection, natural_key=key)
            prior = first.message.result.get("reservations", {}).get(key, {})
            return ApplyResult(
                "duplicate",
                first.message.booking_id,
                "Already processed.",
                {"first_message": str(first.message_id), "first_outcome": prior.get("outcome", "")},
            )
        result = reservation_apply(connection=connection, reservation=res)
        if result.outcome == "created":
            _emit_booking_received(connection, res, result, msg)
        if result.refused:
            alert_create(
                connection=connection,
                property_id=connection.property_id,
                kind=ChannelAlert.Kind.CONFLICT,
                message=f"{connection.get_platform_display()} reservation {res.external_id} "
                f"({res.check_in} to {res.check_out}) conflicts and was refused: {result.message}",
                details={"external_id": res.external_id, "message_id": str(msg.pk), **result.details},
            )
        elif result.outcome in ("failed", "invalid"):
            alert_create(
                connection=connection,
                property_id=connection.property_id,
                kind=ChannelAlert.Kind.INBOUND_FAILED,
                message=f"{connection.get_platform_display()} reservation {res.external_id} could not be "
                f"applied: {result.message}",
                details={"external_id": res.external_id, "message_id": str(msg.pk)},
            )
    return result


def _emit_booking_received(
    connection: ChannelConnection, res: ChannelReservation, result: ApplyResult, msg: InboundMessage
) -> None:
    """The spec's ``channel.booking_received``: a platform reservation accepted into the core."""
    booking = Booking.objects.filter(pk=result.booking_id).values("reference", "check_in", "check_out").first() or {}
    event_emit(
        event_type=SyncEvent.Type.CHANNEL_BOOKING_RECEIVED,
        entity_type="booking",
        entity_id=result.booking_id,
        property_id=connection.property_id,
        source=connection.platform,
        payload={
            "booking_id": result.booking_id,
            "reference": booking.get("reference", ""),
            "property_id": connection.property_id,
            "platform": connection.platform,
            "connection_id": connection.pk,
            "external_id": res.external_id,
            "check_in": booking.get("check_in", res.check_in),
            "check_out": booking.get("check_out", res.check_out),
            "message_id": str(msg.pk),
        },
    )


def _overall(results: list[ApplyResult]) -> str:
    outcomes = {r.outcome for r in results}
    if outcomes == {"duplicate"}:
        return InboundMessage.Status.DUPLICATE
    if "refused" in outcomes:
        return InboundMessage.Status.REFUSED
    if outcomes & {"failed", "invalid"}:
        return InboundMessage.Status.FAILED
    return InboundMessage.Status.PROCESSED


def _refuse_on_platform(connection: ChannelConnection, refusals: list[tuple[ChannelReservation, str]]) -> list[str]:
    """Network I/O, after commit. Returns the errors (kept on the message)."""
    errors = []
    adapter = get_adapter(connection)
    for res, reason in refusals:
        try:
            adapter.reject(res, reason=reason)
        except (AdapterError, NotImplementedError) as exc:
            errors.append(f"{res.external_id}: {exc}")
            logger.warning("could not refuse %s on %s: %s", res.external_id, connection.platform, exc)
        refusal_reclose(connection=connection, reservation=res)  # the platform may have reopened the nights
    return errors


def webhook_too_large(*, platform: str, headers: dict[str, str], body: bytes) -> InboundResponse:
    """An oversized message is refused (413) but still kept: its first ``MAX_BODY`` bytes are stored."""
    known = platform in Platform.values
    msg = InboundMessage.objects.create(
        platform=platform if known else Platform.BOOKING_COM,
        via=InboundMessage.Channel.WEBHOOK,
        headers=safe_headers(headers),
        body=_storable(body[:MAX_BODY].decode("utf-8", "replace")),
        result={} if known else {"requested_platform": platform[:50]},
    )
    return _finish(
        msg,
        status=InboundMessage.Status.INVALID,
        http=413,
        parse_error=f"Message larger than {MAX_BODY} bytes; the first {MAX_BODY} bytes are kept.",
        body={"error": "Message too large."},
    )


def webhook_receive(*, platform: str, headers: dict[str, str], body: bytes) -> InboundResponse:
    """Store, verify, parse, dedupe and apply one webhook. Never raises for bad input: only a fault
    that can pass (database or Redis unavailable, a lock timeout) propagates, so the platform is told
    to retry; anything else marks the stored message failed, alerts, and answers 422 for good."""
    known = platform in Platform.values
    msg = InboundMessage.objects.create(
        platform=platform if known else Platform.BOOKING_COM,
        via=InboundMessage.Channel.WEBHOOK,
        headers=safe_headers(headers),
        body=_storable(body[:MAX_BODY].decode("utf-8", "replace")),
        result={} if known else {"requested_platform": platform[:50]},
    )
    try:
        return _receive(msg, platform=platform, known=known, headers=headers, body=body)
    except Exception as exc:
        if unavailable_dependency(exc) is not None:
            raise
        logger.exception("inbound message %s could not be processed", msg.pk)
        if msg.connection_id:
            alert_create(
                connection=msg.connection,
                property_id=msg.connection.property_id,
                kind=ChannelAlert.Kind.INBOUND_FAILED,
                message=f"A {platform[:50]} message could not be processed ({type(exc).__name__}); it is kept.",
                details={"message_id": str(msg.pk)},
            )
        return _finish(
            msg,
            status=InboundMessage.Status.FAILED,
            http=422,
            parse_error=f"{type(exc).__name__}: {exc}"[:2000],
            body={"error": "The message could not be processed."},
        )


def _receive(
    msg: InboundMessage, *, platform: str, known: bool, headers: dict[str, str], body: bytes
) -> InboundResponse:
    cls = adapter_class(platform) if known else None
    if cls is None:
        return _finish(
            msg, status=InboundMessage.Status.IGNORED, http=404, body={"error": f"Unknown platform '{platform[:50]}'."}
        )
    lower = {k.lower() for k in headers}
    if "x-signature" not in lower or "x-timestamp" not in lower:
        return _finish(
            msg,
            status=InboundMessage.Status.REJECTED,
            http=403,
            signature_valid=False,
            verification_error="Missing X-Timestamp or X-Signature header.",
            body={"error": "Missing signature."},
        )
    parser = cls(ChannelConnection(platform=platform))
    try:
        reservations = parser.parse_inbound(headers=headers, body=body)
    except InboundMalformed as exc:
        return _finish(
            msg,
            status=InboundMessage.Status.INVALID,
            http=400,
            parse_error=str(exc)[:2000],
            body={"error": f"Malformed message: {str(exc)[:300]}"},
        )
    except Exception as exc:  # a parser bug is still a bad message, never a 500
        logger.exception("parser crashed on inbound %s", msg.pk)
        return _finish(
            msg,
            status=InboundMessage.Status.INVALID,
            http=400,
            parse_error=f"{type(exc).__name__}: {exc}"[:2000],
            body={"error": "Malformed message."},
        )
    if len(reservations) > MAX_RESERVATIONS_PER_MESSAGE:
        # one signed message with 600 reservations held a worker for minutes: refused for good, kept
        return _finish(
            msg,
            status=InboundMessage.Status.INVALID,
            http=413,
            parse_error=f"{len(reservations)} reservations in one message (at most {MAX_RESERVATIONS_PER_MESSAGE}).",
            body={"error": f"At most {MAX_RESERVATIONS_PER_MESSAGE} reservations per message."},
        )
    hotel_codes = {r.hotel_code for r in reservations}
    # exactly one, non-blank hotel code, owned by exactly one connection (never guess whose it is)
    matches = (
        list(
            ChannelConnection.objects.filter(platform=platform, external_property_id__in=hotel_codes)
            .exclude(external_property_id="")
            .select_related("property")[:2]
        )
        if len(hotel_codes) == 1
        else []
    )
    connection = matches[0] if len(matches) == 1 else None
    if connection is None:
        return _finish(
            msg,
            status=InboundMessage.Status.REJECTED,
            http=403,
            signature_valid=False,
            verification_error="No connection for this property.",
            # the same answer as a bad signature: a stranger learns nothing about which ids are connected
            body={"error": "Invalid signature."},
        )
    msg.connection, msg.property_id = connection, connection.property_id
    try:
        get_adapter(connection).verify_inbound(headers=headers, body=body)
    except InboundRejected as exc:
        return _finish(
            msg,
            status=InboundMessage.Status.REJECTED,
            http=403,
            signature_valid=False,
            verification_error=str(exc)[:500],
            body={"error": "Invalid signature."},
        )
    msg.signature_valid = True
    msg.natural_key = ",".join(r.natural_key for r in reservations)[:200]
    msg.save(update_fields=["connection", "property", "signature_valid", "natural_key"])
    return _apply_all(msg, connection, reservations, http_ok=200)


def _apply_all(
    msg: InboundMessage, connection: ChannelConnection, reservations: list[ChannelReservation], *, http_ok: int
) -> InboundResponse:
    results: dict[str, dict] = {}
    refusals = []
    booking_id = None
    outcomes = []
    for res in reservations:
        result = process_reservation(msg=msg, connection=connection, res=res)
        outcomes.append(result)
        results[res.natural_key] = result.as_dict()
        booking_id = booking_id or result.booking_id
        if result.refused:
            refusals.append((res, result.message))
    status = _overall(outcomes)
    body: dict[str, Any] = {"reservations": results}
    response = _finish(msg, status=status, http=http_ok, body=body, booking_id=booking_id)
    if refusals:
        errors = _refuse_on_platform(connection, refusals)
        msg.result = {**msg.result, "refused_on_platform": not errors, "refusal_errors": errors}
        msg.save(update_fields=["result"])
    return response


# --- pull --------------------------------------------------------------------------------------
@dataclass
class PullResult:
    connection_id: int
    fetched: int = 0
    created: int = 0
    duplicates: int = 0
    refused: int = 0
    acked: int = 0
    error: str = ""
    outcomes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def pull_connection_ids() -> list[int]:
    from .adapters import ADAPTERS

    pull_platforms = [p for p in ADAPTERS if (cls := adapter_class(p)) is not None and cls.supports_pull]
    return list(
        ChannelConnection.objects.filter(platform__in=pull_platforms, sync_enabled=True).values_list("pk", flat=True)
    )


def reservations_pull(*, connection_id: int) -> PullResult:
    """Fetch the platform's queue, apply each reservation, then ack (or refuse) on the platform."""
    connection = ChannelConnection.objects.select_related("property").get(pk=connection_id)
    if connection.platform == Platform.EXPEDIA:  # EQC BR/BC: confirmed with our booking reference
        from .inbound_expedia import reservations_pull as expedia_pull

        return expedia_pull(connection=connection)
    out = PullResult(connection_id=connection_id)
    platform = connection.platform
    allowed, _ = breaker.allow(platform)
    if not allowed:
        out.error = "circuit breaker open"
        return out
    adapter = get_adapter(connection)
    try:
        found = adapter.fetch_reservations()
    except AdapterError as exc:
        if exc.kind in ("retryable", "rate_limited"):
            breaker.record_failure(platform)
        record_channel_error(platform=platform, kind=str(exc.kind), direction="pull")
        out.error = str(exc)
        ChannelConnection.objects.filter(pk=connection.pk).update(sync_status="error", last_error=str(exc)[:2000])
        return out
    breaker.record_success(platform)
    out.fetched = len(found)
    to_ack: list[ChannelReservation] = []
    refusals: list[tuple[ChannelReservation, str, InboundMessage]] = []
    for res in found:
        if res.hotel_code and res.hotel_code != connection.external_property_id:
            continue
        msg = InboundMessage.objects.create(
            platform=platform,
            via=InboundMessage.Channel.PULL,
            connection=connection,
            property_id=connection.property_id,
            body=res.raw[:MAX_BODY],
            signature_valid=None,
            verification_error="pulled over the platform's authenticated API",
            natural_key=res.natural_key[:200],
        )
        result = process_reservation(msg=msg, connection=connection, res=res)
        first_outcome = result.details.get("first_outcome", "") if result.outcome == "duplicate" else result.outcome
        out.outcomes.append(result.outcome)
        _finish(
            msg,
            status=_overall([result]),
            http=200,
            body={"reservations": {res.natural_key: result.as_dict()}},
            booking_id=result.booking_id,
        )
        if result.outcome == "duplicate":
            out.duplicates += 1
        elif result.outcome == "created":
            out.created += 1
        if first_outcome == "refused":
            out.refused += result.outcome == "refused"
            refusals.append((res, result.message or "The dates are not available.", msg))
        else:
            to_ack.append(res)
    errors = []
    if to_ack:
        try:
            adapter.acknowledge(to_ack)
            out.acked = len(to_ack)
        except AdapterError as exc:  # not acked: the platform keeps them queued, the next pull dedupes
            errors.append(f"ack: {exc}")
    for res, reason, msg in refusals:
        refuse_errors = _refuse_on_platform(connection, [(res, reason)])
        msg.result = {**msg.result, "refused_on_platform": not refuse_errors, "refusal_errors": refuse_errors}
        msg.save(update_fields=["result"])
        errors += refuse_errors
    out.error = "; ".join(errors)
    ChannelConnection.objects.filter(pk=connection.pk).update(
        last_sync_at=timezone.now(), **({"sync_status": "ok", "last_error": ""} if not errors else {})
    )
    return out

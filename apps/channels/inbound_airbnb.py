"""Airbnb calling us (PLATFORMS.md section 3 (c)), under ``/webhooks/airbnb/``:

- ``GET reservations?action=check_availability&listing_id&start_date&nights`` -> ``{"available": bool,
  "failure_code"}``, answered from our calendar by ``stay_check``, the rules every source is held to.
- ``PUT reservations/{confirmation_code}`` -> ``{"succeed": true}`` once the booking exists (created by
  ``booking_create`` under the property lock, via ``process_reservation``), or ``{"succeed": false,
  "failure_code": "dates_not_available"}`` on a conflict (recorded, alerted, and the nights pushed
  again to every channel).
- ``POST notifications`` ``{"action": ...}``: ``reservation_acceptance_confirmation``,
  ``reservation_alteration_confirmation``, ``reservation_cancellation_confirmation``,
  ``reservation_request`` / ``inquiry`` [INFERRED] (an ``AirbnbRequest`` the owner answers in the
  admin), ``listing_approval_status_changed``, ``listing_synchronization_settings_updated``,
  ``listings_unlinked`` and ``authorization_revoked`` (the connection is switched off and the owner
  alerted), ``test_notification``.

Every call is stored raw first, then verified: ``X-Signature: sha256=HMAC-SHA256(notification secret,
X-Timestamp + "." + body)`` (a GET signs its path and query string instead of a body), within the
replay window (the simulator's scheme, PLATFORMS.md section 7). A message reaches only the connection
of the listing (or host) it names; an unknown listing answers exactly like a bad signature.
Idempotency: confirmation code + action (+ alteration number), per connection.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.errors import DomainError

from .adapters.airbnb import AirbnbStay, reservation_from_json
from .adapters.base import InboundRejected
from .inbound import MAX_BODY, _storable, process_reservation, safe_headers, verify_hmac
from .models import AirbnbRequest, ChannelAlert, ChannelConnection, InboundMessage, Platform
from .services import alert_create, refusal_reclose

logger = logging.getLogger(__name__)

PLATFORM = Platform.AIRBNB
RESERVATION_ACTIONS = {
    "reservation_acceptance_confirmation",
    "reservation_alteration_confirmation",
    "reservation_cancellation_confirmation",
}
REQUEST_ACTIONS = {"reservation_request": AirbnbRequest.Kind.REQUEST, "inquiry": AirbnbRequest.Kind.INQUIRY}
SYNC_CATEGORIES_PUSHED = {"sync_all", "sync_rates_and_availability"}
FORBIDDEN = {"error": "Invalid signature."}


@dataclass
class AirbnbAnswer:
    http_status: int
    body: dict[str, Any]
    message: InboundMessage


def _store(*, headers: dict[str, str], body: bytes) -> InboundMessage:
    return InboundMessage.objects.create(
        platform=PLATFORM,
        via=InboundMessage.Channel.WEBHOOK,
        headers=safe_headers(headers),
        body=_storable(body[:MAX_BODY].decode("utf-8", "replace")),
    )


def _finish(msg: InboundMessage, *, status: str, http: int, body: dict, **fields: Any) -> AirbnbAnswer:
    for k, v in fields.items():
        setattr(msg, k, v)
    msg.status = status
    msg.processed_at = timezone.now()
    msg.result = {**msg.result, **body}
    msg.save()
    return AirbnbAnswer(http, body, msg)


def _verify(msg: InboundMessage, *, headers: dict[str, str], signed: bytes) -> AirbnbAnswer | None:
    from .airbnb import app_config

    secret = app_config().notification_secret
    try:
        if not secret:
            raise InboundRejected("No Airbnb notification secret is configured (AIRBNB_NOTIFICATION_SECRET).")
        verify_hmac(headers=headers, body=signed, secret=secret)
    except InboundRejected as exc:
        return _finish(
            msg,
            status=InboundMessage.Status.REJECTED,
            http=403,
            body=FORBIDDEN,
            signature_valid=False,
            verification_error=str(exc)[:500],
        )
    msg.signature_valid = True
    return None


def _unknown(msg: InboundMessage, what: str) -> AirbnbAnswer:
    """An id no connection of ours holds: the same answer as a bad signature."""
    return _finish(
        msg,
        status=InboundMessage.Status.REJECTED,
        http=403,
        body=FORBIDDEN,
        verification_error=f"No Airbnb connection for {what}."[:500],
    )


def _invalid(msg: InboundMessage, reason: str) -> AirbnbAnswer:
    return _finish(
        msg,
        status=InboundMessage.Status.INVALID,
        http=400,
        body={"succeed": False, "error": f"Malformed message: {reason[:300]}"},
        parse_error=reason[:2000],
    )


def connection_for_listing(listing_id: Any) -> ChannelConnection | None:
    listing = str(listing_id or "").strip()
    if not listing or len(listing) > 64:
        return None
    return (
        ChannelConnection.objects.filter(platform=PLATFORM, external_property_id=listing)
        .select_related("property")
        .first()
    )


def _bind(msg: InboundMessage, conn: ChannelConnection, natural_key: str = "") -> None:
    msg.connection, msg.property_id = conn, conn.property_id
    msg.natural_key = natural_key[:200]
    msg.save(update_fields=["connection", "property", "signature_valid", "natural_key"])


# --- GET reservations?action=check_availability ----------------------------------------------------
def check_availability(*, headers: dict[str, str], full_path: str, params: dict[str, str]) -> AirbnbAnswer:
    from apps.availability.selectors import stay_check

    msg = _store(headers=headers, body=full_path.encode())
    denied = _verify(msg, headers=headers, signed=full_path.encode())
    if denied:
        return denied
    if params.get("action") != "check_availability":
        return _invalid(msg, "action must be check_availability")
    try:
        check_in = date.fromisoformat(params.get("start_date", ""))
        nights = int(params.get("nights", ""))
        if not 1 <= nights <= 1125:
            raise ValueError
    except ValueError:
        return _invalid(msg, "start_date (YYYY-MM-DD) and nights (1-1125) are required")
    conn = connection_for_listing(params.get("listing_id"))
    if conn is None:
        return _unknown(msg, f"listing {params.get('listing_id', '')[:64]}")
    _bind(msg, conn)
    prop = conn.property
    guests = int(params["number_of_guests"]) if str(params.get("number_of_guests", "")).isdigit() else 1
    check = stay_check(prop=prop, check_in=check_in, check_out=check_in + timedelta(days=nights), guests=guests)
    available = check.bookable and prop.status == "active"
    failure = None
    if not available:
        failure = str(check.reasons[0].get("code", "not_available")) if check.reasons else "not_available"
    body = {"available": available, "failure_code": failure}
    return _finish(msg, status=InboundMessage.Status.PROCESSED, http=200, body=body)


# --- PUT reservations/{confirmation_code} ------------------------------------------------------------
def _apply(msg: InboundMessage, conn: ChannelConnection, stay: AirbnbStay) -> tuple[bool, str, Any]:
    """(succeeded, failure code, result) of one reservation message, through ``process_reservation``."""
    result = process_reservation(msg=msg, connection=conn, res=stay)
    first = result.details.get("first_outcome", "") if result.outcome == "duplicate" else result.outcome
    if result.refused:
        transaction.on_commit(lambda: refusal_reclose(connection=conn, reservation=stay))
    ok = first not in ("refused", "invalid", "failed")
    failure = "" if ok else ("dates_not_available" if first == "refused" else "invalid_reservation")
    return ok, failure, result


def _status_of(results: list[Any]) -> str:
    outcomes = {r.outcome for r in results}
    if outcomes == {"duplicate"}:
        return InboundMessage.Status.DUPLICATE
    if "refused" in outcomes:
        return InboundMessage.Status.REFUSED
    if outcomes & {"failed", "invalid"}:
        return InboundMessage.Status.FAILED
    return InboundMessage.Status.PROCESSED


def reservation_put(*, headers: dict[str, str], body: bytes, code: str) -> AirbnbAnswer:
    msg = _store(headers=headers, body=body)
    denied = _verify(msg, headers=headers, signed=body)
    if denied:
        return denied
    try:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        if str(data.get("confirmation_code") or code) != code:
            raise ValueError("confirmation_code differs from the URL")
        stay = reservation_from_json({**data, "confirmation_code": code}, action="reservation")
    except ValueError as exc:
        return _invalid(msg, str(exc))
    conn = connection_for_listing(data.get("listing_id"))
    if conn is None:
        return _unknown(msg, f"listing {str(data.get('listing_id', ''))[:64]}")
    _bind(msg, conn, stay.natural_key)
    ok, failure, result = _apply(msg, conn, stay)
    answer = {"succeed": True} if ok else {"succeed": False, "failure_code": failure}
    _request_settled(conn, code, result.booking_id if ok else None)
    return _finish(
        msg,
        status=_status_of([result]),
        http=200,
        body={**answer, "reservations": {stay.natural_key: result.as_dict()}},
        booking_id=result.booking_id,
    )


def _request_settled(conn: ChannelConnection, code: str, booking_id: int | None) -> None:
    """A request or an inquiry that became a reservation (or was cancelled) is no longer open."""
    AirbnbRequest.objects.filter(
        connection=conn, code=code, status__in=[AirbnbRequest.Status.PENDING, AirbnbRequest.Status.PRE_APPROVED]
    ).update(status=AirbnbRequest.Status.WITHDRAWN, booking_id=booking_id, updated_at=timezone.now())


# --- POST notifications ------------------------------------------------------------------------------
def notification_receive(*, headers: dict[str, str], body: bytes) -> AirbnbAnswer:
    msg = _store(headers=headers, body=body)
    denied = _verify(msg, headers=headers, signed=body)
    if denied:
        return denied
    try:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict) or not isinstance(data.get("action"), str):
            raise ValueError("body must be a JSON object with an action")
    except ValueError as exc:
        return _invalid(msg, str(exc))
    action = data["action"]
    handler = {
        "test_notification": _test,
        "authorization_revoked": _revoked,
        "listings_unlinked": _unlinked,
        "listing_approval_status_changed": _approval,
        "listing_synchronization_settings_updated": _sync_settings,
    }.get(action)
    try:
        if action in RESERVATION_ACTIONS:
            return _reservation_notification(msg, data, action)
        if action in REQUEST_ACTIONS:
            return _request_notification(msg, data, action)
        if handler is None:
            return _invalid(msg, f"unknown action {action[:60]}")
        return handler(msg, data)
    except (ValueError, TypeError, KeyError) as exc:
        return _invalid(msg, f"{action}: {exc}")


def _test(msg: InboundMessage, data: dict) -> AirbnbAnswer:
    return _finish(msg, status=InboundMessage.Status.PROCESSED, http=200, body={"succeed": True})


def _reservation_notification(msg: InboundMessage, data: dict, action: str) -> AirbnbAnswer:
    stay = reservation_from_json(data.get("reservation"), action=action)
    conn = connection_for_listing(stay.hotel_code)
    if conn is None:
        return _unknown(msg, f"listing {stay.hotel_code[:64]}")
    _bind(msg, conn, stay.natural_key)
    ok, failure, result = _apply(msg, conn, stay)
    if stay.status == "cancelled" or ok:
        _request_settled(conn, stay.external_id, result.booking_id if stay.status != "cancelled" else None)
    answer = {"succeed": True} if ok else {"succeed": False, "failure_code": failure}
    return _finish(
        msg,
        status=_status_of([result]),
        http=200,
        body={**answer, "reservations": {stay.natural_key: result.as_dict()}},
        booking_id=result.booking_id,
    )


def _request_notification(msg: InboundMessage, data: dict, action: str) -> AirbnbAnswer:
    from apps.core import limits

    stay = reservation_from_json(data.get("reservation"), action=action)
    conn = connection_for_listing(stay.hotel_code)
    if conn is None:
        return _unknown(msg, f"listing {stay.hotel_code[:64]}")
    _bind(msg, conn, stay.natural_key)
    raw = data["reservation"]
    try:
        limits.check_single_line(stay.external_id, max_length=64, field="confirmation code", required=True)
        limits.check_span(stay.check_in, stay.check_out)
        guests = limits.check_guests(stay.guests)
        currency = limits.check_currency(stay.currency or "EUR")
        total = limits.check_amount(stay.total, currency=currency, field="total") if stay.total is not None else None
        name = limits.check_single_line(
            f"{stay.first_name} {stay.last_name}".strip(), max_length=200, field="guest name"
        )
        text = limits.check_text(str(raw.get("message") or ""), max_length=5000, field="message")
    except DomainError as exc:
        return _invalid(msg, str(exc))
    expires = parse_datetime(str(raw.get("expires_at") or "")) if raw.get("expires_at") else None
    req, created = AirbnbRequest.objects.get_or_create(
        connection=conn,
        code=stay.external_id,
        defaults={
            "property_id": conn.property_id,
            "kind": REQUEST_ACTIONS[action],
            "check_in": stay.check_in,
            "check_out": stay.check_out,
            "guests": guests,
            "guest_name": name,
            "message": text,
            "total": total,
            "currency": currency,
            "expires_at": expires or timezone.now() + timedelta(hours=24),
        },
    )
    status = InboundMessage.Status.PROCESSED if created else InboundMessage.Status.DUPLICATE
    return _finish(msg, status=status, http=200, body={"succeed": True, "request_id": req.pk})


def _revoked(msg: InboundMessage, data: dict) -> AirbnbAnswer:
    from .airbnb import connection_disable

    host = str(data.get("host_id") or data.get("user_id") or "").strip()
    conns = (
        list(ChannelConnection.objects.filter(platform=PLATFORM, username=host).exclude(username="")) if host else []
    )
    if not conns:
        return _unknown(msg, f"host {host[:64]}")
    _bind(msg, conns[0], f"authorization_revoked:{host}")
    for conn in conns:
        connection_disable(
            connection=conn, reason="the host revoked the app's authorization on Airbnb.", clear_tokens=True
        )
    return _finish(
        msg, status=InboundMessage.Status.PROCESSED, http=200, body={"succeed": True, "disabled": len(conns)}
    )


def _unlinked(msg: InboundMessage, data: dict) -> AirbnbAnswer:
    from .airbnb import connection_disable

    ids = data.get("listing_ids")
    if not isinstance(ids, list):
        raise ValueError("listing_ids must be a list")
    conns = [c for c in (connection_for_listing(x) for x in ids[:100]) if c is not None]
    if not conns:
        return _unknown(msg, "these listings")
    _bind(msg, conns[0], "listings_unlinked")
    for conn in conns:
        connection_disable(connection=conn, reason=f"listing {conn.external_property_id} was unlinked from the app.")
    return _finish(
        msg, status=InboundMessage.Status.PROCESSED, http=200, body={"succeed": True, "disabled": len(conns)}
    )


def _approval(msg: InboundMessage, data: dict) -> AirbnbAnswer:
    info = data.get("listing_approval_status")
    if not isinstance(info, dict):
        raise ValueError("listing_approval_status must be an object")
    conn = connection_for_listing(info.get("listing_id"))
    if conn is None:
        return _unknown(msg, "this listing")
    _bind(msg, conn, "listing_approval_status_changed")
    category = str(info.get("approval_status_category") or "")[:40]
    _settings_update(conn, approval_status=category)
    if category == "rejected":
        alert_create(
            connection=conn,
            property_id=conn.property_id,
            kind=ChannelAlert.Kind.AUTH,
            message=f"Airbnb rejected listing {conn.external_property_id}: it is not bookable there.",
            details={"notes": str(info.get("notes") or "")[:500]},
        )
    return _finish(msg, status=InboundMessage.Status.PROCESSED, http=200, body={"succeed": True})


def _sync_settings(msg: InboundMessage, data: dict) -> AirbnbAnswer:
    updates = data.get("updates")
    if not isinstance(updates, list):
        raise ValueError("updates must be a list")
    done = 0
    for item in updates[:100]:
        conn = connection_for_listing(item.get("listing_id")) if isinstance(item, dict) else None
        if conn is None:
            continue
        if not done:
            _bind(msg, conn, "listing_synchronization_settings_updated")
        done += 1
        category = str(item.get("synchronization_category") or "")[:40]
        _settings_update(conn, synchronization_category=category)
        if category not in SYNC_CATEGORIES_PUSHED:
            alert_create(
                connection=conn,
                property_id=conn.property_id,
                kind=ChannelAlert.Kind.AUTH,
                message=f"Airbnb listing {conn.external_property_id} is set to “{category}”: Airbnb ignores our "
                "calendar and prices until it is set to sync_all again.",
            )
    if not done:
        return _unknown(msg, "these listings")
    return _finish(msg, status=InboundMessage.Status.PROCESSED, http=200, body={"succeed": True})


def _settings_update(conn: ChannelConnection, **values: str) -> None:
    with transaction.atomic():
        locked = ChannelConnection.objects.select_for_update().get(pk=conn.pk)
        locked.settings = {**(locked.settings or {}), **{f"airbnb_{k}": v for k, v in values.items()}}
        locked.save(update_fields=["settings", "updated_at"])


def not_here(*, headers: dict[str, str], body: bytes) -> AirbnbAnswer:
    msg = _store(headers=headers, body=body)
    return _finish(
        msg,
        status=InboundMessage.Status.IGNORED,
        http=404,
        body={"error": "Airbnb calls /webhooks/airbnb/reservations and /webhooks/airbnb/notifications."},
    )

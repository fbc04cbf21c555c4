"""Airbnb on the channel side: the partner app's configuration, the OAuth2 connect flow, listing
mapping, the owner's answers to requests to book and inquiries, and disabling a connection whose
authorization Airbnb withdrew. Views and the admin are thin callers of these functions.

Connect flow: the owner clicks "Connect Airbnb" for a property -> ``authorize_url`` (a signed,
session-bound ``state``) -> Airbnb's consent page -> back to our callback with ``code`` ->
``connect_finish`` exchanges it for tokens (refresh token stored encrypted) and creates or updates the
property's Airbnb connection, which stays off until ``listing_map`` picks the listing (fetched from
Airbnb with the new token); mapping pushes the whole calendar and the listing's settings.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import DomainError, ValidationFailed

from .adapters.base import AdapterError
from .models import AirbnbRequest, ChannelAlert, ChannelConnection, Delivery, Platform
from .services import alert_create, connection_sync_now

logger = logging.getLogger(__name__)

PLATFORM = Platform.AIRBNB
STATE_SALT = "channels.airbnb.oauth-state"
STATE_MAX_AGE = 15 * 60
SANDBOX_CLIENT_ID = "pms-webapp-sandbox"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - the simulator's, public by design
SANDBOX_NOTIFICATION_SECRET = "sandbox-notification-secret"  # noqa: S105


@dataclass(frozen=True)
class AppConfig:
    client_id: str
    client_secret: str
    notification_secret: str
    api_url: str
    oauth_url: str


def app_config(*, sandbox: bool | None = None) -> AppConfig:
    """The PMS's Airbnb partner app (``AIRBNB_*`` settings). With the sandbox on, anything not set
    points at the simulator under ``SITE_URL`` with the simulator's public demo credentials."""
    if sandbox is None:
        sandbox = bool(getattr(settings, "SANDBOX_ENABLED", False))
    site = settings.SITE_URL.rstrip("/")

    def value(name: str, sandbox_default: str, default: str = "") -> str:
        return str(getattr(settings, name, "") or (sandbox_default if sandbox else default))

    return AppConfig(
        client_id=value("AIRBNB_CLIENT_ID", SANDBOX_CLIENT_ID),
        client_secret=value("AIRBNB_CLIENT_SECRET", SANDBOX_CLIENT_SECRET),
        notification_secret=value("AIRBNB_NOTIFICATION_SECRET", SANDBOX_NOTIFICATION_SECRET),
        api_url=value("AIRBNB_API_URL", f"{site}/sandbox/airbnb", "https://api.airbnb.com").rstrip("/"),
        oauth_url=value("AIRBNB_OAUTH_URL", f"{site}/sandbox/airbnb/oauth2/auth", "https://www.airbnb.com/oauth2/auth"),
    )


def _adapter(conn: ChannelConnection):
    from .adapters.airbnb import AirbnbAdapter

    return AirbnbAdapter(conn)


# --- what the listing's settings are ----------------------------------------------------------------
def listing_settings(prop: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pricing settings, availability rules) of a property, as Airbnb's ``pricing_settings`` and
    ``availability_rules`` take them. The extra-guest fee is the property's active ``extra_guest_fee``
    rule (the first by priority): ``guests_included`` is its ``above_guests``."""
    from apps.availability.models import PricingRule

    rule = (
        PricingRule.objects.filter(property_id=prop.pk, rule_type=PricingRule.RuleType.EXTRA_GUEST_FEE, active=True)
        .order_by("priority", "pk")
        .first()
    )
    included = int((rule.conditions or {}).get("above_guests") or 0) if rule else 0
    pricing = {
        "listing_currency": prop.currency,
        "default_daily_price": float(prop.base_price),
        "cleaning_fee": float(prop.cleaning_fee or Decimal("0")),
        "guests_included": included or int(prop.max_guests),
        "price_per_extra_person": float(rule.adjustment_value) if rule else 0.0,
    }
    rules = {
        "booking_lead_time": {"hours": int(prop.min_notice_hours or 0), "allow_request_to_book": False},
        "max_days_notice": {"days": int(prop.max_advance_days)},
        "default_min_nights": int(prop.default_min_stay),
        "default_max_nights": int(prop.default_max_stay),
    }
    return pricing, rules


# --- connect ---------------------------------------------------------------------------------------
def authorize_url(*, property_id: int, user_id: int, redirect_uri: str) -> tuple[str, str]:
    """(URL of Airbnb's consent page, the nonce to keep in the owner's session)."""
    nonce = secrets.token_urlsafe(16)
    state = signing.dumps({"p": property_id, "u": user_id, "n": nonce}, salt=STATE_SALT)
    config = app_config()
    query = urlencode(
        {
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "property_management reservations_web_hooks",
            "state": state,
        }
    )
    return f"{config.oauth_url}?{query}", nonce


def state_check(*, state: str, user_id: int, nonce: str) -> int:
    """The property id the consent was asked for; refuses a forged, stale or someone else's state."""
    try:
        data = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.BadSignature:
        raise ValidationFailed("The answer from Airbnb is invalid or too old: please connect again.") from None
    if data.get("u") != user_id or not nonce or data.get("n") != nonce:
        raise ValidationFailed("This answer from Airbnb belongs to another sign-in: please connect again.")
    return int(data["p"])


def connect_finish(*, property_id: int, code: str, redirect_uri: str) -> ChannelConnection:
    """Exchange the authorization code for tokens and store them on the property's Airbnb connection
    (created off; an existing one keeps its listing and is switched on again with a full push)."""
    config = app_config()
    probe = ChannelConnection(platform=PLATFORM, base_url=config.api_url)
    try:
        tokens = _adapter(probe).exchange_code(code=code, redirect_uri=redirect_uri)
    except AdapterError as exc:
        raise DomainError(f"Airbnb: {exc.message}") from None
    from .adapters.airbnb import forget

    with transaction.atomic():
        conn = ChannelConnection.objects.select_for_update().filter(property_id=property_id, platform=PLATFORM).first()
        if conn is None:
            conn = ChannelConnection(property_id=property_id, platform=PLATFORM, label="Airbnb", sync_enabled=False)
        conn.base_url = config.api_url
        conn.auth_scheme = ChannelConnection.AuthScheme.TOKEN
        if conn.username and conn.username != tokens["user_id"]:
            conn.external_property_id = ""  # another Airbnb account: its listings differ
        conn.username = tokens["user_id"]
        conn.set_secret("refresh_token", tokens["refresh_token"])
        conn.set_secret("access_token", tokens["access_token"])
        conn.token_expires_at = timezone.now() + timedelta(seconds=tokens["expires_in"])
        mapped = bool(conn.external_property_id)
        conn.sync_enabled = mapped
        conn.sync_status = ChannelConnection.SyncStatus.PENDING
        conn.last_error = ""
        conn.settings = {**(conn.settings or {}), "airbnb_connected_at": timezone.now().isoformat()}
        conn.save()
        if conn.pk:
            forget(conn.pk)
        if mapped:
            connection_sync_now(connection_id=conn.pk)
    return conn


def listings_for(*, connection: ChannelConnection) -> list[dict[str, Any]]:
    """The host's listings, fetched from Airbnb with the connection's token; ``taken`` marks those
    another connection already uses."""
    try:
        found = _adapter(connection).fetch_listings()
    except AdapterError as exc:
        raise DomainError(f"Could not fetch the Airbnb listings: {exc}") from None
    taken = set(
        ChannelConnection.objects.filter(platform=PLATFORM, external_property_id__in=[x["id"] for x in found])
        .exclude(pk=connection.pk)
        .values_list("external_property_id", flat=True)
    )
    return [{**x, "taken": x["id"] in taken} for x in found]


def listing_map(*, connection_id: int, listing_id: str) -> ChannelConnection:
    """Map the connection to one of the host's listings (checked against Airbnb's own list, never the
    posted value alone), switch it on and push the whole calendar and the listing's settings."""
    conn = ChannelConnection.objects.select_related("property").get(pk=connection_id, platform=PLATFORM)
    listings = {x["id"]: x for x in listings_for(connection=conn)}
    listing = listings.get(str(listing_id))
    if listing is None:
        raise ValidationFailed("This listing is not one of the connected Airbnb account's listings.")
    if listing["taken"]:
        raise ValidationFailed("Another property is already connected to this Airbnb listing.")
    from .adapters.airbnb import forget

    forget(conn.pk)
    try:
        with transaction.atomic():
            ChannelConnection.objects.filter(pk=conn.pk).update(
                external_property_id=listing["id"],
                sync_enabled=True,
                sync_status=ChannelConnection.SyncStatus.PENDING,
                last_error="",
                settings={**(conn.settings or {}), "airbnb_listing_name": listing["name"]},
                updated_at=timezone.now(),
            )
            connection_sync_now(connection_id=conn.pk)
    except IntegrityError:
        raise ValidationFailed("Another property is already connected to this Airbnb listing.") from None
    conn.refresh_from_db()
    return conn


# --- the authorization withdrawn -------------------------------------------------------------------
def connection_disable(*, connection: ChannelConnection, reason: str, clear_tokens: bool = False) -> int:
    """Switch a connection off because Airbnb withdrew access; pending pushes are stopped (they will be
    sent in full when the owner connects again) and the owner is alerted, naming them. Returns how many
    pushes were stopped."""
    from .adapters.airbnb import forget

    now = timezone.now()
    with transaction.atomic():
        conn = ChannelConnection.objects.select_for_update().get(pk=connection.pk)
        conn.sync_enabled = False
        conn.sync_status = ChannelConnection.SyncStatus.DISABLED
        conn.last_error = reason[:2000]
        if clear_tokens:
            conn.set_secret("access_token", "")
            conn.set_secret("refresh_token", "")
            conn.token_expires_at = None
        conn.save()
        stopped = Delivery.objects.filter(
            connection=conn, status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING]
        ).update(
            status=Delivery.Status.DEAD,
            last_error=f"Stopped: {reason}"[:2000],
            last_error_kind="auth",
            next_attempt_at=None,
            updated_at=now,
        )
        alert_create(
            connection=conn,
            property_id=conn.property_id,
            kind=ChannelAlert.Kind.AUTH,
            message=f"Airbnb: {reason} The connection is switched off"
            + (f"; {stopped} pending calendar push(es) were stopped" if stopped else "")
            + ". Connect Airbnb again: the whole calendar is pushed then.",
            details={"stopped_deliveries": stopped, "reason": reason[:200]},
        )
    forget(conn.pk)
    return stopped


# --- requests to book and inquiries ----------------------------------------------------------------
ANSWERS = {
    AirbnbRequest.Kind.REQUEST: {"accept", "decline"},
    AirbnbRequest.Kind.INQUIRY: {"pre_approve", "decline"},
}


def request_answer(*, request_id: int, action: str, user: Any = None) -> AirbnbRequest:
    """The owner pre-approves (inquiry), accepts (request to book) or declines, within Airbnb's window.

    Accepting checks our calendar first, tells Airbnb, then creates the booking through the same path
    as every Airbnb reservation (a conflict that slipped in meanwhile is cancelled on Airbnb and
    alerted)."""
    from apps.availability.models import OccupiedNight

    from .adapters.airbnb import AirbnbStay
    from .inbound import _refuse_on_platform
    from .services import reservation_apply

    req = AirbnbRequest.objects.select_related("connection", "property").get(pk=request_id)
    if action not in ANSWERS.get(req.kind, set()):
        raise ValidationFailed(f"A {req.get_kind_display().lower()} cannot be answered with “{action}”.")
    if req.lapsed and req.status in (AirbnbRequest.Status.PENDING, AirbnbRequest.Status.PRE_APPROVED):
        AirbnbRequest.objects.filter(pk=req.pk).update(status=AirbnbRequest.Status.EXPIRED)
        raise ValidationFailed("Airbnb's time to answer has passed: the request expired.")
    if req.status != AirbnbRequest.Status.PENDING:
        raise ValidationFailed(f"This {req.get_kind_display().lower()} is already “{req.get_status_display()}”.")
    if (
        action == "accept"
        and OccupiedNight.objects.filter(
            property_id=req.property_id, night__gte=req.check_in, night__lt=req.check_out
        ).exists()
    ):
        raise ValidationFailed("These dates are no longer free here: decline the request instead.")
    conn = req.connection
    try:
        answered = _adapter(conn).answer_request(req.code, action)
    except AdapterError as exc:
        AirbnbRequest.objects.filter(pk=req.pk).update(last_error=str(exc)[:500])
        if exc.code == "request_expired":
            AirbnbRequest.objects.filter(pk=req.pk).update(status=AirbnbRequest.Status.EXPIRED)
        raise DomainError(f"Airbnb did not take the answer: {exc}") from None
    status = {
        "accept": AirbnbRequest.Status.ACCEPTED,
        "decline": AirbnbRequest.Status.DECLINED,
        "pre_approve": AirbnbRequest.Status.PRE_APPROVED,
    }[action]
    booking_id = None
    error = ""
    if action == "accept":
        from .adapters.airbnb import reservation_from_json

        try:
            stay = reservation_from_json(answered or {}, action="request_accepted")
        except ValueError:
            stay = AirbnbStay(
                external_id=req.code,
                status="new",
                check_in=req.check_in,
                check_out=req.check_out,
                guests=req.guests,
                first_name=req.guest_name,
                total=req.total,
                currency=req.currency or "EUR",
                action="request_accepted",
            )
        result = reservation_apply(connection=conn, reservation=stay)
        booking_id = result.booking_id
        if result.refused:
            error = result.message
            alert_create(
                connection=conn,
                property_id=conn.property_id,
                kind=ChannelAlert.Kind.CONFLICT,
                message=f"Airbnb request {req.code} was accepted but the dates were taken meanwhile; it was "
                f"cancelled on Airbnb: {result.message}",
                details={"external_id": req.code},
            )
            _refuse_on_platform(conn, [(stay, result.message)])
    AirbnbRequest.objects.filter(pk=req.pk).update(
        status=status,
        booking_id=booking_id,
        last_error=error[:500],
        decided_by=user if getattr(user, "pk", None) else None,
        decided_at=timezone.now(),
    )
    req.refresh_from_db()
    return req

"""The Airbnb simulator: the partner API's shapes from PLATFORMS.md section 3, served under ``/sandbox/airbnb/``.

What the PMS calls (JSON; every ``v2`` call sends ``X-Airbnb-API-Key: <client id>`` and
``X-Airbnb-OAuth-Token: <access token>``):

- ``GET oauth2/auth`` – the consent page: the host signs in (simulator e-mail + password) and approves
  the app; the browser goes back to ``redirect_uri?code=...&state=...`` (``error=access_denied`` on "Deny").
- ``POST v2/oauth2/token`` – ``grant_type=authorization_code`` (code, redirect_uri) or ``refresh_token``,
  with ``client_id`` + ``client_secret``: ``{access_token, refresh_token, expires_in, user_id}``.
  Access tokens live ``AirbnbApp.access_token_ttl`` seconds; revoking a grant revokes every token.
- ``GET v2/listings`` (the token's host's listings), ``GET v2/listings/{id}``.
- ``POST v2/calendar_operations?_allow_dates_overlap=true`` – ``{"listing_id", "operations": [{"dates":
  ["YYYY-MM-DD:YYYY-MM-DD"], "availability", "available_count", "daily_price", "min_nights",
  "max_nights", "closed_to_arrival", "closed_to_departure"}]}``; ``GET v2/calendars/{listing_id}`` reads it.
- ``PUT/GET v2/pricing_settings/{id}`` and ``v2/availability_rules/{id}``.
- ``GET v2/reservations?listing_id=`` and ``GET v2/reservations/{code}`` (reconciliation).
- ``POST v2/reservations/{code}/{accept|decline|pre_approve|cancel}`` – the host answers a request to
  book or an inquiry, or cancels [INFERRED: Airbnb's host actions, our path names].
- Errors: ``{"error_code": <http status>, "error_type": "...", "error_message": "..."}`` (401
  ``invalid_token`` / ``expired_token``, 403 ``no_access``, 400 ``invalid_request``, 429
  ``rate_limited`` + ``Retry-After`` when the app exceeds ``rate_limit_per_minute``).

What it calls on the PMS (``AirbnbApp.pms_base_url``), as a guest's booking runs: ``GET
{pms}/reservations?action=check_availability&listing_id&start_date&nights`` -> ``PUT
{pms}/reservations/{code}`` -> ``POST {pms}/notifications`` (``reservation_acceptance_confirmation``);
alterations and cancellations are notifications, and so are ``reservation_request`` / ``inquiry``
[INFERRED], ``listings_unlinked``, ``authorization_revoked``, ``test_notification`` and the listing
status changes. Every call is signed [simulator scheme, PLATFORMS.md section 7]: ``X-Timestamp``,
``X-Signature: sha256=HMAC-SHA256(notification_secret, timestamp + "." + body)`` (for a GET the
"body" is the request's path and query string) and ``X-Event-Id``.

Faults (``SimFault`` rows with simulator ``airbnb``): latency, 5xx, 429 + Retry-After, timeout,
malformed body, down on the API; on the simulator's own calls to the PMS (``path_contains`` starting with
``pms:``, e.g. ``pms:PUT /reservations``): a bad signature (``malformed``), latency / timeout, not sent (``down``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.utils.html import format_html

from . import faults
from .models import SimFault
from .models.airbnb import (
    AirbnbApp,
    AirbnbAuthCode,
    AirbnbCalendarDay,
    AirbnbHost,
    AirbnbListing,
    AirbnbRateWindow,
    AirbnbReservation,
    AirbnbToken,
)

SIMULATOR = "airbnb"
PMS_TIMEOUT = 10.0
REQUEST_WINDOW = timedelta(hours=24)  # a host answers a request to book or an inquiry within this

simulator_view = faults.simulator_view(
    SIMULATOR, malformed=b'{"calendar_operations": [{"dat', malformed_type="application/json"
)


def api_error(status: int, error_type: str, message: str) -> JsonResponse:
    return JsonResponse({"error_code": status, "error_type": error_type, "error_message": message}, status=status)


def _json(request: HttpRequest) -> dict | None:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


# --- auth and rate limit -----------------------------------------------------------------------
def _rate_limited(app: AirbnbApp) -> HttpResponse | None:
    if not app.rate_limit_per_minute:
        return None
    now = timezone.now()
    minute = now.replace(second=0, microsecond=0)
    AirbnbRateWindow.objects.bulk_create([AirbnbRateWindow(app=app, minute=minute)], ignore_conflicts=True)
    AirbnbRateWindow.objects.filter(app=app, minute=minute).update(calls=F("calls") + 1)
    calls = AirbnbRateWindow.objects.filter(app=app, minute=minute).values_list("calls", flat=True).first() or 0
    if calls <= app.rate_limit_per_minute:
        return None
    response = api_error(429, "rate_limited", "Too many requests; try again later.")
    response["Retry-After"] = str(max(1, 60 - now.second))
    return response


def _authenticate(request: HttpRequest) -> tuple[AirbnbApp, AirbnbHost] | HttpResponse:
    app = AirbnbApp.objects.filter(client_id=request.headers.get("X-Airbnb-API-Key", "")).first()
    if app is None:
        return api_error(401, "invalid_api_key", "Missing or unknown X-Airbnb-API-Key.")
    limited = _rate_limited(app)
    if limited is not None:
        return limited
    token = (
        AirbnbToken.objects.filter(
            token=request.headers.get("X-Airbnb-OAuth-Token", "") or "-", kind=AirbnbToken.Kind.ACCESS, app=app
        )
        .select_related("host")
        .first()
    )
    if token is None or token.revoked_at is not None:
        return api_error(401, "invalid_token", "The OAuth token is invalid or has been revoked.")
    if token.expires_at is not None and token.expires_at <= timezone.now():
        return api_error(401, "expired_token", "The OAuth token has expired.")
    return app, token.host


def _own_listing(host: AirbnbHost, listing_id: Any) -> AirbnbListing | HttpResponse:
    listing = AirbnbListing.objects.filter(listing_id=str(listing_id or ""), host=host).first()
    if listing is None:
        return api_error(403, "no_access", "You do not have access to this listing.")
    if listing.unlinked:
        return api_error(403, "no_access", "This listing has been unlinked from the app.")
    return listing


def _issue_tokens(app: AirbnbApp, host: AirbnbHost, *, refresh: bool) -> dict[str, Any]:
    now = timezone.now()
    access = AirbnbToken.objects.create(
        token=secrets.token_urlsafe(32),
        kind=AirbnbToken.Kind.ACCESS,
        app=app,
        host=host,
        expires_at=now + timedelta(seconds=app.access_token_ttl),
    )
    out = {
        "access_token": access.token,
        "expires_in": app.access_token_ttl,
        "token_type": "bearer",
        "user_id": int(host.user_id),
    }
    if refresh:
        out["refresh_token"] = AirbnbToken.objects.create(
            token=secrets.token_urlsafe(40), kind=AirbnbToken.Kind.REFRESH, app=app, host=host
        ).token
    return out


# --- OAuth2 --------------------------------------------------------------------------------------
CONSENT_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Airbnb (simulator) – authorize</title>
<style>body{{font-family:sans-serif;max-width:30em;margin:3em auto}}label{{display:block;margin:.6em 0}}
input[type=email],input[type=password]{{width:100%}}.err{{color:#b00}}</style></head><body>
<h1>Airbnb simulator</h1><p><strong>{app}</strong> wants to manage your listings, calendars and reservations.</p>
<p class="err">{error}</p>
<form method="post">{hidden}
<label>E-mail <input type="email" name="email" value="{email}" required></label>
<label>Password <input type="password" name="password" required></label>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form></body></html>"""


def _redirect_with(uri: str, **params: str) -> HttpResponseRedirect:
    sep = "&" if urlsplit(uri).query else "?"
    response = HttpResponseRedirect(uri + sep + urlencode(params))
    return response


@simulator_view
def consent(request: HttpRequest) -> HttpResponse:
    """``GET/POST oauth2/auth?client_id&redirect_uri&response_type=code&state&scope``."""
    request.body  # noqa: B018 - read first: the request log wants the body after the form is parsed
    params = request.GET if request.method == "GET" else request.POST
    app = AirbnbApp.objects.filter(client_id=params.get("client_id", "")).first()
    redirect_uri = params.get("redirect_uri", "")
    if app is None or not app.redirect_allowed(redirect_uri):
        return HttpResponse("Unknown client_id or redirect_uri not registered.", status=400, content_type="text/plain")
    state = params.get("state", "")
    hidden = "".join(
        str(format_html('<input type="hidden" name="{}" value="{}">', k, params.get(k, "")))
        for k in ("client_id", "redirect_uri", "state", "scope", "response_type")
    )

    def page(error: str = "", email: str = "", status: int = 200) -> HttpResponse:
        html = CONSENT_PAGE.format(
            app=format_html("{}", app.name),
            error=format_html("{}", error),
            hidden=hidden,
            email=format_html("{}", email),
        )
        return HttpResponse(html, status=status)

    if request.method == "GET":
        return page()
    if request.method != "POST":
        return HttpResponse(status=405)
    if request.POST.get("decision") == "deny":
        return _redirect_with(redirect_uri, error="access_denied", state=state)
    email = request.POST.get("email", "").strip()
    host = AirbnbHost.objects.filter(email__iexact=email).first()
    if host is None or not hmac.compare_digest(host.password.encode(), request.POST.get("password", "").encode()):
        return page("Wrong e-mail or password.", email=email, status=401)
    code = AirbnbAuthCode.objects.create(
        code=secrets.token_urlsafe(24),
        app=app,
        host=host,
        redirect_uri=redirect_uri,
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    return _redirect_with(redirect_uri, code=code.code, state=state)


def grant_code(*, app: AirbnbApp, host: AirbnbHost, redirect_uri: str) -> str:
    """What the consent page does when the host approves (seed_demo and tests use it without a browser)."""
    return AirbnbAuthCode.objects.create(
        code=secrets.token_urlsafe(24),
        app=app,
        host=host,
        redirect_uri=redirect_uri,
        expires_at=timezone.now() + timedelta(minutes=10),
    ).code


def _oauth_error(status: int, error: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"error": error, "error_code": status, "error_type": error, "error_message": message}, status=status
    )


@simulator_view
def token(request: HttpRequest) -> HttpResponse:
    """``POST v2/oauth2/token`` (form or JSON body)."""
    if request.method != "POST":
        return HttpResponse(status=405)
    request.body  # noqa: B018 - read first: the request log wants the body after the form is parsed
    data = request.POST if request.POST else (_json(request) or {})
    app = AirbnbApp.objects.filter(client_id=str(data.get("client_id", ""))).first()
    if app is None or not hmac.compare_digest(app.client_secret.encode(), str(data.get("client_secret", "")).encode()):
        return _oauth_error(401, "invalid_client", "Unknown client or wrong client secret.")
    grant = data.get("grant_type")
    now = timezone.now()
    if grant == "authorization_code":
        with transaction.atomic():
            code = (
                AirbnbAuthCode.objects.select_for_update()
                .filter(code=str(data.get("code", "")), app=app)
                .select_related("host")
                .first()
            )
            if code is None or code.used_at is not None or code.expires_at <= now:
                return _oauth_error(400, "invalid_grant", "The authorization code is invalid, used or expired.")
            if code.redirect_uri != data.get("redirect_uri", ""):
                return _oauth_error(400, "invalid_grant", "redirect_uri does not match the authorization request.")
            code.used_at = now
            code.save(update_fields=["used_at"])
            return JsonResponse(_issue_tokens(app, code.host, refresh=True))
    if grant == "refresh_token":
        refresh = (
            AirbnbToken.objects.filter(
                token=str(data.get("refresh_token", "")) or "-", kind=AirbnbToken.Kind.REFRESH, app=app
            )
            .select_related("host")
            .first()
        )
        if refresh is None or refresh.revoked_at is not None:
            return _oauth_error(400, "invalid_grant", "The refresh token is invalid or the grant was revoked.")
        return JsonResponse(_issue_tokens(app, refresh.host, refresh=False))
    return _oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.")


# --- listings ----------------------------------------------------------------------------------
def listing_json(listing: AirbnbListing) -> dict[str, Any]:
    return {
        "id": int(listing.listing_id),
        "name": listing.name,
        "listing_currency": listing.listing_currency,
        "person_capacity": listing.person_capacity,
        "instant_bookable": listing.instant_book,
        "synchronization_category": listing.synchronization_category,
        "approval_status_category": listing.approval_status,
        "has_availability": True,
        "total_inventory_count": 1,
        "user_id": int(listing.host.user_id),
    }


@simulator_view
def listings(request: HttpRequest) -> HttpResponse:
    auth = _authenticate(request)
    if isinstance(auth, HttpResponse):
        return auth
    _, host = auth
    rows = AirbnbListing.objects.filter(host=host, unlinked=False).select_related("host").order_by("listing_id")
    return JsonResponse({"listings": [listing_json(x) for x in rows], "metadata": {"total_count": len(rows)}})


@simulator_view
def listing_detail(request: HttpRequest, listing_id: str) -> HttpResponse:
    auth = _authenticate(request)
    if isinstance(auth, HttpResponse):
        return auth
    listing = _own_listing(auth[1], listing_id)
    if isinstance(listing, HttpResponse):
        return listing
    return JsonResponse({"listing": listing_json(listing)})


# --- calendar ----------------------------------------------------------------------------------
def _lock_listing(listing_id: int) -> None:
    list(AirbnbListing.objects.filter(pk=listing_id).select_for_update())


def _span(text: Any) -> list[date]:
    first, _, last = str(text).partition(":")
    start, end = date.fromisoformat(first), date.fromisoformat(last or first)
    if end < start or (end - start).days > 730:
        raise ValueError("bad range")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


OPERATION_FIELDS = {
    "availability",
    "available_count",
    "daily_price",
    "min_nights",
    "max_nights",
    "closed_to_arrival",
    "closed_to_departure",
}


def _operation_fields(op: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "availability" in op:
        if op["availability"] not in ("available", "unavailable", "default"):
            raise ValueError("availability must be available, unavailable or default")
        out["availability"] = op["availability"]
    if "available_count" in op:
        count = int(op["available_count"])
        if count not in (0, 1):
            raise ValueError("available_count must be 0 or 1")
        out["available_count"] = count
    if "daily_price" in op:
        price = Decimal(str(op["daily_price"]))
        if not price.is_finite() or price < 0 or price > Decimal("1000000"):
            raise ValueError("daily_price out of range")
        out["daily_price"] = price
    for key in ("min_nights", "max_nights"):
        if key in op:
            value = None if op[key] in (None, "") else int(op[key])
            if value is not None and not 1 <= value <= 1125:
                raise ValueError(f"{key} out of range")
            out[key] = value
    for key in ("closed_to_arrival", "closed_to_departure"):
        if key in op:
            if not isinstance(op[key], bool):
                raise ValueError(f"{key} must be true or false")
            out[key] = op[key]
    return out


@simulator_view
def calendar_operations(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    auth = _authenticate(request)
    if isinstance(auth, HttpResponse):
        return auth
    data = _json(request)
    if data is None or not isinstance(data.get("operations"), list):
        return api_error(400, "invalid_request", "Body must be JSON with listing_id and operations.")
    listing = _own_listing(auth[1], data.get("listing_id"))
    if isinstance(listing, HttpResponse):
        return listing
    yesterday = timezone.localdate() - timedelta(days=1)
    updates: list[tuple[list[date], dict]] = []
    try:
        for op in data["operations"]:
            if not isinstance(op, dict) or not isinstance(op.get("dates"), list):
                raise ValueError("every operation needs a dates list")
            fields = _operation_fields(op)
            days = [d for span in op["dates"] for d in _span(span)]
            if days and min(days) < yesterday:
                return api_error(400, "invalid_date", "Dates in the past cannot be changed.")
            updates.append((days, fields))
    except (ValueError, TypeError, InvalidOperation) as exc:
        return api_error(400, "invalid_request", f"Invalid operation: {exc}")
    with transaction.atomic():
        _lock_listing(listing.pk)
        for days, fields in updates:
            if not fields or not days:
                continue
            existing = set(
                AirbnbCalendarDay.objects.filter(listing=listing, day__in=days).values_list("day", flat=True)
            )
            AirbnbCalendarDay.objects.bulk_create(
                [AirbnbCalendarDay(listing=listing, day=d) for d in days if d not in existing], ignore_conflicts=True
            )
            AirbnbCalendarDay.objects.filter(listing=listing, day__in=days).update(**fields, updated_at=timezone.now())
    return JsonResponse(
        {"calendar_operations": {"listing_id": int(listing.listing_id), "operations": len(updates)}, "succeed": True}
    )


def day_json(d: AirbnbCalendarDay, listing: AirbnbListing) -> dict[str, Any]:
    return {
        "date": d.day.isoformat(),
        "availability": "unavailable" if not d.open else "available",
        "available_count": 0 if not d.open else 1,
        "daily_price": float(d.daily_price if d.daily_price is not None else listing.default_daily_price),
        "min_nights": d.min_nights,
        "max_nights": d.max_nights,
        "closed_to_arrival": d.closed_to_arrival,
        "closed_to_departure": d.closed_to_departure,
        "reservation": d.booked_by or None,
    }


@simulator_view
def calendar(request: HttpRequest, listing_id: str) -> HttpResponse:
    auth = _authenticate(request)
    if isinstance(auth, HttpResponse):
        return auth
    listing = _own_listing(auth[1], listing_id)
    if isinstance(listing, HttpResponse):
        return listing
    try:
        start = date.fromisoformat(request.GET["start_date"])
        end = date.fromisoformat(request.GET["end_date"])
    except (KeyError, ValueError):
        return api_error(400, "invalid_request", "start_date and end_date (YYYY-MM-DD) are required.")
    rows = AirbnbCalendarDay.objects.filter(listing=listing, day__gte=start, day__lte=end).order_by("day")
    return JsonResponse(
        {"calendar": {"listing_id": int(listing.listing_id), "days": [day_json(d, listing) for d in rows]}}
    )


def _settings_view(request: HttpRequest, listing_id: str, field: str, allowed: set[str]) -> HttpResponse:
    auth = _authenticate(request)
    if isinstance(auth, HttpResponse):
        return auth
    listing = _own_listing(auth[1], listing_id)
    if isinstance(listing, HttpResponse):
        return listing
    if request.method == "PUT":
        data = _json(request)
        if data is None:
            return api_error(400, "invalid_request", "Body must be a JSON object.")
        unknown = sorted(set(data) - allowed)
        if unknown:
            return api_error(400, "invalid_request", f"Unknown fields: {', '.join(unknown)}.")
        setattr(listing, field, {**getattr(listing, field), **data})
        if field == "pricing_settings" and data.get("listing_currency"):
            listing.listing_currency = str(data["listing_currency"])[:3]
        listing.save()
    elif request.method != "GET":
        return HttpResponse(status=405)
    return JsonResponse({field.rstrip("s") if field.endswith("settings") else field: getattr(listing, field)})


PRICING_FIELDS = {
    "listing_currency",
    "default_daily_price",
    "cleaning_fee",
    "security_deposit",
    "guests_included",
    "price_per_extra_person",
    "weekend_price",
}
RULE_FIELDS = {"booking_lead_time", "max_days_notice", "default_min_nights", "default_max_nights", "turnover_days"}


@simulator_view
def pricing_settings(request: HttpRequest, listing_id: str) -> HttpResponse:
    return _settings_view(request, listing_id, "pricing_settings", PRICING_FIELDS)


@simulator_view
def availability_rules(request: HttpRequest, listing_id: str) -> HttpResponse:
    return _settings_view(request, listing_id, "availability_rules", RULE_FIELDS)


# --- reservations (reads and host actions) -----------------------------------------------------
def reservation_json(res: AirbnbReservation) -> dict[str, Any]:
    status_type = {
        AirbnbReservation.Status.ACCEPTED: "accepted",
        AirbnbReservation.Status.CANCELLED: "cancelled",
        AirbnbReservation.Status.PENDING: "pending",
        AirbnbReservation.Status.PRE_APPROVED: "pre_approved",
        AirbnbReservation.Status.DENIED: "denied",
    }.get(res.status, str(res.status))
    return {
        "confirmation_code": res.confirmation_code,
        "listing_id": int(res.listing.listing_id),
        "status_type": status_type,
        "reservation_type": res.kind,
        "start_date": res.start_date.isoformat(),
        "end_date": res.end_date.isoformat(),
        "nights": res.nights,
        "number_of_guests": res.number_of_guests,
        "guest_id": res.guest_id,
        "guest_first_name": res.guest_first_name,
        "guest_last_name": res.guest_last_name,
        "guest_email": res.guest_email,
        "guest_phone_numbers": [res.guest_phone] if res.guest_phone else [],
        "guest_preferred_locale": res.guest_locale,
        "guest_details": {"number_of_adults": res.number_of_guests, "number_of_children": 0, "number_of_infants": 0},
        "listing_base_price_accurate": float(res.listing_base_price),
        "listing_cleaning_fee_accurate": float(res.cleaning_fee),
        "listing_security_price_accurate": 0,
        "listing_host_fee_accurate": float(res.host_fee),
        "expected_payout_amount_accurate": float(res.payout),
        "listing_currency": res.currency,
        "alteration_version": res.alteration,
        "expires_at": res.expires_at.isoformat() if res.expires_at else None,
        "message": res.message,
    }


@simulator_view
def reservations(request: HttpRequest) -> HttpResponse:
    auth = _authenticate(request)
    if isinstance(auth, HttpResponse):
        return auth
    listing = _own_listing(auth[1], request.GET.get("listing_id"))
    if isinstance(listing, HttpResponse):
        return listing
    rows = AirbnbReservation.objects.filter(listing=listing).select_related("listing").order_by("start_date", "pk")
    if request.GET.get("start_date"):
        try:
            rows = rows.filter(start_date__gte=date.fromisoformat(request.GET["start_date"]) - timedelta(days=365))
        except ValueError:
            return api_error(400, "invalid_request", "start_date must be YYYY-MM-DD.")
    return JsonResponse({"reservations": [reservation_json(r) for r in rows]})


@simulator_view
def reservation_detail(request: HttpRequest, code: str) -> HttpResponse:
    auth = _authenticate(request)
    if isinstance(auth, HttpResponse):
        return auth
    res = (
        AirbnbReservation.objects.filter(confirmation_code=code, listing__host=auth[1])
        .select_related("listing")
        .first()
    )
    if res is None:
        return api_error(404, "not_found", "No such reservation.")
    return JsonResponse({"reservation": reservation_json(res)})


HOST_ACTIONS = {"accept", "decline", "pre_approve", "cancel"}


@simulator_view
def reservation_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    if action not in HOST_ACTIONS:
        return api_error(404, "not_found", "Unknown action.")
    auth = _authenticate(request)
    if isinstance(auth, HttpResponse):
        return auth
    res = (
        AirbnbReservation.objects.filter(confirmation_code=code, listing__host=auth[1])
        .select_related("listing")
        .first()
    )
    if res is None:
        return api_error(404, "not_found", "No such reservation.")
    if res.listing.unlinked:
        return api_error(403, "no_access", "This listing has been unlinked from the app.")
    data = _json(request) or {}
    S = AirbnbReservation.Status
    with transaction.atomic():
        _lock_listing(res.listing_id)
        res = AirbnbReservation.objects.select_related("listing").get(pk=res.pk)
        if action == "cancel":
            if res.status != S.ACCEPTED:
                return api_error(400, "invalid_request", f"A {res.status} reservation cannot be cancelled.")
            res.status = S.CANCELLED
            res.failure = str(data.get("reason", ""))[:500]
            res.save()
            _free(res)
            return JsonResponse({"reservation": reservation_json(res)})
        if res.status not in (S.PENDING, S.PRE_APPROVED):
            return api_error(400, "invalid_request", f"This {res.kind} is {res.status}; it cannot be answered.")
        if res.expires_at and res.expires_at <= timezone.now():
            res.status = S.EXPIRED
            res.save()
            return api_error(400, "request_expired", "The time to answer has passed.")
        if action == "decline":
            res.status = S.DENIED
            res.failure = str(data.get("reason", ""))[:500]
        elif action == "pre_approve":
            if res.kind != AirbnbReservation.Kind.INQUIRY:
                return api_error(400, "invalid_request", "Only inquiries are pre-approved.")
            res.status = S.PRE_APPROVED
        else:  # accept
            if res.kind != AirbnbReservation.Kind.REQUEST:
                return api_error(400, "invalid_request", "Only requests to book are accepted.")
            if not _days_open(res):
                return api_error(400, "dates_not_available", "The dates are no longer available.")
            res.status = S.ACCEPTED
            _occupy(res)
        res.save()
    return JsonResponse({"reservation": reservation_json(res)})


# --- calendar bookkeeping ------------------------------------------------------------------------
def _nights(res: AirbnbReservation) -> list[date]:
    return [res.start_date + timedelta(days=i) for i in range(res.nights)]


def _days_open(res: AirbnbReservation) -> bool:
    rows = {d.day: d for d in AirbnbCalendarDay.objects.filter(listing=res.listing, day__in=_nights(res))}
    return all(rows[d].open or rows[d].booked_by == res.confirmation_code if d in rows else True for d in _nights(res))


def _occupy(res: AirbnbReservation) -> None:
    days = _nights(res)
    existing = set(AirbnbCalendarDay.objects.filter(listing=res.listing, day__in=days).values_list("day", flat=True))
    AirbnbCalendarDay.objects.bulk_create(
        [AirbnbCalendarDay(listing=res.listing, day=d) for d in days if d not in existing], ignore_conflicts=True
    )
    AirbnbCalendarDay.objects.filter(listing=res.listing, day__in=days).update(booked_by=res.confirmation_code)


def _free(res: AirbnbReservation) -> None:
    AirbnbCalendarDay.objects.filter(listing=res.listing, booked_by=res.confirmation_code).update(booked_by="")


def nights_closed(listing: AirbnbListing, nights: list[date]) -> bool:
    rows = {d.day: d for d in AirbnbCalendarDay.objects.filter(listing=listing, day__in=nights)}
    return len(rows) == len(nights) and all(not rows[d].open for d in nights)


# --- calling the PMS -----------------------------------------------------------------------------
def signed_headers(*, secret: str, signed: bytes, event_id: str, timestamp: int | None = None) -> dict[str, str]:
    """The simulator's signature (PLATFORMS.md section 7): HMAC-SHA256 of ``timestamp + "." + signed``."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    sig = hmac.new(secret.encode(), ts.encode() + b"." + signed, hashlib.sha256).hexdigest()
    return {"X-Timestamp": ts, "X-Signature": f"sha256={sig}", "X-Event-Id": event_id}


class PmsCall:
    """One call to the PMS and what it answered (kept on the reservation's ``failure`` when it said no)."""

    def __init__(self, status: int, data: dict | None, error: str = "") -> None:
        self.status, self.data, self.error = status, data or {}, error

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 and not self.error

    def __repr__(self) -> str:
        return f"PmsCall({self.status}, {self.data}, {self.error!r})"


def _pms(
    app: AirbnbApp,
    method: str,
    path: str,
    *,
    params: dict | None = None,
    body: dict | None = None,
    event_id: str = "",
    secret: str | None = None,
) -> PmsCall:
    if not app.pms_base_url:
        return PmsCall(0, None, "The app has no PMS URL.")
    fault = _outbound_fault(f"pms:{method} {path}")
    if fault is not None:
        if fault.kind == SimFault.Kind.DOWN:
            return PmsCall(0, None, "fault: the call to the PMS was not sent")
        if fault.kind in (SimFault.Kind.LATENCY, SimFault.Kind.TIMEOUT):
            time.sleep(fault.latency_ms / 1000)
        if fault.kind == SimFault.Kind.MALFORMED:
            secret = "bad-signature-" + secrets.token_hex(4)  # the PMS must refuse it
    url = app.pms_base_url.rstrip("/") + path
    if params:
        url += "?" + urlencode(params)
    raw = json.dumps(body).encode() if body is not None else b""
    parts = urlsplit(url)
    signed = raw if body is not None else (parts.path + ("?" + parts.query if parts.query else "")).encode()
    headers = {
        "Content-Type": "application/json",
        **signed_headers(
            secret=app.notification_secret if secret is None else secret,
            signed=signed,
            event_id=event_id or secrets.token_hex(8),
        ),
    }
    try:
        response = requests.request(method, url, data=raw or None, headers=headers, timeout=PMS_TIMEOUT)
    except requests.RequestException as exc:
        return PmsCall(0, None, f"{type(exc).__name__}")
    try:
        data = response.json()
    except ValueError:
        data = None
    return PmsCall(response.status_code, data if isinstance(data, dict) else None)


def _outbound_fault(what: str) -> SimFault | None:
    """A fault on the simulator's own calls to the PMS: ``SimFault`` rows of simulator ``airbnb`` whose
    ``path_contains`` starts with ``pms:`` (e.g. ``pms:PUT /reservations``, ``pms:POST /notifications``,
    or just ``pms:``). ``malformed`` = a bad signature, ``latency`` / ``timeout`` = wait ``latency_ms``
    first, ``down`` = the call is not sent. The API's faults never touch these calls."""
    candidates = SimFault.objects.filter(simulator=SIMULATOR, active=True, path_contains__startswith="pms:").filter(
        Q(remaining__isnull=True) | Q(remaining__gt=0)
    )
    for fault in candidates.order_by("id"):
        if fault.path_contains not in what:
            continue
        if fault.remaining is None:
            SimFault.objects.filter(pk=fault.pk).update(hits=F("hits") + 1)
            return fault
        if SimFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1, hits=F("hits") + 1
        ):
            return fault
    return None


def notify(app: AirbnbApp, payload: dict, *, event_id: str = "", secret: str | None = None) -> PmsCall:
    """``POST {pms}/notifications`` with ``{"action": ...}``."""
    return _pms(app, "POST", "/notifications", body=payload, event_id=event_id, secret=secret)


def _app_for(listing: AirbnbListing) -> AirbnbApp | None:
    """The app the listing's host granted most recently (the PMS the listing is linked to)."""
    grant = (
        AirbnbToken.objects.filter(host=listing.host, kind=AirbnbToken.Kind.REFRESH, revoked_at__isnull=True)
        .select_related("app")
        .order_by("-created_at")
        .first()
    )
    return grant.app if grant else AirbnbApp.objects.order_by("pk").first()


def _priced(listing: AirbnbListing, start: date, nights: int) -> Decimal:
    days = [start + timedelta(days=i) for i in range(nights)]
    prices = dict(AirbnbCalendarDay.objects.filter(listing=listing, day__in=days).values_list("day", "daily_price"))
    return sum(((prices.get(d) or listing.default_daily_price) for d in days), Decimal("0"))


# --- guest actions (admin page, command, tests) -----------------------------------------------------
class GuestBookingRefused(Exception):
    def __init__(self, message: str, reservation: AirbnbReservation | None = None) -> None:
        super().__init__(message)
        self.reservation = reservation


def guest_books(
    *,
    listing: AirbnbListing,
    start_date: date,
    nights: int,
    guests: int = 2,
    first_name: str = "Ana",
    last_name: str = "Ruiz",
    email: str = "",
    kind: str = AirbnbReservation.Kind.INSTANT,
    message: str = "",
    force: bool = False,
    confirmation_code: str | None = None,
) -> AirbnbReservation:
    """A guest books ``listing`` (instant), sends a request to book, or an inquiry.

    Instant: the real sequence against the PMS – ``check_availability``, ``PUT reservations/{code}``,
    then the acceptance notification. A request or an inquiry is sent to the PMS as a notification and
    waits for the host. Unless ``force`` (to stage a race), the simulator's own calendar must be open."""
    if nights < 1 or nights > 365:
        raise GuestBookingRefused("nights must be 1-365")
    app = _app_for(listing)
    if app is None:
        raise GuestBookingRefused("No app is registered on the simulator.")
    with transaction.atomic():
        _lock_listing(listing.pk)
        res = AirbnbReservation(
            listing=listing,
            kind=kind,
            status=AirbnbReservation.Status.PENDING,
            start_date=start_date,
            nights=nights,
            number_of_guests=guests,
            guest_first_name=first_name,
            guest_last_name=last_name,
            guest_email=email or f"{first_name.lower()}.{secrets.token_hex(3)}@guest.airbnb.com",
            currency=listing.listing_currency,
            message=message,
        )
        if confirmation_code:
            res.confirmation_code = confirmation_code
        base = _priced(listing, start_date, nights)
        fee = Decimal(str((listing.pricing_settings or {}).get("cleaning_fee") or 0))
        res.listing_base_price, res.cleaning_fee = base, fee
        res.host_fee = ((base + fee) * Decimal("0.03")).quantize(Decimal("0.01"))
        if not force and not _days_open(res):
            raise GuestBookingRefused("The simulator's calendar is closed for some of these nights.")
        if kind != AirbnbReservation.Kind.INSTANT:
            res.expires_at = timezone.now() + REQUEST_WINDOW
        res.save()
    if kind == AirbnbReservation.Kind.INSTANT:
        return run_booking_sequence(res, app=app)
    action = "reservation_request" if kind == AirbnbReservation.Kind.REQUEST else "inquiry"
    call = notify(
        app, {"action": action, "reservation": reservation_json(res)}, event_id=f"{res.confirmation_code}:{action}"
    )
    if not call.ok:
        AirbnbReservation.objects.filter(pk=res.pk).update(
            failure=f"notification: HTTP {call.status} {call.error}"[:500]
        )
    return AirbnbReservation.objects.select_related("listing").get(pk=res.pk)


def run_booking_sequence(res: AirbnbReservation, *, app: AirbnbApp | None = None) -> AirbnbReservation:
    """check_availability -> PUT reservation -> acceptance notification (an instant booking, or a
    pre-approved inquiry that the guest books)."""
    app = app or _app_for(res.listing)
    code = res.confirmation_code
    check = _pms(
        app,
        "GET",
        "/reservations",
        params={
            "action": "check_availability",
            "listing_id": res.listing.listing_id,
            "start_date": res.start_date.isoformat(),
            "nights": res.nights,
        },
        event_id=f"{code}:check_availability",
    )
    if not check.ok or check.data.get("available") is not True:
        res.status = AirbnbReservation.Status.NOT_AVAILABLE
        res.failure = f"check_availability: HTTP {check.status} {json.dumps(check.data)[:300]} {check.error}".strip()
        res.save()
        return res
    body = {
        "confirmation_code": code,
        "listing_id": int(res.listing.listing_id),
        "start_date": res.start_date.isoformat(),
        "nights": res.nights,
        "number_of_guests": res.number_of_guests,
        "guest_id": res.guest_id,
        "guest_first_name": res.guest_first_name,
        "guest_last_name": res.guest_last_name,
        "listing_base_price": float(res.listing_base_price),
        "listing_cleaning_fee": float(res.cleaning_fee),
        "listing_currency": res.currency,
    }
    put = _pms(app, "PUT", f"/reservations/{code}", body=body, event_id=f"{code}:reservation")
    if not put.ok or put.data.get("succeed") is not True:
        res.status = AirbnbReservation.Status.REFUSED
        res.failure = f"PUT reservation: HTTP {put.status} {json.dumps(put.data)[:300]} {put.error}".strip()
        res.save()
        return res
    with transaction.atomic():
        _lock_listing(res.listing_id)
        res.status = AirbnbReservation.Status.ACCEPTED
        res.save()
        _occupy(res)
    call = notify(
        app,
        {"action": "reservation_acceptance_confirmation", "reservation": reservation_json(res)},
        event_id=f"{code}:reservation_acceptance_confirmation",
    )
    if not call.ok:
        AirbnbReservation.objects.filter(pk=res.pk).update(failure=f"acceptance notification: HTTP {call.status}")
    return AirbnbReservation.objects.select_related("listing").get(pk=res.pk)


def guest_alters(
    res: AirbnbReservation, *, start_date: date | None = None, nights: int | None = None, guests: int | None = None
) -> PmsCall:
    """The guest changes an accepted reservation (the host agreed): new dates, then the alteration
    notification."""
    with transaction.atomic():
        _lock_listing(res.listing_id)
        res = AirbnbReservation.objects.select_related("listing").get(pk=res.pk)
        _free(res)
        res.start_date = start_date or res.start_date
        res.nights = nights or res.nights
        res.number_of_guests = guests or res.number_of_guests
        res.listing_base_price = _priced(res.listing, res.start_date, res.nights)
        res.alteration += 1
        res.save()
        _occupy(res)
    return notify(
        _app_for(res.listing),
        {"action": "reservation_alteration_confirmation", "reservation": reservation_json(res)},
        event_id=f"{res.confirmation_code}:alteration:{res.alteration}",
    )


def guest_cancels(res: AirbnbReservation) -> PmsCall:
    with transaction.atomic():
        _lock_listing(res.listing_id)
        res = AirbnbReservation.objects.select_related("listing").get(pk=res.pk)
        res.status = AirbnbReservation.Status.CANCELLED
        res.save()
        _free(res)
    return notify(
        _app_for(res.listing),
        {"action": "reservation_cancellation_confirmation", "reservation": reservation_json(res)},
        event_id=f"{res.confirmation_code}:reservation_cancellation_confirmation",
    )


def host_revokes(*, host: AirbnbHost, app: AirbnbApp) -> PmsCall:
    """The host removes the app's access on Airbnb: every token dies, the PMS is told."""
    AirbnbToken.objects.filter(host=host, app=app, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return notify(
        app,
        {"action": "authorization_revoked", "host_id": int(host.user_id)},
        event_id=f"revoke:{host.user_id}:{int(time.time())}",
    )


def listings_unlink(*, listings: list[AirbnbListing]) -> PmsCall:
    AirbnbListing.objects.filter(pk__in=[x.pk for x in listings]).update(unlinked=True)
    return notify(
        _app_for(listings[0]),
        {"action": "listings_unlinked", "listing_ids": [int(x.listing_id) for x in listings]},
        event_id=f"unlink:{','.join(x.listing_id for x in listings)}:{int(time.time())}",
    )


def listing_status_change(*, listing: AirbnbListing, approval: str | None = None, sync: str | None = None) -> PmsCall:
    app = _app_for(listing)
    if approval is not None:
        AirbnbListing.objects.filter(pk=listing.pk).update(approval_status=approval)
        return notify(
            app,
            {
                "action": "listing_approval_status_changed",
                "listing_approval_status": {
                    "listing_id": int(listing.listing_id),
                    "approval_status_category": approval,
                    "notes": "",
                },
            },
        )
    AirbnbListing.objects.filter(pk=listing.pk).update(synchronization_category=sync)
    return notify(
        app,
        {
            "action": "listing_synchronization_settings_updated",
            "updates": [{"listing_id": int(listing.listing_id), "synchronization_category": sync}],
        },
    )


def app_register(
    *,
    client_id: str,
    client_secret: str,
    redirect_uris: list[str],
    pms_base_url: str,
    notification_secret: str,
    access_token_ttl: int = 3600,
    rate_limit_per_minute: int = 600,
) -> AirbnbApp:
    """Register (or update) the PMS's partner app on the simulator."""
    try:
        app, _ = AirbnbApp.objects.update_or_create(
            client_id=client_id,
            defaults={
                "client_secret": client_secret,
                "redirect_uris": "\n".join(redirect_uris),
                "pms_base_url": pms_base_url,
                "notification_secret": notification_secret,
                "access_token_ttl": access_token_ttl,
                "rate_limit_per_minute": rate_limit_per_minute,
            },
        )
    except IntegrityError:  # a concurrent twin registered it
        app = AirbnbApp.objects.get(client_id=client_id)
    return app


class SyncProbe:
    """The ``benchmark sync`` probe of this simulator (registry: ``apps.benchmarks.sync.SYNC_PROBES``)."""

    platform = SIMULATOR

    def connect(self, *, prop, tag: str, index: int, base_url: str):
        from apps.channels import airbnb as channel_airbnb
        from apps.channels.models import ChannelConnection

        config = channel_airbnb.app_config(sandbox=True)
        app = app_register(
            client_id=config.client_id,
            client_secret=config.client_secret,
            redirect_uris=[],
            pms_base_url="",
            notification_secret=config.notification_secret,
            access_token_ttl=24 * 3600,
            rate_limit_per_minute=0,
        )
        name = f"{tag}-{index}"
        host = AirbnbHost.objects.create(email=f"bench-{name}@airbnb.invalid", password=secrets.token_hex(8))
        listing = AirbnbListing.objects.create(host=host, name=f"Sync benchmark {name}", listing_currency=prop.currency)
        tokens = _issue_tokens(app, host, refresh=True)
        conn = ChannelConnection(
            property=prop,
            platform=SIMULATOR,
            external_property_id=listing.listing_id,
            base_url=f"{base_url}/sandbox/airbnb",
            auth_scheme=ChannelConnection.AuthScheme.TOKEN,
            username=host.user_id,
            token_expires_at=timezone.now() + timedelta(seconds=tokens["expires_in"]),
        )
        conn.set_secret("refresh_token", tokens["refresh_token"])
        conn.set_secret("access_token", tokens["access_token"])
        conn.save()
        return conn

    def nights_closed(self, *, connection, nights: list[date]) -> bool:
        listing = AirbnbListing.objects.filter(listing_id=connection.external_property_id).first()
        return listing is not None and nights_closed(listing, nights)


def first_open_start(listing: AirbnbListing, *, nights: int, after: int = 14) -> date:
    """The first arrival day, ``after`` days from today on, with ``nights`` nights open on the simulator's
    calendar (what a guest on Airbnb would see)."""
    start = timezone.localdate() + timedelta(days=after)
    closed = {
        d.day
        for d in AirbnbCalendarDay.objects.filter(listing=listing, day__gte=start, day__lt=start + timedelta(days=800))
        if not d.open
    }
    day = start
    for _ in range(730):
        if not any(day + timedelta(days=i) in closed for i in range(nights)):
            return day
        day += timedelta(days=1)
    raise GuestBookingRefused("No open stay of that length in the next two years.")

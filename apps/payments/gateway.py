"""The one place that talks to Stripe, through the official ``stripe`` SDK (v16, ``StripeClient``).

``STRIPE_API_BASE`` points the SDK at a local sandbox (``manage.py stripe_sandbox``); empty means the
real Stripe. Every call returns plain values (``Intent``, ``RefundResult``) so callers never depend
on SDK objects, and every Stripe error becomes a ``GatewayError`` (or ``CardDeclined``) with a
message fit for the person who caused the call.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings

from apps.core import limits
from apps.core.errors import DomainError

logger = logging.getLogger(__name__)


class GatewayError(DomainError):
    """Stripe refused or could not be reached. ``retryable`` when trying again later may work."""

    code = "payment_gateway_error"
    http_status = 502

    def __init__(self, message: str, *, retryable: bool = False, stripe_code: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retryable = retryable
        self.stripe_code = stripe_code


class CardDeclined(GatewayError):
    code = "card_declined"
    http_status = 402


class PaymentsNotConfigured(GatewayError):
    code = "payments_not_configured"
    http_status = 503


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    amount: int
    amount_received: int
    currency: str
    client_secret: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    error_code: str = ""
    decline_code: str = ""
    error_message: str = ""
    #: when the successful charge was made, if Stripe's answer carries it (else None)
    paid_at: datetime | None = None


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    amount: int


def _paid_at(data: dict[str, Any]) -> datetime | None:
    """The creation time of the intent's successful charge: ``latest_charge`` when expanded, or the
    ``charges`` list older API versions (and the sandbox) embed."""
    if data.get("status") != "succeeded":
        return None
    charge = data.get("latest_charge")
    charges = [charge] if isinstance(charge, dict) else list((data.get("charges") or {}).get("data") or [])
    times = [c.get("created") for c in charges if isinstance(c, dict) and c.get("status") == "succeeded"]
    times = [t for t in times if isinstance(t, int | float)]
    return datetime.fromtimestamp(max(times), tz=UTC) if times else None


def _intent(obj: Any) -> Intent:
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    error = data.get("last_payment_error") or {}
    amount_received = data.get("amount_received")
    if amount_received is None:
        amount_received = data["amount"] if data.get("status") == "succeeded" else 0
    return Intent(
        id=data["id"],
        status=data.get("status") or "",
        amount=int(data.get("amount") or 0),
        amount_received=int(amount_received),
        currency=(data.get("currency") or "").upper(),
        client_secret=data.get("client_secret") or "",
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        error_code=error.get("code") or "",
        decline_code=error.get("decline_code") or "",
        error_message=error.get("message") or "",
        paid_at=_paid_at(data),
    )


def _translate(exc: stripe.StripeError) -> GatewayError:
    code = getattr(exc, "code", None) or ""
    message = exc.user_message or "The payment provider refused the request."
    if isinstance(exc, stripe.CardError):
        decline = getattr(getattr(exc, "error", None), "decline_code", None) or ""
        return CardDeclined(message, stripe_code=code, details={"code": code, "decline_code": decline})
    retryable = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or (exc.http_status or 0) >= 500
    if retryable:
        message = "The payment provider cannot be reached right now. Please try again in a moment."
    return GatewayError(message, retryable=retryable, stripe_code=code, details={"code": code})


@functools.lru_cache(maxsize=8)
def _client(api_key: str, api_base: str, timeout: float, retries: int) -> stripe.StripeClient:
    kwargs: dict[str, Any] = {
        "max_network_retries": retries,
        "http_client": stripe.RequestsClient(timeout=timeout),
    }
    if api_base:
        kwargs["base_addresses"] = {"api": api_base}
    return stripe.StripeClient(api_key, **kwargs)


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentsNotConfigured("Online payment is not available right now (Stripe is not configured).")
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE.rstrip("/"),
        float(settings.STRIPE_TIMEOUT_SECONDS),
        int(settings.STRIPE_MAX_NETWORK_RETRIES),
    )


def payment_intent_create(
    *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str], description: str = ""
) -> Intent:
    params: dict[str, Any] = {
        "amount": amount,
        "currency": currency.lower(),
        "payment_method_types": ["card"],
        "metadata": metadata,
    }
    if description:
        params["description"] = description
    try:
        return _intent(client().v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key}))
    except stripe.StripeError as exc:
        raise _translate(exc) from exc


def payment_intent_retrieve(*, intent_id: str) -> Intent:
    try:
        return _intent(client().v1.payment_intents.retrieve(intent_id))
    except stripe.StripeError as exc:
        raise _translate(exc) from exc


def payment_intent_cancel(*, intent_id: str) -> Intent:
    try:
        return _intent(
            client().v1.payment_intents.cancel(intent_id, options={"idempotency_key": f"cancel-{intent_id}"})
        )
    except stripe.StripeError as exc:
        raise _translate(exc) from exc


def refund_create(
    *, intent_id: str, amount: int, idempotency_key: str, metadata: dict[str, str], reason: str = ""
) -> RefundResult:
    params: dict[str, Any] = {"payment_intent": intent_id, "amount": amount, "metadata": metadata}
    if reason:
        params["reason"] = reason
    try:
        obj = client().v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise _translate(exc) from exc
    data = obj.to_dict()
    return RefundResult(id=data["id"], status=data.get("status") or "", amount=int(data.get("amount") or amount))


def sandbox_confirm_with_card(*, intent_id: str, number: str, exp_month: int, exp_year: int, cvc: str) -> Intent:
    """Confirm a PaymentIntent server-side with raw card data. Sandbox only: the real Stripe takes
    card data from the Payment Element in the guest's browser, never from us."""
    if not (settings.STRIPE_SANDBOX and settings.STRIPE_API_BASE):
        raise PaymentsNotConfigured("The test card form is only available with the Stripe sandbox.")
    c = client()
    try:
        pm = c.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc},
            }
        )
        return _intent(c.v1.payment_intents.confirm(intent_id, params={"payment_method": pm.id}))
    except stripe.StripeError as exc:
        raise _translate(exc) from exc


#: Stripe's events nest a few levels (event > data > object > charges > data > ...); far deeper is not Stripe.
WEBHOOK_MAX_DEPTH = 32


def construct_event(*, payload: bytes, sig_header: str | None) -> dict[str, Any]:
    """Verify ``Stripe-Signature`` over the raw body and return the event as a dict.

    Raises ``stripe.SignatureVerificationError`` (bad or missing signature, stale timestamp) or
    ``ValueError`` (not JSON / not an event).
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    stripe.WebhookSignature.verify_header(payload, sig_header, secret, stripe.Webhook.DEFAULT_TOLERANCE)
    # Parsed by the limits' parser (deep nesting, huge integers, NaN are a ValueError, not a crash);
    # a signed body that is JSON but not an object (``null``, ``[]``) is refused too.
    try:
        event = limits.parse_json(payload, field="webhook body", max_depth=WEBHOOK_MAX_DEPTH)
    except limits.ValidationFailed as exc:
        raise ValueError(exc.message) from None
    if not isinstance(event, dict):
        raise ValueError("The webhook body is not a JSON object.")
    # NUL characters and lone surrogates cannot be stored by PostgreSQL: kept, marked with U+FFFD
    return limits.storable_json(event)

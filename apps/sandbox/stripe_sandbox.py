"""A local Stripe for the demo and the tests: ``localstripe`` (PyPI), patched where it lacks Stripe's behaviour.

``localstripe`` implements PaymentIntents, PaymentMethods, charges, refunds and signed webhooks
(``POST /_config/webhooks/<name>`` with ``url`` and ``secret``). What it lacks, and what
``patch_localstripe`` adds at startup (monkeypatching; site-packages is never edited):

- **State location.** It pickles its store to ``/tmp/localstripe.pickle``; we keep it in the file
  given to ``patch_localstripe`` (``var/stripe-sandbox/`` for the command) or in memory only (tests).
- **Stripe's test cards.** It declines 4000 0000 0000 0002 / 9995 / ... only when a card is attached
  to a customer; a PaymentIntent confirmed with them succeeded. Here they decline at confirmation
  as in Stripe (402 ``card_error`` with ``code``, ``decline_code`` and Stripe's message), and the
  PaymentIntent's ``last_payment_error`` carries the same fields.
- **Confirm with a payment method.** ``POST /v1/payment_intents/<id>/confirm`` with
  ``payment_method`` answered "500 Not implemented"; it now attaches the method and confirms, also
  after a failed attempt (status ``requires_payment_method``), as Stripe does. Confirming a
  PaymentIntent in a final state answers 400 ``payment_intent_unexpected_state``.
- **Parameters it refused** on PaymentIntent creation: ``description``, ``receipt_email``,
  ``automatic_payment_methods`` (accepted and kept or ignored), and ``reason`` on refunds.
- **Idempotency keys.** A POST repeated with the same ``Idempotency-Key`` answers the first response
  again (a different body with the same key is refused with 400 ``idempotency_error``).
- **amount_received** on PaymentIntents.

The server binds 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import pickle
import socket
import threading
import warnings
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: Stripe's test cards that fail at confirmation: number -> (code, decline_code, message).
DECLINING_CARDS: dict[str, tuple[str, str | None, str]] = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": ("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": ("expired_card", None, "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", None, "Your card's security code is incorrect."),
    "4000000000000119": (
        "processing_error",
        None,
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "4000000000000341": ("card_declined", "generic_decline", "Your card was declined."),
}

_patched = False
_state_file: Path | None = None
_idempotency: dict[str, tuple[str, int, bytes]] = {}


def _card_error_details(charge: Any) -> tuple[str, str | None, str]:
    from localstripe.resources import PaymentMethod

    try:
        pm = PaymentMethod._api_retrieve(charge.payment_method)
    except Exception:
        return ("card_declined", "generic_decline", "Your card was declined.")
    number = getattr(pm, "_card_number", "")
    return DECLINING_CARDS.get(number, ("card_declined", "generic_decline", "Your card was declined."))


def patch_localstripe(*, state_file: Path | None) -> None:
    """Apply the patches above (once per process) and keep state in ``state_file`` (None: memory)."""
    global _patched, _state_file
    _state_file = state_file
    if _patched:
        return
    from aiohttp import web

    with warnings.catch_warnings():
        # localstripe registers plain functions as handlers; aiohttp warns once per route.
        warnings.filterwarnings("ignore", message="Bare functions are deprecated", category=DeprecationWarning)
        from localstripe import resources, server
        from localstripe.errors import UserError

    # --- state file --------------------------------------------------------------------------
    def try_load_from_disk(self):
        if _state_file is None or not _state_file.exists():
            return
        with _state_file.open("rb") as fh:
            old = pickle.load(fh)  # noqa: S301 - our own file, written by this process
        self.clear()
        self.update(old)

    def dump_to_disk(self):
        if _state_file is None:
            return
        tmp = _state_file.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(dict(self), fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(_state_file)

    resources.Store.try_load_from_disk = try_load_from_disk
    resources.Store.dump_to_disk = dump_to_disk

    # --- test cards decline at confirmation ------------------------------------------------------
    original_charging_declined = resources.PaymentMethod._charging_is_declined

    def _charging_is_declined(self):
        if self.type == "card" and getattr(self, "_card_number", None) in DECLINING_CARDS:
            return True
        return original_charging_declined(self)

    resources.PaymentMethod._charging_is_declined = _charging_is_declined

    def _set_auth_failure(self):
        code, decline_code, message = _card_error_details(self)
        self.status = "failed"
        self.failure_code = code
        self.failure_message = message
        self.outcome = {"type": "issuer_declined", "reason": decline_code or code}
        self._decline_code = decline_code

    def _raise_failure(self):
        contents = {"code": self.failure_code, "charge": self.id}
        if getattr(self, "_decline_code", None):
            contents["decline_code"] = self._decline_code
        if self.payment_intent:
            contents["payment_intent"] = {"id": self.payment_intent}
        err = UserError(402, self.failure_message, contents)
        err.body["error"]["type"] = "card_error"
        raise err

    resources.Charge._set_auth_failure = _set_auth_failure
    resources.Charge._raise_failure = _raise_failure

    def last_payment_error(self):
        if self._authentication_failed:
            return {
                "type": "card_error",
                "code": "payment_intent_authentication_failure",
                "message": "The provided PaymentMethod has failed authentication.",
            }
        charge = self.latest_charge
        if charge is not None and charge.status == "failed":
            error = {
                "type": "card_error",
                "charge": charge.id,
                "code": charge.failure_code,
                "message": charge.failure_message,
                "payment_method": {"id": charge.payment_method},
            }
            if getattr(charge, "_decline_code", None):
                error["decline_code"] = charge._decline_code
            return error
        return None

    resources.PaymentIntent.last_payment_error = property(last_payment_error)

    def amount_received(self):
        return self.amount if self.status == "succeeded" else 0

    resources.PaymentIntent.amount_received = property(amount_received)

    # --- confirm with a payment method; clear errors on final states ------------------------------
    def _api_confirm(cls, id, payment_method=None, **kwargs):  # noqa: A002 - localstripe's signature
        kwargs.pop("return_url", None)
        kwargs.pop("use_stripe_sdk", None)
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        if not (isinstance(id, str) and id.startswith("pi_")):
            raise UserError(400, "Bad request")
        obj = cls._api_retrieve(id)
        if obj.status in ("succeeded", "canceled", "processing", "requires_capture"):
            err = UserError(
                400,
                f"You cannot confirm this PaymentIntent because it has a status of {obj.status}.",
                {"code": "payment_intent_unexpected_state"},
            )
            raise err
        if payment_method is not None:
            if not (isinstance(payment_method, str) and payment_method.startswith(("pm_", "card_", "src_"))):
                raise UserError(400, "Bad request")
            resources.PaymentMethod._api_retrieve(payment_method)  # 404 if unknown
            obj.payment_method = payment_method
            obj.latest_charge = None  # a new attempt (the failed charge stays in the store)
            obj._authentication_failed = False
            obj.next_action = None
        if obj.status != "requires_confirmation":
            raise UserError(
                400,
                "You cannot confirm this PaymentIntent because it has no payment method.",
                {"code": "payment_intent_unexpected_state"},
            )
        obj._confirm(on_failure_now=obj._report_failure)
        return obj

    resources.PaymentIntent._api_confirm = classmethod(_api_confirm)

    original_cancel = resources.PaymentIntent._api_cancel.__func__

    def _api_cancel(cls, id, **kwargs):  # noqa: A002
        kwargs.pop("cancellation_reason", None)
        obj = cls._api_retrieve(id) if isinstance(id, str) and id.startswith("pi_") else None
        if obj is not None and obj.status in ("succeeded", "canceled", "processing"):
            raise UserError(
                400,
                f"You cannot cancel this PaymentIntent because it has a status of {obj.status}.",
                {"code": "payment_intent_unexpected_state"},
            )
        return original_cancel(cls, id, **kwargs)

    resources.PaymentIntent._api_cancel = classmethod(_api_cancel)

    # --- parameters localstripe refused ----------------------------------------------------------
    original_pi_init = resources.PaymentIntent.__init__

    def pi_init(self, *args, description=None, receipt_email=None, automatic_payment_methods=None, **kwargs):
        original_pi_init(self, *args, **kwargs)
        self.description = description
        self.receipt_email = receipt_email

    resources.PaymentIntent.__init__ = pi_init

    original_refund_init = resources.Refund.__init__

    def refund_init(self, *args, reason=None, **kwargs):
        original_refund_init(self, *args, **kwargs)
        self.reason = reason

    resources.Refund.__init__ = refund_init

    # Re-point the routes: localstripe's router captured the old bound classmethods.
    replaced = {
        "/v1/payment_intents/{id}/confirm": resources.PaymentIntent._api_confirm,
        "/v1/payment_intents/{id}/cancel": resources.PaymentIntent._api_cancel,
    }
    for resource in server.app.router.resources():
        func = replaced.get(getattr(resource, "canonical", ""))
        if func is not None:
            for route in resource:
                route._handler = server.api_extra(func, resource.canonical)

    # --- idempotency keys --------------------------------------------------------------------------
    @web.middleware
    async def idempotency_middleware(request, handler):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        body = await request.read()
        fingerprint = hashlib.sha256(request.path.encode() + b"\n" + body).hexdigest()
        cached = _idempotency.get(key)
        if cached is not None:
            if cached[0] != fingerprint:
                return web.json_response(
                    {
                        "error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with the same parameters "
                            "they were first used with.",
                        }
                    },
                    status=400,
                )
            return web.Response(
                body=cached[2],
                status=cached[1],
                content_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        response = await handler(request)
        if isinstance(response, web.Response) and response.status < 500 and response.body is not None:
            _idempotency[key] = (fingerprint, response.status, bytes(response.body))
        return response

    @web.middleware
    async def inner_errors(request, handler):
        try:
            return await handler(request)
        except UserError as exc:
            return exc.to_response()

    # After auth; errors become responses inside it, so a declined card (402) is replayed too, as in Stripe.
    server.app.middlewares.append(idempotency_middleware)
    server.app.middlewares.append(inner_errors)
    _patched = True


# --- running ---------------------------------------------------------------------------------------


def register_webhook(*, name: str, url: str, secret: str, events: list[str] | None = None) -> None:
    from localstripe.webhooks import register_webhook as _register

    _register(name, url, secret, events)


def unregister_webhook(name: str) -> None:
    from localstripe import webhooks

    # Rebind instead of mutating: a delivery in the server's thread may be iterating the old dict.
    webhooks._webhooks = {k: v for k, v in webhooks._webhooks.items() if k != name}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StripeSandbox:
    """localstripe served from a background thread on 127.0.0.1 (tests; ``serve_forever`` for the command)."""

    def __init__(self, *, port: int = 0, state_file: Path | None = None) -> None:
        self.port = port or free_port()
        self.state_file = state_file
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _start(self) -> None:
        from aiohttp import web
        from localstripe import server

        patch_localstripe(state_file=self.state_file)
        server.store.try_load_from_disk()
        self._runner = web.AppRunner(server.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host="127.0.0.1", port=self.port, reuse_address=True)
        await site.start()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()
        for task in asyncio.all_tasks(self._loop):  # pending webhook deliveries
            task.cancel()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def start(self) -> StripeSandbox:
        patch_localstripe(state_file=self.state_file)  # imports localstripe in the caller's thread
        self._thread = threading.Thread(target=self._run, name="stripe-sandbox", daemon=True)
        self._thread.start()
        self._started.wait(timeout=15)
        if self._error is not None:
            raise RuntimeError(f"the Stripe sandbox did not start on {self.url}: {self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def flush(self) -> None:
        """Forget every object (tests)."""
        from localstripe.resources import store

        store.clear()
        _idempotency.clear()


def serve_forever(*, port: int, state_dir: Path, webhook_url: str = "", webhook_secret: str = "") -> None:
    """Run the sandbox in the foreground until interrupted (``manage.py stripe_sandbox``)."""
    from aiohttp import web
    from localstripe import server

    state_dir.mkdir(parents=True, exist_ok=True)
    patch_localstripe(state_file=state_dir / "localstripe.pickle")
    server.store.try_load_from_disk()
    if webhook_url and webhook_secret:
        register_webhook(name="pms", url=webhook_url, secret=webhook_secret)
        logger.info("webhooks go to %s", webhook_url)
    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.INFO)
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=access, print=None)

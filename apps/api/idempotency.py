"""``Idempotency-Key`` on POST, enforced by the database (unique (scope, key) + row state).

- first request with a key: a row is inserted (state ``in_progress``, committed at once) and the
  request holds a PostgreSQL session advisory lock on it while it runs; its response (status < 500)
  is stored (state ``completed``);
- a write links what it committed (``resource_type`` / ``resource_id``) to the row **in the write's
  own transaction** (``write_linked``), so the ledger and the booking commit together or not at all;
- the same key and the same method, path and body again: the stored response is replayed
  (header ``Idempotent-Replayed: true``), nothing runs twice;
- the first attempt committed its write but its answer was lost (the connection died while building
  the response or storing it, the process crashed): the retry gets the committed object as it
  stands now, with the status the first attempt would have answered (``Idempotent-Replayed: true``);
- the same key with a different body (or endpoint): 422 ``idempotency_key_reused``;
- the same key while the first request is still running (its session still holds the lock): 409
  ``idempotency_in_progress`` with ``Retry-After``;
- the first request failed before committing anything (a 5xx, a crash, its database session died):
  the key is free again at once, either deleted or taken over by a compare-and-swap update (never by
  two requests at once); a row whose lock holder cannot be told apart (older than
  ``IDEMPOTENCY_LOCK_SECONDS``) is taken over as a last resort. A request that was taken over can no
  longer link a write (its transaction rolls back).

The advisory lock is session level, so the database itself says whether the request that claimed a
key is still alive. (It needs a session per request: no PgBouncer transaction pooling in front.)
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from apps.core.db import retry_transaction

from .exceptions import ApiError
from .models import ApiToken, IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces (matched with fullmatch)
STORED_HEADERS = ("Location",)
#: advisory lock namespace (first int4 key) of Idempotency-Key claims; the second key is the row id
LOCK_NAMESPACE = 0x1DE4
RETRY_AFTER_SECONDS = 1

T = TypeVar("T")


@dataclass
class Claim:
    """The ledger row this request runs under."""

    record: IdempotencyRecord
    locked_at: datetime
    locked: bool = False  # this session holds the row's advisory lock


@dataclass
class Begun:
    """What ``begin`` decided: run the handler under ``claim``, send ``replay``, or rebuild the answer
    of the committed write ``recover`` (then ``claim`` completes the row)."""

    claim: Claim | None = None
    replay: Response | None = None
    recover: IdempotencyRecord | None = None


_current: contextvars.ContextVar[Claim | None] = contextvars.ContextVar("idempotency_claim", default=None)


def _scope(request) -> str:
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        return f"token:{auth.pk}"
    return f"user:{request.user.pk}"


def wants_idempotency(django_request) -> bool:
    return django_request.method == "POST" and HEADER in django_request.headers


def read_body(django_request) -> None:
    """Read the body before anything parses it, so it can be fingerprinted later."""
    try:
        django_request.body  # noqa: B018  (cached by Django; parsers then read a copy)
    except RequestDataTooBig:
        raise ApiError(status_code=413, code="request_too_large", message="The request body is too large.")
    except RawPostDataException:
        pass


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\n")
    digest.update(request.get_full_path().encode("utf-8", "replace"))
    digest.update(b"\n")
    try:
        digest.update(request._request.body)
    except RawPostDataException:
        digest.update(json.dumps(request.data, cls=JSONEncoder, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.response_status)
    for name, value in (record.response_headers or {}).items():
        response[name] = value
    response[REPLAY_HEADER] = "true"
    return response


# --- liveness: a session advisory lock per claimed row ---------------------------------------------


def _lock_args(record_id: int) -> list[int]:
    return [LOCK_NAMESPACE, int(record_id) % 2**31]


def _try_lock(record_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", _lock_args(record_id))
        return bool(cursor.fetchone()[0])


def _unlock(record_id: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", _lock_args(record_id))
    except (OperationalError, InterfaceError):
        pass  # the session is gone, and its locks with it


def _in_progress_error(key: str, message: str) -> ApiError:
    error = ApiError(status_code=409, code="idempotency_in_progress", message=message, details={"idempotency_key": key})
    error.retry_after = RETRY_AFTER_SECONDS
    return error


def begin(request) -> Begun:
    """Claim the request's key, or say what to answer instead. Raises ApiError for 400/409/422."""
    if request.method != "POST":
        return Begun()
    key = request.headers.get(HEADER)
    if key is None:
        return Begun()
    if not KEY_RE.fullmatch(key):
        raise ApiError(
            status_code=400,
            code="invalid_idempotency_key",
            message="Idempotency-Key must be 1-255 printable ASCII characters without spaces.",
        )
    scope = _scope(request)
    fingerprint = _fingerprint(request)
    for _ in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope,
                    key=key,
                    user=request.user,
                    method=request.method,
                    path=request.get_full_path()[:2000],
                    fingerprint=fingerprint,
                )
            claim = Claim(record=record, locked_at=record.locked_at)
            claim.locked = _try_lock(record.pk)
            return Begun(claim=claim)
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None:
            continue  # the other request failed and freed the key meanwhile: try to claim it again
        if existing.fingerprint != fingerprint:
            raise ApiError(
                status_code=422,
                code="idempotency_key_reused",
                message="This Idempotency-Key was already used with a different request body or endpoint.",
                details={"idempotency_key": key},
            )
        if existing.state == IdempotencyRecord.State.COMPLETED:
            return Begun(replay=_replay(existing))
        if existing.resource_id:
            # the first attempt committed its write; only its answer is missing
            return Begun(claim=Claim(record=existing, locked_at=existing.locked_at), recover=existing)
        holder_gone = _try_lock(existing.pk)
        stale = existing.locked_at < timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS)
        if holder_gone or stale:
            now = timezone.now()
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, state=IdempotencyRecord.State.IN_PROGRESS, locked_at=existing.locked_at, resource_id=""
            ).update(locked_at=now)
            if taken:
                existing.locked_at = now
                logger.warning(
                    "Idempotency-Key %s of %s taken over (%s)", key, scope, "holder gone" if holder_gone else "stale"
                )
                return Begun(claim=Claim(record=existing, locked_at=now, locked=holder_gone))
            if holder_gone:
                _unlock(existing.pk)
            continue  # linked, completed or taken over meanwhile: look again
        raise _in_progress_error(key, "A request with this Idempotency-Key is still being processed; retry shortly.")
    raise _in_progress_error(key, "A request with this Idempotency-Key is being retried concurrently; retry shortly.")


def activate(claim: Claim | None) -> contextvars.Token:
    return _current.set(claim)


def deactivate(token: contextvars.Token) -> None:
    _current.reset(token)


# --- linking a write to the request's key ------------------------------------------------------------


def link(obj: Any, *, status_code: int) -> None:
    """Record, inside the write's transaction, that this request committed ``obj`` (answered with
    ``status_code``). No key: nothing to do. Taken over by a retry meanwhile: 409, and the write's
    transaction rolls back."""
    claim = _current.get()
    if claim is None:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency.link() must run inside the transaction of the write")
    linked = IdempotencyRecord.objects.filter(
        pk=claim.record.pk,
        state=IdempotencyRecord.State.IN_PROGRESS,
        locked_at=claim.locked_at,
        resource_id="",
    ).update(resource_type=obj._meta.label_lower, resource_id=str(obj.pk), resource_status=status_code)
    if not linked:
        raise _in_progress_error(
            claim.record.key, "This request's Idempotency-Key was taken over by a retry; nothing was changed."
        )


def write_linked(func: Callable[[], T], *, status_code: int) -> T:
    """Run ``func`` (a service call that returns the model instance it wrote) and link its result to
    the request's Idempotency-Key in one transaction; deadlocks retry the whole."""

    @retry_transaction
    def run() -> T:
        with transaction.atomic():
            obj = func()
            link(obj, status_code=status_code)
        return obj

    return run()


def committed(claim: Claim) -> IdempotencyRecord | None:
    """After a failed attempt: the row again (on a fresh connection if this one died), if the write
    committed and linked itself to it."""

    def read() -> IdempotencyRecord | None:
        return IdempotencyRecord.objects.filter(pk=claim.record.pk).exclude(resource_id="").first()

    try:
        return _reconnecting(read)
    except (OperationalError, InterfaceError):
        return None


# --- finishing -------------------------------------------------------------------------------------


def _reconnecting(func: Callable[[], T]) -> T:
    """Run ``func``; if the database connection died under it, once more on a fresh connection."""
    try:
        return func()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        connection.close()
        return func()


def _storable(value: Any) -> Any:
    """PostgreSQL's jsonb refuses NUL characters (an error message may echo the client's input)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    return value


def finish(claim: Claim, response: Any) -> None:
    """Store the response for replays, or free the key after a server error; never raises (the
    client gets its answer even if the ledger cannot be written: a retry then recovers or re-runs)."""
    try:
        _reconnecting(lambda: _store(claim, response))
    except Exception:  # noqa: BLE001 - logged; the response stands
        logger.warning("Idempotency-Key %s: could not store the outcome", claim.record.key, exc_info=True)
    finally:
        release(claim)


def release(claim: Claim) -> None:
    """Give up the claim's advisory lock (idempotent)."""
    if claim.locked:
        claim.locked = False
        _unlock(claim.record.pk)


def _store(claim: Claim, response: Any) -> None:
    record = claim.record
    status_code = getattr(response, "status_code", 500)
    if status_code >= 500:
        # nothing committed (or the retry recovers what did): free the key, unless a write is linked
        IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS, locked_at=claim.locked_at, resource_id=""
        ).delete()
        return
    data = getattr(response, "data", None)
    body = _storable(json.loads(json.dumps(data, cls=JSONEncoder))) if data is not None else None
    headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS).update(
        state=IdempotencyRecord.State.COMPLETED,
        response_status=status_code,
        response_body=body,
        response_headers=headers,
        completed_at=timezone.now(),
    )

"""``Idempotency-Key`` on POST, enforced by the database (unique (scope, key) + row state).

- first request with a key: a row is inserted (state ``in_progress``, committed at once), the view
  runs, and its response (status < 500) is stored (state ``completed``);
- the same key and the same method, path and body again: the stored response is replayed
  (header ``Idempotent-Replayed: true``), nothing runs twice;
- the same key with a different body (or endpoint): 422 ``idempotency_key_reused``;
- the same key while the first request is still running: 409 ``idempotency_in_progress``;
- a 5xx (or a crash) frees the key again, so the client can retry;
- an ``in_progress`` row older than ``IDEMPOTENCY_LOCK_SECONDS`` (a worker died) is taken over by a
  compare-and-swap update, never by two requests at once.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .exceptions import ApiError
from .models import ApiToken, IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces (matched with fullmatch)
STORED_HEADERS = ("Location",)


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


def begin(request) -> tuple[IdempotencyRecord | None, Response | None]:
    """Claim the request's key. Returns (record to complete, None) or (None, response to replay);
    (None, None) when the request has no key. Raises ApiError for 400/409/422."""
    if request.method != "POST":
        return None, None
    key = request.headers.get(HEADER)
    if key is None:
        return None, None
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
            return record, None
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
            return None, _replay(existing)
        stale = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS)
        if existing.locked_at < stale:
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, state=IdempotencyRecord.State.IN_PROGRESS, locked_at=existing.locked_at
            ).update(locked_at=timezone.now())
            if taken:
                existing.refresh_from_db()
                return existing, None
        raise ApiError(
            status_code=409,
            code="idempotency_in_progress",
            message="A request with this Idempotency-Key is still being processed; retry shortly.",
            details={"idempotency_key": key},
        )
    raise ApiError(
        status_code=409,
        code="idempotency_in_progress",
        message="A request with this Idempotency-Key is being retried concurrently; retry shortly.",
        details={"idempotency_key": key},
    )


def _storable(value: Any) -> Any:
    """PostgreSQL's jsonb refuses NUL characters (an error message may echo the client's input)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    return value


def finish(record: IdempotencyRecord, response: Any) -> None:
    """Store the response for replays, or free the key after a server error."""
    status_code = getattr(response, "status_code", 500)
    if status_code >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS).delete()
        return
    data = getattr(response, "data", None)
    body = _storable(json.loads(json.dumps(data, cls=JSONEncoder))) if data is not None else None
    headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.COMPLETED,
        response_status=status_code,
        response_body=body,
        response_headers=headers,
        completed_at=timezone.now(),
    )

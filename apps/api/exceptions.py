"""One JSON shape for every API error: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import DomainError

logger = logging.getLogger(__name__)

#: seconds a client should wait after a 503 (a database connection or Redis that is unavailable)
UNAVAILABLE_RETRY_AFTER = 2

#: DRF exception class -> our stable error code.
CODES: dict[type, str] = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


class ApiError(exceptions.APIException):
    """An error raised by the API layer itself with an explicit code, status and details."""

    def __init__(self, *, status_code: int, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.message = message
        self.details = details or {}


def unavailable_dependency(exc: BaseException) -> tuple[str, str] | None:
    """(code, message) when ``exc`` means a backing service is unreachable for now, else None."""
    from apps.core.errors import unavailable_dependency as core_unavailable

    return core_unavailable(exc)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details if details is not None else {}}}


def _plain(detail: Any) -> Any:
    """ErrorDetail trees -> plain lists/dicts/strings."""
    if isinstance(detail, dict):
        return {str(k): _plain(v) for k, v in detail.items()}
    if isinstance(detail, list | tuple):
        return [_plain(v) for v in detail]
    return str(detail)


def _validation_message(details: Any) -> str:
    if isinstance(details, dict):
        parts = []
        for field, msgs in details.items():
            text = msgs[0] if isinstance(msgs, list) and msgs and isinstance(msgs[0], str) else "invalid"
            parts.append(f"{field}: {text}" if field != "non_field_errors" else text)
        if parts:
            return "Invalid input. " + "; ".join(parts[:5])
    if isinstance(details, list) and details and isinstance(details[0], str):
        return details[0]
    return "Invalid input."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception becomes the error shape (never an HTML page)."""
    if isinstance(exc, ApiError):
        response = Response(error_body(exc.error_code, exc.message, exc.details), status=exc.status_code)
        if getattr(exc, "retry_after", None):
            response["Retry-After"] = str(exc.retry_after)
        return response
    unavailable = unavailable_dependency(exc)
    if unavailable is not None:
        code, message = unavailable
        logger.warning("API answered 503: %s (%s)", message, type(exc).__name__)
        return Response(
            error_body(code, message, {"retry_after_seconds": UNAVAILABLE_RETRY_AFTER}),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
        )
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body("validation_error", _validation_message(details), details), status=400)
    if isinstance(exc, ProtectedError | RestrictedError):
        return Response(
            error_body("protected", "This object is still referenced (e.g. by bookings) and cannot be deleted."),
            status=409,
        )
    if isinstance(exc, DataError):
        return Response(error_body("invalid_input", "A value is out of range or not allowed."), status=400)
    if isinstance(exc, IntegrityError):
        return Response(error_body("conflict", "The change conflicts with existing data."), status=409)

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return Response(
            error_body("server_error", "Something went wrong on our side; the error was logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    code = next((c for cls, c in CODES.items() if isinstance(exc, cls)), None)
    code = code or getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        details = _plain(exc.detail)
        if not isinstance(details, dict):
            details = {"non_field_errors": details if isinstance(details, list) else [details]}
        message = _validation_message(details)
    else:
        details = {}
        message = str(exc.detail) if not isinstance(exc.detail, dict | list) else str(_plain(exc.detail))
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details = {"retry_after_seconds": int(exc.wait)}
    response.data = error_body(code, message, details)
    return response


@csrf_exempt
def not_found_view(request, *args: Any, **kwargs: Any) -> JsonResponse:
    """Catch-all for unknown paths under /api/: a JSON 404 in the error shape."""
    return JsonResponse(error_body("not_found", "No such API endpoint."), status=404)

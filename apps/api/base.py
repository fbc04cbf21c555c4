"""Shared plumbing of the API views: idempotent dispatch, owner scoping, query-parameter parsing."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rest_framework import exceptions, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.tenancy import can_manage_property

from . import idempotency

logger = logging.getLogger(__name__)

#: Dates the API accepts (keeps date arithmetic far away from date.min / date.max).
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)


class IdempotentDispatchMixin:
    """APIView.dispatch with the Idempotency-Key ledger around the handler (after authentication,
    permissions and throttling, so 401/403/429 never claim a key). Whatever fails, the answer is the
    JSON error shape, never Django's HTML error page."""

    def dispatch(self, request, *args: Any, **kwargs: Any):
        self.args = args
        self.kwargs = kwargs
        begun = idempotency.Begun()
        early_error = None
        if idempotency.wants_idempotency(request):
            try:
                idempotency.read_body(request)
            except Exception as exc:  # noqa: BLE001 - turned into the error shape below
                early_error = exc
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        token = idempotency.activate(None)
        try:
            try:
                self.initial(request, *args, **kwargs)
                if early_error is not None:
                    raise early_error
                begun = idempotency.begin(request)
                if begun.replay is not None:
                    response = begun.replay
                elif begun.recover is not None:
                    response = self.idempotent_recover(begun.recover)
                    response[idempotency.REPLAY_HEADER] = "true"
                else:
                    idempotency.activate(begun.claim)
                    if request.method.lower() in self.http_method_names:
                        handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
                    else:
                        handler = self.http_method_not_allowed
                    response = handler(request, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - DRF's own pattern
                response = self.handle_exception(exc)
            idempotency.activate(None)
            if begun.claim is not None and begun.recover is None and response.status_code >= 500:
                # the write may have committed before the failure (e.g. the connection died while
                # the answer was built): answer with what was committed
                record = idempotency.committed(begun.claim)
                if record is not None:
                    try:
                        response = self.idempotent_recover(record)
                    except Exception:  # noqa: BLE001 - keep the error; the client's retry recovers
                        logger.warning("could not rebuild the committed answer yet", exc_info=True)
            try:
                self.response = self.finalize_response(request, response, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - e.g. content negotiation on a broken request
                self.response = self.finalize_response(request, self.handle_exception(exc), *args, **kwargs)
            if begun.claim is not None:
                idempotency.finish(begun.claim, self.response)
            return self.response
        finally:
            idempotency.deactivate(token)
            if begun.claim is not None:
                idempotency.release(begun.claim)  # never leave the claim's lock on a pooled connection

    def idempotent_recover(self, record) -> Response:
        """The answer to a request whose write committed but whose response was lost: the object as it
        stands now. Views whose writes link themselves (``idempotency.write_linked``) provide
        ``idempotent_response(obj, status_code)``."""
        model = self.get_queryset().model if hasattr(self, "get_queryset") else None
        respond = getattr(self, "idempotent_response", None)
        if model is None or respond is None or record.resource_type != model._meta.label_lower:
            raise exceptions.APIException("This request's outcome cannot be rebuilt here.")
        obj = self.get_queryset().filter(pk=record.resource_id).first()
        if obj is None:
            raise exceptions.NotFound("What this request created is no longer visible to you.")
        return respond(obj, record.resource_status or 200)


class StableOrderingFilter(OrderingFilter):
    """``?ordering=`` with the primary key appended, so pages never overlap or skip rows."""

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view) or list(queryset.query.order_by) or []
        ordering = list(ordering)
        if not any(o.lstrip("-") in ("pk", "id") for o in ordering):
            ordering.append("-pk" if ordering and ordering[0].startswith("-") else "pk")
        return queryset.order_by(*ordering)


class ApiView(IdempotentDispatchMixin, APIView):
    pass


class ApiViewSet(IdempotentDispatchMixin, viewsets.GenericViewSet):
    """Base of every resource: its queryset is always ``Model.objects.visible_to(request.user)``."""

    lookup_value_regex = r"\d+"
    filter_backends = [StableOrderingFilter]

    def scoped_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        return self.scoped_queryset()

    def idempotent_response(self, obj, status_code: int) -> Response:
        """How a committed object is answered when its request is retried (``idempotent_recover``)."""
        serializer = self.get_serializer(obj)
        success_headers = getattr(self, "get_success_headers", None)  # CreateModelMixin's
        headers = success_headers(serializer.data) if status_code == 201 and success_headers else {}
        return Response(serializer.data, status=status_code, headers=headers)

    def ensure_can_manage(self, prop) -> None:
        if not can_manage_property(self.request.user, prop):
            raise exceptions.PermissionDenied("You may view this property but not change it.")


# --- query parameters --------------------------------------------------------------------------


def _raw(request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if "\x00" in value or len(value) > 200:
        raise exceptions.ValidationError({name: ["Invalid value."]})
    return value


def q_str(request, name: str) -> str | None:
    return _raw(request, name)


def q_date(request, name: str) -> date | None:
    value = _raw(request, name)
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise exceptions.ValidationError({name: ["Use a date in the form YYYY-MM-DD."]})
    if not MIN_DATE <= parsed <= MAX_DATE:
        raise exceptions.ValidationError({name: [f"The date must be between {MIN_DATE} and {MAX_DATE}."]})
    return parsed


def q_int(request, name: str, *, minimum: int = 0, maximum: int = 2**31 - 1) -> int | None:
    value = _raw(request, name)
    if value is None:
        return None
    try:
        parsed = int(value)
    except ValueError:
        raise exceptions.ValidationError({name: ["Must be a whole number."]})
    if not minimum <= parsed <= maximum:
        raise exceptions.ValidationError({name: [f"Must be between {minimum} and {maximum}."]})
    return parsed


def q_choice(request, name: str, choices: list[str] | tuple[str, ...]) -> str | None:
    value = _raw(request, name)
    if value is not None and value not in choices:
        raise exceptions.ValidationError({name: [f"Must be one of: {', '.join(choices)}."]})
    return value


def q_bool(request, name: str) -> bool | None:
    value = _raw(request, name)
    if value is None:
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise exceptions.ValidationError({name: ["Must be true or false."]})


def validate_api_date(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise exceptions.ValidationError(f"The date must be between {MIN_DATE} and {MAX_DATE}.")
    return value


def reject_nul(value: Any) -> Any:
    """JSON values must not contain NUL characters (PostgreSQL refuses them)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise exceptions.ValidationError("Null characters are not allowed.")
    elif isinstance(value, dict):
        for k, v in value.items():
            reject_nul(k)
            reject_nul(v)
    elif isinstance(value, list):
        for v in value:
            reject_nul(v)
    return value


class CurrencyAmountsMixin:
    """Amounts in the answer with the decimals their currency has: two as always, three for the
    three-decimal currencies (KWD, BHD, OMR, JOD, TND, ...), whose columns keep three since issue 11."""

    money_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        from decimal import Decimal

        from apps.core.money import minor_units

        data = super().to_representation(instance)
        currency = getattr(instance, "currency", "") or ""
        places = 3 if minor_units(currency) == 3 else 2
        for name in self.money_fields:
            value = getattr(instance, name, None)
            if name in data and value is not None:
                data[name] = f"{Decimal(value):.{places}f}"
        return data

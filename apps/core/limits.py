"""Limits at every entry, in one place.

The feed parser, admin forms, API serializers, storefront forms and every channel adapter's message
parser check what they accept with these functions, so a stay, a block, an amount or a name is
judged the same way wherever it enters. Each raises ``ValidationFailed`` (a ``DomainError``, a 4xx
everywhere) with a readable message and the field in ``details``.

Settings (documented in README, defaults in ``pms/settings.py``):
- ``MAX_STAY_NIGHTS``: longest stay or block (nights), default 365;
- ``MAX_DAYS_AHEAD``: how far ahead a stay or block may end, default 1096 (three years; Vrbo's
  availability document covers 1096 days);
- ``MAX_DAYS_PAST``: how far back a date may lie (channels report recent past stays), default 730;
- ``MAX_GUESTS``: party size, default 100;
- ``MAX_AMOUNT``: largest money amount, default 10,000,000 (per booking or line);
- ``MAX_JSON_DEPTH`` / ``MAX_JSON_BYTES``: structured input (addresses, rule conditions, API bodies).
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from .errors import ValidationFailed
from .money import ISO_4217, minor_units


def max_stay_nights() -> int:
    return int(settings.MAX_STAY_NIGHTS)


def max_days_ahead() -> int:
    return int(settings.MAX_DAYS_AHEAD)


def max_days_past() -> int:
    return int(settings.MAX_DAYS_PAST)


def max_guests() -> int:
    return int(settings.MAX_GUESTS)


def max_amount() -> Decimal:
    return Decimal(int(settings.MAX_AMOUNT))


def _fail(message: str, field: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field, **details})


def check_date(value: Any, *, field: str = "date", today: date | None = None) -> date:
    """A real date inside the sane window (``MAX_DAYS_PAST`` back, ``MAX_DAYS_AHEAD`` ahead)."""
    if not isinstance(value, date):
        raise _fail(f"{field} must be a date (YYYY-MM-DD).", field)
    today = today or timezone.localdate()
    if value < today - timedelta(days=max_days_past()):
        raise _fail(f"{field} {value.isoformat()} lies too far in the past.", field)
    if value > today + timedelta(days=max_days_ahead()):
        raise _fail(f"{field} {value.isoformat()} lies more than {max_days_ahead()} days ahead.", field)
    return value


def check_span(
    start: Any, end: Any, *, what: str = "stay", fields: tuple[str, str] = ("check_in", "check_out"), today=None
) -> tuple[date, date]:
    """A half-open date range (a stay or a block): end after start, at most ``MAX_STAY_NIGHTS``
    nights, both ends inside the sane window."""
    start = check_date(start, field=fields[0], today=today)
    end = check_date(end, field=fields[1], today=today)
    if end <= start:
        raise _fail(f"The {what} must end after it starts ({fields[1]} after {fields[0]}).", fields[1])
    nights = (end - start).days
    if nights > max_stay_nights():
        raise _fail(f"A {what} can be at most {max_stay_nights()} nights long (this one is {nights}).", fields[1])
    return start, end


def check_guests(value: Any, *, field: str = "guests") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            raise _fail(f"{field} must be a whole number.", field) from None
    if not 1 <= value <= max_guests():
        raise _fail(f"{field} must be between 1 and {max_guests()}.", field)
    return value


def check_currency(value: Any, *, field: str = "currency") -> str:
    code = str(value or "").strip().upper()
    if code not in ISO_4217:
        raise _fail(f"“{str(value)[:20]}” is not an ISO 4217 currency code (e.g. EUR).", field)
    return code


def check_amount(value: Any, *, currency: str, field: str = "amount", allow_negative: bool = False) -> Decimal:
    """A finite amount, representable in ``currency``'s minor unit, within ``MAX_AMOUNT``."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise _fail(f"{field} must be a number.", field) from None
    if not amount.is_finite():
        raise _fail(f"{field} must be a finite number.", field)
    if abs(amount) > max_amount():
        raise _fail(f"{field} is larger than {max_amount()}.", field)
    if amount < 0 and not allow_negative:
        raise _fail(f"{field} cannot be negative.", field)
    places = minor_units(check_currency(currency))
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places and amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise _fail(f"{field} has more decimals than {currency} allows ({places}).", field)
    return amount


def check_text(value: Any, *, max_length: int, field: str, required: bool = False) -> str:
    """Text that fits its column: no NUL characters, not longer than ``max_length``."""
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise _fail(f"{field} contains a NUL character.", field)
    if len(text) > max_length:
        raise _fail(f"{field} is longer than {max_length} characters.", field)
    if required and not text.strip():
        raise _fail(f"{field} is required.", field)
    return text


def check_single_line(value: Any, *, max_length: int, field: str, required: bool = False) -> str:
    """A name or subject: like ``check_text`` but no line breaks (they break e-mail headers)."""
    text = check_text(value, max_length=max_length, field=field, required=required)
    if "\r" in text or "\n" in text:
        raise _fail(f"{field} must be a single line.", field)
    return text


def json_depth(value: Any, *, limit: int) -> int:
    """Depth of a parsed JSON value, without recursion (stops counting past ``limit``)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def check_json(value: Any, *, field: str, max_depth: int | None = None, max_bytes: int | None = None) -> Any:
    """Structured input (an address, rule conditions): bounded depth and size, finite numbers,
    integers of sane size."""
    max_depth = max_depth or int(settings.MAX_JSON_DEPTH)
    max_bytes = max_bytes or int(settings.MAX_JSON_BYTES)
    if json_depth(value, limit=max_depth) > max_depth:
        raise _fail(f"{field} is nested too deeply (at most {max_depth} levels).", field)
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
            stack.extend(item.keys())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > 10**15:
                raise _fail(f"{field} holds a number that is too large.", field)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _fail(f"{field} holds a number that is not finite.", field)
        elif isinstance(item, str):
            if "\x00" in item:
                raise _fail(f"{field} contains a NUL character.", field)
    try:
        size = len(json.dumps(value, ensure_ascii=False).encode())
    except (TypeError, ValueError):
        raise _fail(f"{field} is not valid JSON data.", field) from None
    if size > max_bytes:
        raise _fail(f"{field} is larger than {max_bytes} bytes.", field)
    return value


def storable_text(text: str) -> str:
    """Text PostgreSQL can store: NUL characters and lone surrogates (``\\ud800`` in JSON) become U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def storable_json(value: Any) -> Any:
    """A parsed JSON value (depth already bounded) with every string made storable (``storable_text``)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(v) for v in value]
    return value


def parse_json(raw: bytes | str, *, field: str = "body", max_depth: int | None = None) -> Any:
    """``json.loads`` that never raises anything but ``ValidationFailed``: not UTF-8, not JSON, nested
    deeper than ``max_depth`` (default ``MAX_JSON_DEPTH``; Python's own parser gives up with a
    RecursionError near 1000 levels), integers with thousands of digits, NaN/Infinity."""
    max_depth = max_depth or int(settings.MAX_JSON_DEPTH)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
    except UnicodeDecodeError:
        raise _fail(f"{field} is not UTF-8.", field) from None
    if raw_json_depth(text) > max_depth:
        raise _fail(f"{field} is nested too deeply (at most {max_depth} levels).", field)
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError, TypeError) as exc:
        raise _fail(f"{field} is not valid JSON: {str(exc)[:100]}", field) from None


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is too large")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_JSON_SPECIAL = re.compile(r'[\[\]{}"\\]')


def raw_json_depth(text: str) -> int:
    """Nesting depth of JSON text, counted before parsing (strings skipped; linear time), so a body of
    100,000 opening brackets is refused cheaply instead of exhausting the parser's stack."""
    depth = deepest = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_SPECIAL.finditer(text):
        pos, char = match.start(), match.group()
        if in_string:
            if pos == escaped_at:
                continue
            if char == "\\":
                escaped_at = pos + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


#: Most amenities a property may list (the API and the admin alike).
MAX_AMENITIES = 100


def validation_error(exc: ValidationFailed) -> ValidationError:
    """A ``ValidationFailed`` from these checks as Django's ``ValidationError`` on its field (for
    ``Model.clean`` and forms)."""
    field = exc.details.get("field")
    return ValidationError({field: exc.message} if field else exc.message)


class LimitedJSONField(forms.JSONField):
    """The admin's JSON field: parsed by ``parse_json`` (deep nesting, 10,000-digit integers and NaN are
    a form error, not a 500) and checked by ``check_json``."""

    def to_python(self, value):
        if self.disabled or value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        try:
            parsed = parse_json(value, field="This field")
            check_json(parsed, field="This field")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None
        return super().to_python(json.dumps(parsed))

    def bound_data(self, data, initial):
        if self.disabled or data is None or not isinstance(data, str):
            return super().bound_data(data, initial)
        try:  # the form shown again with the error must not re-parse what could not be parsed
            parse_json(data, field="This field")
        except ValidationFailed:
            return forms.fields.InvalidJSONInput(data)
        return super().bound_data(data, initial)

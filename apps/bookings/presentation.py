"""How a booking reads to its guest, in the active language: price lines and stay times.

Shared by the guest pages (``apps.storefront``) and the guest e-mails (``apps.bookings.emails``), so
both show the same breakdown; it sits in the bookings app because the e-mails (domain) must not
reach up into the storefront (interface).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.core.money import format_money
from apps.properties.models import Property

#: Labels of known price lines, translated at render time (the snapshot keeps the English label).
_LINE_LABELS = {
    "cleaning_fee": lambda: _("Cleaning fee"),
    "extra_guest_fee": lambda: _("Extra-guest fee"),
    "tax_percentage": lambda: _("Tax"),
    "tax_per_person_night": lambda: _("Tourist tax"),
    "length_of_stay": lambda: _("Length-of-stay discount"),
    "last_minute": lambda: _("Last-minute discount"),
}

#: Common names owners give their rules (and the demo's), shown in the guest's language; any other
#: name is shown as the owner wrote it.
_COMMON_RULE_NAMES = {
    "weekend": lambda: _("Weekend"),
    "summer season": lambda: _("Summer season"),
    "high season": lambda: _("High season"),
    "low season": lambda: _("Low season"),
    "weekly discount": lambda: _("Weekly discount"),
    "monthly discount": lambda: _("Monthly discount"),
    "last minute": lambda: _("Last-minute discount"),
    "last-minute discount": lambda: _("Last-minute discount"),
    "tourist tax": lambda: _("Tourist tax"),
    "city tax": lambda: _("City tax"),
    "vat": lambda: _("VAT"),
    "cleaning fee": lambda: _("Cleaning fee"),
    "extra guests": lambda: _("Extra-guest fee"),
}


def line_label(label: str) -> str:
    """A rule's or fee's name in the guest's language when it is a common one."""
    make = _COMMON_RULE_NAMES.get(str(label).strip().casefold())
    return make() if make else label


def _dec(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


def price_lines(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A readable breakdown of a quote dict (``Quote.as_dict()`` / ``Booking.price_snapshot``)."""
    if not snapshot:
        return {"lines": [], "total": None, "currency": ""}
    nights = snapshot.get("nights") or []
    lines: list[dict[str, Any]] = []
    if nights:
        # The nights line is the nights' own prices: the stay discounts follow as lines of their own
        # (``rent`` in the snapshot is after them), so the lines always add up to the total.
        finals = [_dec(n.get("final")) for n in nights]
        amount = sum((f or Decimal(0) for f in finals), Decimal(0))
        same = len(set(finals)) == 1
        n = len(nights)
        if same and finals[0] is not None:
            label = ngettext("%(price)s × %(n)s night", "%(price)s × %(n)s nights", n) % {
                "price": format_money(finals[0], snapshot.get("currency", "")),
                "n": n,
            }
        else:
            label = ngettext("%(n)s night", "%(n)s nights", n) % {"n": n}
        lines.append({"label": label, "amount": amount, "code": "rent"})
    for group in ("stay_adjustments", "fees", "taxes"):
        for item in snapshot.get(group) or []:
            if not isinstance(item, dict):
                continue
            amount = _dec(item.get("amount"))
            if amount is None:
                continue
            code = item.get("code") or item.get("rule_type") or ""
            make = _LINE_LABELS.get(code)
            label = item.get("label") or item.get("name") or ""
            label = line_label(label) if label else (make() if make else code)
            lines.append({"label": label, "amount": amount, "code": code, "group": group})
    return {"lines": lines, "total": _dec(snapshot.get("total")), "currency": snapshot.get("currency", "")}


@dataclass(frozen=True)
class StayTimes:
    check_in_at: datetime  # naive, in the property's time zone
    check_out_at: datetime
    timezone: str


def stay_times(*, prop: Property, check_in: date, check_out: date) -> StayTimes:
    return StayTimes(
        check_in_at=datetime.combine(check_in, prop.check_in_time),  # noqa: DTZ001 - property-local, shown as such
        check_out_at=datetime.combine(check_out, prop.check_out_time),  # noqa: DTZ001
        timezone=prop.timezone,
    )


def stay_times_utc(*, prop: Property, check_in: date, check_out: date) -> tuple[datetime, datetime]:
    start = datetime.combine(check_in, prop.check_in_time, tzinfo=prop.tz)
    end = datetime.combine(check_out, prop.check_out_time, tzinfo=prop.tz)
    return start.astimezone(UTC), end.astimezone(UTC)

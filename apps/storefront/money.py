"""Money as guests read it, in the active language: "€1,200.00" in English, "1.200,00 €" in German."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats
from django.utils.translation import get_language

from apps.core.money import minor_units

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF", "JPY": "¥"}


def format_money(amount: Any, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    places = minor_units(currency) if currency else 2
    sign = "−" if value < 0 else ""
    value = abs(value)
    number = formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
    symbol = SYMBOLS.get(currency, currency)
    if (get_language() or "en").startswith("de"):
        return f"{sign}{number}\u00a0{symbol}".strip()
    if len(symbol) > 1:
        return f"{sign}{symbol}\u00a0{number}"
    return f"{sign}{symbol}{number}"

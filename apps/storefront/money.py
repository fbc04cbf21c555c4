"""Money as guests read it, in the active language (``apps.core.money.format_money``)."""

from apps.core.money import SYMBOLS, format_money

__all__ = ["SYMBOLS", "format_money"]

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from apps.storefront.money import format_money

register = template.Library()


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """``{{ amount|money:currency }}`` in the active language's format."""
    return format_money(amount, currency or "")


@register.simple_tag
def site_name() -> str:
    return settings.STOREFRONT_NAME


@register.filter
def stars(rating: Any) -> str:
    try:
        n = max(0, min(5, round(float(rating))))
    except (TypeError, ValueError):
        return ""
    return "★" * n + "☆" * (5 - n)


@register.filter
def amenity_label(value: str) -> str:
    from apps.storefront.selectors import amenity_label as label

    return label(value)

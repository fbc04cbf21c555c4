"""Money helpers: ISO 4217 currencies and rounding to a currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import get_language

# Active ISO 4217 codes (2024). Minor units are 2 unless listed in ZERO_DECIMAL / THREE_DECIMAL.
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
    GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
    KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
    NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES
    VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    """.split()
)
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD IQD JOD KWD LYD OMR TND".split())

CURRENCY_CHOICES = [(code, code) for code in sorted(ISO_4217)]


def validate_currency(value: str) -> None:
    if value not in ISO_4217:
        raise ValidationError(f"“{value}” is not an ISO 4217 currency code (e.g. EUR, USD, GBP).", code="currency")


def minor_units(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit (half up, as invoices do)."""
    return Decimal(amount).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Amount in the currency's smallest unit (what Stripe expects)."""
    return int(round_money(amount, currency).scaleb(minor_units(currency)))


def from_minor(amount: int, currency: str) -> Decimal:
    return round_money(Decimal(amount).scaleb(-minor_units(currency)), currency)


# --- Stripe's minor units (https://docs.stripe.com/currencies), which are not ISO 4217's -------------
#: Zero-decimal for Stripe: the amount is in whole units (MGA too, although ISO gives it 2 decimals).
STRIPE_ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF".split())
#: Zero-decimal in ISO 4217 but sent to Stripe as two-decimal amounts ending in 00 (backwards compatibility).
STRIPE_WHOLE_TWO_DECIMAL = frozenset("ISK UGX".split())
#: Three-decimal: sent in thousandths, and the last digit must be 0 (a multiple of 10).
STRIPE_THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND IQD LYD".split())
# HUF and TWD are two-decimal for charges (only their payouts must be whole units): the default.


def stripe_exponent(currency: str) -> int:
    currency = currency.upper()
    if currency in STRIPE_ZERO_DECIMAL:
        return 0
    if currency in STRIPE_THREE_DECIMAL:
        return 3
    return 2


def stripe_chargeable(amount: Decimal, currency: str) -> Decimal:
    """``amount`` as Stripe can charge it: whole units for zero-decimal (and ISK/UGX), hundredths for
    two-decimal, hundredths too for three-decimal currencies (thousandths whose last digit is 0).
    Half up, as ``round_money``."""
    currency = currency.upper()
    if currency in STRIPE_ZERO_DECIMAL or currency in STRIPE_WHOLE_TWO_DECIMAL:
        step = Decimal(1)
    else:
        step = Decimal("0.01")
    return Decimal(amount).quantize(step, rounding=ROUND_HALF_UP)


def to_stripe_minor(amount: Decimal, currency: str) -> int:
    """The integer amount a Stripe API call takes (``amount`` of a PaymentIntent, a refund)."""
    return int(stripe_chargeable(amount, currency).scaleb(stripe_exponent(currency)))


def from_stripe_minor(amount: int, currency: str) -> Decimal:
    """An integer amount from Stripe back in currency units, rounded to the currency's ISO minor unit."""
    return round_money(Decimal(int(amount)).scaleb(-stripe_exponent(currency)), currency)


# --- money as people read it, in the active language: "€1,200.00" (en), "1.200,00 €" (de) ---------
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

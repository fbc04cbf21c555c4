"""Cancellation policies: what a guest gets back when they cancel a paid direct booking.

Each property has one policy (``Property.cancellation_policy``). The deadlines count back from the
property's check-in time on the arrival day, on the property's wall clock (``tier_deadlines``, the one
function behind the refund and the dates guests are shown; "5 days before" a 15:00 check-in is 15:00,
also across a daylight-saving change) (a stay on 14 May at a
15:00 check-in in Europe/Berlin starts at 2026-05-14 15:00 Berlin time). The refund is a share of
what the guest paid (minus anything already refunded), rounded to the currency's minor unit,
half up.

- **Flexible**: full refund if cancelled at least 24 hours before check-in; no refund after that.
- **Moderate**: full refund if cancelled at least 5 days before check-in; 50 % if cancelled at
  least 24 hours before check-in; no refund after that.
- **Strict**: full refund if cancelled within 48 hours of booking, provided check-in is still at
  least 14 days away; 50 % if cancelled at least 7 days before check-in; no refund after that.

Nothing is refunded once the check-in time has passed. A booking that was never paid (a hold)
has nothing to refund. Bookings from channels are refunded on the platform, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from apps.core.money import round_money

FLEXIBLE = "flexible"
MODERATE = "moderate"
STRICT = "strict"

FULL = Decimal("1")
HALF = Decimal("0.5")
NONE = Decimal("0")


@dataclass(frozen=True)
class Tier:
    """Cancelling at least ``before`` ahead of check-in refunds ``share`` of the amount paid."""

    before: timedelta
    share: Decimal


@dataclass(frozen=True)
class Policy:
    code: str
    tiers: tuple[Tier, ...]  # most generous first
    #: Strict: full refund within this long after booking, if check-in is at least ``grace_min_lead`` away.
    grace: timedelta | None = None
    grace_min_lead: timedelta | None = None


POLICIES: dict[str, Policy] = {
    FLEXIBLE: Policy(FLEXIBLE, (Tier(timedelta(hours=24), FULL),)),
    MODERATE: Policy(MODERATE, (Tier(timedelta(days=5), FULL), Tier(timedelta(hours=24), HALF))),
    STRICT: Policy(
        STRICT,
        (Tier(timedelta(days=7), HALF),),
        grace=timedelta(hours=48),
        grace_min_lead=timedelta(days=14),
    ),
}


def get_policy(code: str) -> Policy:
    try:
        return POLICIES[code]
    except KeyError:
        raise ValueError(f"Unknown cancellation policy “{code}” (flexible, moderate or strict).") from None


def check_in_at(*, check_in: date, check_in_time: time, tz) -> datetime:
    """The aware instant a stay starts (the property's check-in time on the arrival day)."""
    return datetime.combine(check_in, check_in_time, tzinfo=tz)


@dataclass(frozen=True)
class Deadline:
    """Cancelling at or before ``at`` (an aware instant, in the property's time zone) refunds ``share``."""

    at: datetime
    share: Decimal


def before_check_in(starts_at: datetime, before: timedelta, tz=None) -> datetime:
    """``before`` ahead of ``starts_at`` on the property's wall clock: 5 days before a 15:00 check-in
    is 15:00 five days earlier, also across a daylight-saving change (elapsed hours would be 14:00
    or 16:00). ``starts_at`` is taken in ``tz`` (default: its own zone, which ``check_in_at`` sets)."""
    local = starts_at.astimezone(tz) if tz is not None else starts_at
    return local - before  # same tzinfo: Python subtracts on the wall clock and re-derives the offset


def tier_deadlines(*, policy: str, starts_at: datetime, tz=None) -> list[Deadline]:
    """The deadlines of ``policy`` for a stay starting at ``starts_at``, most generous first. The one
    function behind both the refund (``refund_share``) and what guests are shown (``describe_for_stay``)."""
    return [Deadline(before_check_in(starts_at, tier.before, tz), tier.share) for tier in get_policy(policy).tiers]


def refund_share(*, policy: str, starts_at: datetime, booked_at: datetime, now: datetime) -> Decimal:
    """The share (0..1) of the amount paid that a cancellation at ``now`` gets back."""
    p = get_policy(policy)
    if now >= starts_at:
        return NONE
    if (
        p.grace is not None
        and now - booked_at <= p.grace
        and now <= before_check_in(starts_at, p.grace_min_lead or timedelta(0))
    ):
        return FULL
    for deadline in tier_deadlines(policy=policy, starts_at=starts_at):
        if now <= deadline.at:
            return deadline.share
    return NONE


def refund_amount(
    *, policy: str, paid: Decimal, currency: str, starts_at: datetime, booked_at: datetime, now: datetime
) -> Decimal:
    """What to refund of ``paid`` (already net of earlier refunds) for a cancellation at ``now``."""
    if paid <= 0:
        return Decimal("0")
    share = refund_share(policy=policy, starts_at=starts_at, booked_at=booked_at, now=now)
    return round_money(paid * share, currency)


def _when(dt: datetime, tz) -> str:
    # Translators: a date with time, e.g. "9 March 2027, 15:00" (German "9. März 2027, 15:00").
    return formats.date_format(timezone.localtime(dt, tz), _("j F Y, H:i"))


def describe(policy: str) -> str:
    """The policy in one or two sentences, for the property page and checkout."""
    if policy == FLEXIBLE:
        return _("Flexible: full refund if you cancel at least 24 hours before check-in; no refund after that.")
    if policy == MODERATE:
        return _(
            "Moderate: full refund if you cancel at least 5 days before check-in, 50% if you cancel at least "
            "24 hours before check-in; no refund after that."
        )
    if policy == STRICT:
        return _(
            "Strict: full refund if you cancel within 48 hours of booking and at least 14 days before check-in, "
            "50% if you cancel at least 7 days before check-in; no refund after that."
        )
    get_policy(policy)
    return ""


def describe_for_stay(
    *, policy: str, starts_at: datetime, booked_at: datetime | None = None, tz=None, now: datetime | None = None
) -> list[str]:
    """The deadlines of this stay as dated lines (in the property's time zone), for checkout and the portal.
    Deadlines that have passed by ``now`` are left out."""
    p = get_policy(policy)
    tz = tz or starts_at.tzinfo
    now = now or timezone.now()
    lines: list[str] = []
    starts_at = starts_at.astimezone(tz)  # deadlines on the property's wall clock (tier_deadlines)
    grace_lead = before_check_in(starts_at, p.grace_min_lead or timedelta(0))
    if p.grace is not None and booked_at is not None and booked_at <= grace_lead:
        until = min(booked_at + p.grace, grace_lead)
        if until > now:
            lines.append(_("Full refund if you cancel before %(when)s.") % {"when": _when(until, tz)})
    for deadline in tier_deadlines(policy=policy, starts_at=starts_at):
        if deadline.at <= now:
            continue
        if deadline.share == FULL:
            lines.append(_("Full refund if you cancel before %(when)s.") % {"when": _when(deadline.at, tz)})
        else:
            lines.append(
                _("%(percent)s%% refund if you cancel before %(when)s.")
                % {"percent": int(deadline.share * 100), "when": _when(deadline.at, tz)}
            )
    lines.append(_("No refund after that.") if lines else _("No refund if you cancel now."))
    return lines

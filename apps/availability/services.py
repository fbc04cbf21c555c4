"""Writes to the calendar that are not bookings: owner, maintenance and channel blocks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.db import lock_properties, retry_transaction
from apps.core.errors import NotFound, ValidationFailed
from apps.core.models import SyncEvent
from apps.core.outbox import event_emit

from . import calendar
from .errors import CalendarValidationError
from .models import AvailabilityBlock, BlockSource, PricingRule

BLOCK_FIELDS = (
    "start_date",
    "end_date",
    "block_type",
    "price_override",
    "min_stay",
    "max_stay",
    "closed_to_arrival",
    "closed_to_departure",
    "note",
    "source",
    "external_uid",
    "connection_id",
)


def _full_clean(block: AvailabilityBlock) -> None:
    try:
        block.full_clean(exclude=["property"], validate_constraints=False)
    except ValidationError as exc:
        raise CalendarValidationError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()), details=exc.message_dict
        ) from exc


def _write(block: AvailabilityBlock, *, was_blocking: bool, old_span: tuple[date, date] | None) -> None:
    span = {"property_id": block.property_id, "start": block.start_date, "end": block.end_date}
    if block.is_blocking:
        calendar.assert_free(**span, exclude_block_id=block.pk)
    elif block.block_type == AvailabilityBlock.Type.AVAILABLE:
        overlapping = (
            AvailabilityBlock.objects.filter(
                property_id=block.property_id,
                block_type=AvailabilityBlock.Type.AVAILABLE,
                start_date__lt=block.end_date,
                end_date__gt=block.start_date,
            )
            .exclude(pk=block.pk)
            .first()
        )
        if overlapping is not None:
            raise CalendarValidationError(
                f"These dates overlap the price/restriction range {overlapping.start_date} to "
                f"{overlapping.end_date}; edit that range instead.",
                details={"overlapping_block_id": overlapping.pk},
            )
    with calendar.translate_refusal(**span):
        block.save()
        if was_blocking:
            calendar.release(block_id=block.pk)
        if block.is_blocking:
            calendar.occupy(**span, block_id=block.pk)


@retry_transaction
def block_create(
    *,
    property_id: int,
    start_date: date,
    end_date: date,
    block_type: str = AvailabilityBlock.Type.BLOCKED,
    price_override: Decimal | None = None,
    min_stay: int | None = None,
    max_stay: int | None = None,
    closed_to_arrival: bool = False,
    closed_to_departure: bool = False,
    note: str = "",
    source: str = BlockSource.OWNER,
    external_uid: str = "",
    connection_id: int | None = None,
) -> AvailabilityBlock:
    block = AvailabilityBlock(
        property_id=property_id,
        start_date=start_date,
        end_date=end_date,
        block_type=block_type,
        price_override=price_override,
        min_stay=min_stay,
        max_stay=max_stay,
        closed_to_arrival=closed_to_arrival,
        closed_to_departure=closed_to_departure,
        note=note or "",
        source=source,
        external_uid=external_uid or "",
        connection_id=connection_id,
    )
    _full_clean(block)
    with transaction.atomic():
        lock_properties([property_id])
        _write(block, was_blocking=False, old_span=None)
        calendar.emit_availability_changed(
            property_id=property_id, start=start_date, end=end_date, source=source, reason="block.created"
        )
    return block


@retry_transaction
def block_update(*, block_id: int, source: str | None = None, **changes: Any) -> AvailabilityBlock:
    unknown = set(changes) - set(BLOCK_FIELDS)
    if unknown:
        raise CalendarValidationError(f"Unknown block fields: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        property_id = AvailabilityBlock.objects.filter(pk=block_id).values_list("property_id", flat=True).first()
        if property_id is None:
            raise NotFound("Block not found.", details={"block_id": block_id})
        lock_properties([property_id])
        block = AvailabilityBlock.objects.select_for_update().filter(pk=block_id).first()
        if block is None:  # deleted while we waited for the lock
            raise NotFound("Block not found.", details={"block_id": block_id})
        old_span = (block.start_date, block.end_date)
        was_blocking = block.is_blocking
        for key, value in changes.items():
            setattr(block, key, value)
        _full_clean(block)
        _write(block, was_blocking=was_blocking, old_span=old_span)
        calendar.emit_availability_changed(
            property_id=property_id,
            start=min(old_span[0], block.start_date),
            end=max(old_span[1], block.end_date),
            source=source or block.source,
            reason="block.updated",
        )
    return block


@retry_transaction
def block_delete(*, block_id: int, source: str | None = None) -> None:
    with transaction.atomic():
        property_id = AvailabilityBlock.objects.filter(pk=block_id).values_list("property_id", flat=True).first()
        if property_id is None:
            raise NotFound("Block not found.", details={"block_id": block_id})
        lock_properties([property_id])
        block = AvailabilityBlock.objects.select_for_update().filter(pk=block_id).first()
        if block is None:  # deleted while we waited for the lock
            raise NotFound("Block not found.", details={"block_id": block_id})
        calendar.release(block_id=block.pk)
        span = (block.start_date, block.end_date)
        block_source = source or block.source
        block.delete()
        calendar.emit_availability_changed(
            property_id=property_id, start=span[0], end=span[1], source=block_source, reason="block.deleted"
        )


RULE_FIELDS = ("name", "rule_type", "adjustment_type", "adjustment_value", "conditions", "priority", "active")


def _rule_clean(rule: PricingRule) -> None:
    try:
        rule.full_clean(exclude=["property"])
    except ValidationError as exc:
        raise ValidationFailed(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()), details=exc.message_dict
        ) from exc


def _rule_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(RULE_FIELDS))
    if unknown:
        raise ValidationFailed(
            f"These pricing-rule fields cannot be written: {', '.join(unknown)}.",
            details={f: ["Not writable."] for f in unknown},
        )
    if "name" in values and values["name"] is None:
        values["name"] = ""
    if "conditions" in values and values["conditions"] is None:
        values["conditions"] = {}
    return values


def _rule_emit(*, rule_id: int, property_id: int, source: str, reason: str) -> None:
    """Prices changed: the channels' rate pushes re-read the calendar (same transaction)."""
    event_emit(
        event_type=SyncEvent.Type.PRICING_UPDATED,
        entity_type="pricing_rule",
        entity_id=rule_id,
        property_id=property_id,
        source=source,
        payload={"property_id": property_id, "rule_id": rule_id, "reason": reason},
    )


@retry_transaction
def pricing_rule_create(*, property_id: int, source: str = BlockSource.OWNER, **fields: Any) -> PricingRule:
    """A new pricing rule (validated per rule type, see ``rules.py``), announced to the channels."""
    rule = PricingRule(property_id=property_id, **_rule_values(dict(fields)))
    _rule_clean(rule)
    with transaction.atomic():
        lock_properties([property_id])
        rule.save()
        _rule_emit(rule_id=rule.pk, property_id=property_id, source=source, reason="rule.created")
    return rule


@retry_transaction
def pricing_rule_update(*, rule_id: int, source: str = BlockSource.OWNER, **changes: Any) -> PricingRule:
    """Change a rule; nothing is written (and nothing emitted) when no value changes."""
    values = _rule_values(dict(changes))
    with transaction.atomic():
        property_id = PricingRule.objects.filter(pk=rule_id).values_list("property_id", flat=True).first()
        if property_id is None:
            raise NotFound("Pricing rule not found.", details={"rule_id": rule_id})
        lock_properties([property_id])
        rule = PricingRule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            raise NotFound("Pricing rule not found.", details={"rule_id": rule_id})
        changed = [f for f, v in values.items() if getattr(rule, f) != v]
        if not changed:
            return rule
        for field in changed:
            setattr(rule, field, values[field])
        _rule_clean(rule)
        rule.save(update_fields=[*changed, "updated_at"])
        _rule_emit(rule_id=rule.pk, property_id=property_id, source=source, reason="rule.updated")
    return rule


@retry_transaction
def pricing_rule_delete(*, rule_id: int, source: str = BlockSource.OWNER) -> None:
    with transaction.atomic():
        property_id = PricingRule.objects.filter(pk=rule_id).values_list("property_id", flat=True).first()
        if property_id is None:
            raise NotFound("Pricing rule not found.", details={"rule_id": rule_id})
        lock_properties([property_id])
        deleted, _ = PricingRule.objects.filter(pk=rule_id).delete()
        if not deleted:
            raise NotFound("Pricing rule not found.", details={"rule_id": rule_id})
        _rule_emit(rule_id=rule_id, property_id=property_id, source=source, reason="rule.deleted")


#: What ``calendar_range_update`` may set per night (``None`` clears it back to the property's default).
RANGE_FIELDS = ("price_override", "min_stay", "max_stay", "closed_to_arrival", "closed_to_departure")
_RANGE_DEFAULTS: dict[str, Any] = {
    "price_override": None,
    "min_stay": None,
    "max_stay": None,
    "closed_to_arrival": False,
    "closed_to_departure": False,
}


@retry_transaction
def calendar_range_update(
    *, property_id: int, start: date, end: date, changes: dict[str, Any], source: str = BlockSource.OWNER
) -> list[AvailabilityBlock]:
    """Set price / min stay / max stay / closed-to-arrival / closed-to-departure for the nights
    [start, end) (the calendar's bulk edit), leaving every field not in ``changes`` as it is per night.

    The ``available`` ranges that overlap are rewritten under the property's lock: the parts outside
    [start, end) keep their values, the nights inside get the change, and runs of nights with the
    same values become one range (nights back at every default need no range). One outbox event
    covers the whole rewritten span, so the channels re-push prices and restrictions. Returns the
    ranges now covering [start, end).
    """
    from apps.core.limits import check_span

    start, end = check_span(start, end, what="range", fields=("start_date", "end_date"))
    unknown = sorted(set(changes) - set(RANGE_FIELDS))
    if unknown:
        raise CalendarValidationError(f"These calendar fields cannot be set: {', '.join(unknown)}.")
    if not changes:
        raise CalendarValidationError("Nothing to change: give a price, a stay limit or an arrival/departure rule.")
    values = {k: (_RANGE_DEFAULTS[k] if v is None and k.startswith("closed") else v) for k, v in changes.items()}
    probe = AvailabilityBlock(
        property_id=property_id,
        start_date=start,
        end_date=end,
        block_type=AvailabilityBlock.Type.AVAILABLE,
        **{**_RANGE_DEFAULTS, **values},
    )
    _full_clean(probe)  # the values themselves (price >= 0, max stay >= min stay, ...)
    one = timedelta(days=1)
    with transaction.atomic():
        lock_properties([property_id])
        old = list(
            AvailabilityBlock.objects.select_for_update()
            .filter(
                property_id=property_id,
                block_type=AvailabilityBlock.Type.AVAILABLE,
                start_date__lt=end,
                end_date__gt=start,
            )
            .order_by("start_date")
        )
        span_start = min([start, *[b.start_date for b in old]])
        span_end = max([end, *[b.end_date for b in old]])
        per_night: dict[date, tuple[tuple[Any, ...], str, str]] = {}
        for block in old:
            d = block.start_date
            while d < block.end_date:
                per_night[d] = (tuple(getattr(block, f) for f in RANGE_FIELDS), block.note, block.source)
                d += one
        d = start
        while d < end:
            current, note, _ = per_night.get(d, (tuple(_RANGE_DEFAULTS[f] for f in RANGE_FIELDS), "", source))
            merged = dict(zip(RANGE_FIELDS, current, strict=True))
            merged.update(values)
            per_night[d] = (tuple(merged[f] for f in RANGE_FIELDS), note, source)
            d += one
        AvailabilityBlock.objects.filter(pk__in=[b.pk for b in old]).delete()
        default_key = tuple(_RANGE_DEFAULTS[f] for f in RANGE_FIELDS)
        runs: list[list[Any]] = []  # [first night, end, values, note, source]
        d = span_start
        while d < span_end:
            entry = per_night.get(d)
            if entry is None or entry[0] == default_key:
                d += one
                continue
            if runs and runs[-1][1] == d and runs[-1][2:] == list(entry):
                runs[-1][1] = d + one
            else:
                runs.append([d, d + one, *entry])
            d += one
        created = []
        for first, stop, vals, note, run_source in runs:
            block = AvailabilityBlock(
                property_id=property_id,
                start_date=first,
                end_date=stop,
                block_type=AvailabilityBlock.Type.AVAILABLE,
                note=note,
                source=run_source,
                **dict(zip(RANGE_FIELDS, vals, strict=True)),
            )
            _full_clean(block)
            block.save()
            if first < end and stop > start:
                created.append(block)
        calendar.emit_availability_changed(
            property_id=property_id, start=span_start, end=span_end, source=source, reason="range.updated"
        )
    return created

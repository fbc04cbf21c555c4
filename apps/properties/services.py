"""Every write to properties. The admin, the API, commands and tasks call these.

A change to what a channel must show (prices, fees, stay rules, capacity, status) writes its outbox
event in the same transaction as the change, under the property's row lock, so the channel pushes
(state-based) always send the new values.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from apps.core.db import lock_properties, retry_transaction
from apps.core.errors import Conflict, Forbidden, NotFound, Protected, ValidationFailed
from apps.core.models import SyncEvent
from apps.core.outbox import event_emit
from apps.core.tenancy import is_pms_staff

from .models import Property

logger = logging.getLogger(__name__)

__all__ = [
    "PROPERTY_FIELDS",
    "PRICE_FIELDS",
    "AVAILABILITY_FIELDS",
    "property_create",
    "property_update",
    "property_archive",
    "property_delete",
    "property_may_delete",
]

#: What owners (and staff) may write; ``owner`` only on create (staff change it with ``property_update``).
PROPERTY_FIELDS = (
    "owner_id", "name", "slug", "status", "description", "house_rules", "address", "city", "country",
    "latitude", "longitude", "amenities", "max_guests", "bedrooms", "bathrooms", "base_price", "currency",
    "timezone", "check_in_time", "check_out_time", "cleaning_fee", "default_min_stay", "default_max_stay",
    "min_notice_hours", "max_advance_days", "cancellation_policy",
)  # fmt: skip

#: Changes the platforms show as a price (a rate push).
PRICE_FIELDS = frozenset({"base_price", "cleaning_fee", "currency"})
#: Changes the platforms show as availability or restrictions (min/max stay, capacity, open/closed, ...).
AVAILABILITY_FIELDS = frozenset(
    {
        "status",
        "max_guests",
        "default_min_stay",
        "default_max_stay",
        "min_notice_hours",
        "max_advance_days",
        "timezone",
        "check_in_time",
        "check_out_time",
    }
)


def _normalise(field: str, value: Any) -> Any:
    if field == "owner":
        raise ValidationFailed("Pass owner_id, not owner.", details={"owner": ["Use owner_id."]})
    if field == "country" and isinstance(value, str):
        return value.strip().upper()
    if field in ("name", "city") and isinstance(value, str):
        return value.strip()
    if field in ("description", "house_rules") and value is None:
        return ""
    return value


def _check_fields(values: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(PROPERTY_FIELDS) - {"owner"})
    if unknown:
        raise ValidationFailed(
            f"These property fields cannot be written: {', '.join(unknown)}.",
            details={f: ["Not writable."] for f in unknown},
        )
    return {field: _normalise(field, value) for field, value in values.items()}


def _full_clean(prop: Property) -> None:
    try:
        prop.full_clean()
    except ValidationError as exc:
        details = exc.message_dict
        raise ValidationFailed("; ".join(f"{k}: {' '.join(v)}" for k, v in details.items()), details=details) from exc


def _unique_slug(name: str) -> str:
    base = slugify(name)[:200] or "property"
    slug, n = base, 1
    while Property.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _emit(*, prop: Property, changed: list[str], source: str, reason: str) -> SyncEvent | None:
    """One outbox event for what channels must show: availability (restrictions, capacity, status)
    wins over pricing, since an availability push sends the prices too."""
    relevant = [f for f in changed if f in PRICE_FIELDS or f in AVAILABILITY_FIELDS]
    if not relevant:
        return None
    event_type = (
        SyncEvent.Type.AVAILABILITY_UPDATED
        if any(f in AVAILABILITY_FIELDS for f in relevant)
        else SyncEvent.Type.PRICING_UPDATED
    )
    return event_emit(
        event_type=event_type,
        entity_type="property",
        entity_id=prop.pk,
        property_id=prop.pk,
        source=source,
        payload={"property_id": prop.pk, "fields": relevant, "reason": reason},
    )


def property_create(*, owner_id: int, source: str = "owner", **fields: Any) -> Property:
    """A new property of ``owner_id``; the slug is derived from the name when not given.

    A new property has no channel connection yet, so nothing is emitted.
    """
    values = _check_fields(fields)
    values.pop("owner_id", None)
    prop = Property(owner_id=owner_id, **values)
    if not prop.slug:
        prop.slug = _unique_slug(prop.name or "")
    _full_clean(prop)
    try:
        with transaction.atomic():
            prop.save()
    except IntegrityError as exc:  # a concurrent twin took the slug
        raise Conflict("This slug is already taken.", details={"slug": ["This slug is already taken."]}) from exc
    logger.info("property %s created by %s", prop.pk, source)
    return prop


@retry_transaction
def property_update(*, property_id: int, source: str = "owner", **changes: Any) -> Property:
    """Change a property; channels hear about every change they must show (same transaction)."""
    values = _check_fields(changes)
    with transaction.atomic():
        lock_properties([property_id])
        prop = Property.objects.get(pk=property_id)
        changed = []
        for field, value in values.items():
            if getattr(prop, field) != value:
                setattr(prop, field, value)
                changed.append(field)
        if not changed:
            return prop
        _full_clean(prop)
        try:
            with transaction.atomic():
                prop.save(update_fields=[*changed, "updated_at"])
        except IntegrityError as exc:
            raise Conflict("This slug is already taken.", details={"slug": ["This slug is already taken."]}) from exc
        _emit(prop=prop, changed=changed, source=source, reason="property.updated")
    return prop


def property_archive(*, property_id: int, source: str = "owner") -> Property:
    """Take a property off sale everywhere: inactive here (guest pages hide it), closed on the channels."""
    return property_update(property_id=property_id, source=source, status=Property.Status.INACTIVE)


def property_may_delete(*, user: Any, prop: Property) -> bool:
    """Deleting is the owner's (or staff's) alone; co-hosts never delete, whatever they were granted."""
    return is_pms_staff(user) or (getattr(user, "is_authenticated", False) and prop.owner_id == user.pk)


@retry_transaction
def property_delete(*, property_id: int, user: Any) -> None:
    """Delete a property that nothing refers to any more.

    Refused while bookings refer to it (cancel or keep them; archive the property instead) or while
    channel connections exist (disconnect them first, so no platform keeps selling it).
    """
    with transaction.atomic():
        prop = Property.objects.filter(pk=property_id).first()
        if prop is None:
            raise NotFound("Property not found.", details={"property_id": property_id})
        if not property_may_delete(user=user, prop=prop):
            raise Forbidden("Only the owner may delete a property.")
        lock_properties([property_id])
        if prop.bookings.exists():
            raise Protected(
                "This property has bookings and cannot be deleted; archive it instead.",
                details={"bookings": prop.bookings.count()},
            )
        connections = list(prop.channel_connections.values_list("platform", flat=True))
        if connections:
            raise Protected(
                "This property is still connected to channels "
                f"({', '.join(sorted(set(connections)))}); remove those connections first, or archive it.",
                details={"channel_connections": len(connections)},
            )
        prop.delete()
    logger.info("property %s deleted by user %s", property_id, getattr(user, "pk", None))

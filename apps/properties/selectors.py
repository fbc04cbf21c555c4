"""Reads of properties: which properties a user may see or change (the tenancy decision).

``apps.core.tenancy`` asks these through ``register_property_scope`` (done in ``PropertiesConfig.ready``),
so every ``visible_to`` / ``managed_by`` queryset in every app is decided here, in one place.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from apps.core.tenancy import PropertyScope, is_pms_staff

from .models import Property


def _active(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def _granted_or_owned(user: Any, perm: str) -> models.QuerySet:
    from guardian.shortcuts import get_objects_for_user

    granted = get_objects_for_user(user, perm, klass=Property.objects.all(), accept_global_perms=False).values("pk")
    return Property.objects.filter(models.Q(owner=user) | models.Q(pk__in=granted)).values("pk")


def visible_property_ids(user: Any) -> models.QuerySet | None:
    """A subquery of property ids ``user`` may see, or None meaning "all" (staff)."""
    if is_pms_staff(user):
        return None
    if not _active(user):
        return Property.objects.none().values("pk")
    return _granted_or_owned(user, "properties.view_property")


def managed_property_ids(user: Any) -> models.QuerySet | None:
    """Property ids ``user`` may change (owner, staff, or a co-host granted ``change_property``)."""
    if is_pms_staff(user):
        return None
    if not _active(user):
        return Property.objects.none().values("pk")
    return _granted_or_owned(user, "properties.change_property")


def can_manage_property(user: Any, prop: Property) -> bool:
    if is_pms_staff(user):
        return True
    if not _active(user):
        return False
    if prop.owner_id == user.pk:
        return True
    return user.has_perm("properties.change_property", prop)


class GuardianPropertyScope(PropertyScope):
    """Owners see their own properties, co-hosts what django-guardian grants, staff everything."""

    def visible_ids(self, user: Any) -> models.QuerySet | None:
        return visible_property_ids(user)

    def managed_ids(self, user: Any) -> models.QuerySet | None:
        return managed_property_ids(user)

    def can_manage(self, user: Any, prop: Any) -> bool:
        return can_manage_property(user, prop)

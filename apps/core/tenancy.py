"""Owner scoping: the one API every interface uses to decide what a user may see.

Roles (fail closed: anything not listed sees nothing):
- superusers and members of the ``Staff`` group see everything;
- owners see the properties they own and everything under them;
- co-hosts see the properties granted to them through django-guardian (``view_property``),
  and everything under those;
- anonymous users, inactive users and users without any of the above see nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

STAFF_GROUP = "Staff"
OWNERS_GROUP = "Owners"
COHOSTS_GROUP = "Co-hosts"


def is_pms_staff(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Whether ``user`` sees every owner's data."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cache = getattr(user, "_pms_is_staff", None)
    if cache is None:
        cache = user.groups.filter(name=STAFF_GROUP).exists()
        user._pms_is_staff = cache  # type: ignore[union-attr]
    return cache


def visible_property_ids(user: Any) -> models.QuerySet | None:
    """A subquery of property ids ``user`` may see, or None meaning "all" (staff)."""
    from apps.properties.models import Property

    if is_pms_staff(user):
        return None
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Property.objects.none().values("pk")
    from guardian.shortcuts import get_objects_for_user

    granted = get_objects_for_user(
        user, "properties.view_property", klass=Property.objects.all(), accept_global_perms=False
    ).values("pk")
    return Property.objects.filter(models.Q(owner=user) | models.Q(pk__in=granted)).values("pk")


def managed_property_ids(user: Any) -> models.QuerySet | None:
    """Property ids ``user`` may change (owner, staff, or a co-host granted ``change_property``);
    None means "all" (staff). A co-host granted only ``view_property`` may look, not touch."""
    from apps.properties.models import Property

    if is_pms_staff(user):
        return None
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Property.objects.none().values("pk")
    from guardian.shortcuts import get_objects_for_user

    granted = get_objects_for_user(
        user, "properties.change_property", klass=Property.objects.all(), accept_global_perms=False
    ).values("pk")
    return Property.objects.filter(models.Q(owner=user) | models.Q(pk__in=granted)).values("pk")


class ScopedQuerySet(models.QuerySet):
    """QuerySet of a model that belongs to a property (through ``property_path``)."""

    #: lookup from this model to its Property; "" for Property itself
    property_path: str = "property"

    def visible_to(self, user: Any) -> ScopedQuerySet:
        return self._within(visible_property_ids(user))

    def managed_by(self, user: Any) -> ScopedQuerySet:
        """What ``user`` may change (see ``managed_property_ids``)."""
        return self._within(managed_property_ids(user))

    def _within(self, ids: models.QuerySet | None) -> ScopedQuerySet:
        if ids is None:
            return self.all()
        lookup = f"{self.property_path}__in" if self.property_path else "pk__in"
        return self.filter(**{lookup: ids})


def scoped_queryset(path: str) -> type[ScopedQuerySet]:
    """A ScopedQuerySet subclass for models whose property is reached by ``path``."""
    return type(f"ScopedQuerySet_{path.replace('__', '_') or 'self'}", (ScopedQuerySet,), {"property_path": path})


def can_manage_property(user: Any, prop: Any) -> bool:
    """Owner, staff, or a co-host granted ``change_property`` on it."""
    if is_pms_staff(user):
        return True
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if prop.owner_id == user.pk:
        return True
    return user.has_perm("properties.change_property", prop)

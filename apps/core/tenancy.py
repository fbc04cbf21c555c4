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


class PropertyScope:
    """Which property ids a user may see / change. Provided by ``apps.properties`` (it knows the
    Property model and its grants) at start-up: core defines the question, properties answers it."""

    def visible_ids(self, user: Any) -> models.QuerySet | None:  # pragma: no cover - interface
        raise NotImplementedError

    def managed_ids(self, user: Any) -> models.QuerySet | None:  # pragma: no cover - interface
        raise NotImplementedError

    def can_manage(self, user: Any, prop: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError


_scope: PropertyScope | None = None


def register_property_scope(scope: PropertyScope) -> None:
    global _scope
    _scope = scope


def _property_scope() -> PropertyScope:
    if _scope is None:  # fail closed: never guess what a user may see
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("No property scope registered (is apps.properties installed?).")
    return _scope


def visible_property_ids(user: Any) -> models.QuerySet | None:
    """A subquery of property ids ``user`` may see, or None meaning "all" (staff)."""
    return _property_scope().visible_ids(user)


def managed_property_ids(user: Any) -> models.QuerySet | None:
    """Property ids ``user`` may change (owner, staff, or a co-host granted ``change_property``);
    None means "all" (staff). A co-host granted only ``view_property`` may look, not touch."""
    return _property_scope().managed_ids(user)


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
    return _property_scope().can_manage(user, prop)

"""Owner scoping for the Django admin. Every ModelAdmin of owner data inherits ``OwnerScopedAdmin``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from .errors import DomainError
from .tenancy import visible_property_ids


class OwnerScopedAdmin(admin.ModelAdmin):
    """Lists, change pages, deletes, autocompletes and FK choices narrowed with ``visible_to``.

    An object outside the user's scope is simply not found (the admin answers as for a missing
    object). A ``DomainError`` raised by a service during save shows as an error message.
    """

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        manager = getattr(related, "_default_manager", None)
        if manager is not None and hasattr(manager, "managed_by") and "queryset" not in kwargs:
            kwargs["queryset"] = manager.managed_by(request.user)  # new rows only under what they may change
        elif manager is not None and hasattr(manager, "visible_to") and "queryset" not in kwargs:
            kwargs["queryset"] = manager.visible_to(request.user)
        elif getattr(related._meta, "model_name", "") == "user" and "queryset" not in kwargs:
            from django.contrib.auth import get_user_model

            from .tenancy import is_pms_staff

            if not is_pms_staff(request.user):
                kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._manages(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._manages(request, obj)

    def _in_scope(self, request, obj) -> bool:
        if obj is None:
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def _manages(self, request, obj) -> bool:
        """Seeing is not changing: a co-host granted only ``view_property`` gets read-only pages."""
        if obj is None:
            return True
        queryset = super().get_queryset(request)
        if hasattr(queryset, "managed_by"):
            return queryset.managed_by(request.user).filter(pk=obj.pk).exists()
        return self._in_scope(request, obj)

    def response_action(self, request, queryset):
        """Actions (confirm, cancel, delete, retry, ...) only touch rows the user may change."""
        if hasattr(queryset, "managed_by"):
            queryset = queryset.managed_by(request.user)
        return super().response_action(request, queryset)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def scoped_property_ids(request: Any):
    return visible_property_ids(request.user)

"""Owner scoping for the Django admin. Every ModelAdmin of owner data inherits ``OwnerScopedAdmin``,
every inline of owner data ``OwnerScopedInline``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponseRedirect

from . import limits
from .errors import DomainError
from .tenancy import is_pms_staff, visible_property_ids

#: Primary keys beyond this are forged (PostgreSQL bigint).
MAX_PK = 2**63 - 1


def _scoped_fk_kwargs(db_field, request, kwargs: dict[str, Any]) -> dict[str, Any]:
    """FK choices: new rows only under what the user may change (``managed_by``), else what they see."""
    related = db_field.related_model
    manager = getattr(related, "_default_manager", None)
    if manager is not None and hasattr(manager, "managed_by") and "queryset" not in kwargs:
        kwargs["queryset"] = manager.managed_by(request.user)
    elif manager is not None and hasattr(manager, "visible_to") and "queryset" not in kwargs:
        kwargs["queryset"] = manager.visible_to(request.user)
    elif getattr(related._meta, "model_name", "") == "user" and "queryset" not in kwargs:
        from django.contrib.auth import get_user_model

        if not is_pms_staff(request.user):
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
    return kwargs


def _valid_pk(model, value: Any) -> bool:
    try:
        pk = model._meta.pk.to_python(value)
    except ValidationError:
        return False
    return pk is not None and (not isinstance(pk, int) or 0 < pk <= MAX_PK)


class _ValidChoicesOnly:
    """Django's autocomplete widget looks up whatever was posted when it renders the form again: a
    posted ``guest=" "`` or a 30-digit id raised ValueError / DataError there (a 500). Values that
    cannot be a primary key of the related model are left out of that lookup."""

    def optgroups(self, name, value, attr=None):
        model = self.field.remote_field.model
        return super().optgroups(name, [v for v in value if v not in (None, "") and _valid_pk(model, v)], attr)


def _safe_autocomplete(formfield):
    widget = getattr(formfield, "widget", None)
    inner = getattr(widget, "widget", widget)
    if isinstance(inner, AutocompleteSelect | AutocompleteSelectMultiple) and not isinstance(inner, _ValidChoicesOnly):
        inner.__class__ = type(f"Safe{type(inner).__name__}", (_ValidChoicesOnly, type(inner)), {})
    return formfield


def _date_hierarchy_ok(field: str | None, params) -> bool:
    """The date hierarchy's ``<field>__year/__month/__day`` parameters name a real day far enough from
    ``date.max`` that Django can compute the next year (and never carry a NUL)."""
    if not field:
        return True
    parts = {}
    for part, low, high in (("year", 1, 9998), ("month", 1, 12), ("day", 1, 31)):
        raw = params.get(f"{field}__{part}")
        if raw is None:
            continue
        if not raw.isascii() or not raw.isdigit() or len(raw) > 4 or not low <= int(raw) <= high:
            return False
        parts[part] = int(raw)
    if "day" in parts:
        from datetime import date

        try:
            date(parts.get("year", 2000), parts.get("month", 1), parts["day"])
        except ValueError:
            return False
    return True


class OwnerScopedAdmin(admin.ModelAdmin):
    """Lists, change pages, deletes, autocompletes and FK choices narrowed with ``visible_to``.

    An object outside the user's scope is simply not found (the admin answers as for a missing
    object). Change and delete permissions are checked per object everywhere: change pages,
    ``list_editable`` rows (rows the user may only view render read-only and ignore what is posted
    for them), actions (only rows the user may change) and inlines (``OwnerScopedInline``). Forged
    ids in a POST are a form error or a message, never a 500. A ``DomainError`` raised by a service
    during a save shows as an error message.
    """

    #: JSON fields (addresses, rule conditions) parsed and bounded by the limits, never a 500
    formfield_overrides = {models.JSONField: {"form_class": limits.LimitedJSONField}}
    #: the object's "History" page also lists its audit-log entries (apps.core.audit)
    object_history_template = "admin/audit_object_history.html"

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def history_view(self, request, object_id, extra_context=None):
        from .models import AuditEntry

        entries = AuditEntry.objects.none()
        if _valid_pk(self.model, object_id):
            entries = AuditEntry.objects.visible_to(request.user).filter(
                table_name=self.model._meta.db_table, object_id=str(self.model._meta.pk.to_python(object_id))
            )
        context = {**(extra_context or {}), "audit_entries": entries[:200]}
        return super().history_view(request, object_id, extra_context=context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return _safe_autocomplete(
            super().formfield_for_foreignkey(db_field, request, **_scoped_fk_kwargs(db_field, request, kwargs))
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return _safe_autocomplete(super().formfield_for_manytomany(db_field, request, **kwargs))

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

    def _managed_queryset(self, request):
        queryset = super().get_queryset(request)
        if hasattr(queryset, "managed_by"):
            return queryset.managed_by(request.user)
        return self.get_queryset(request)

    def _manages(self, request, obj) -> bool:
        """Seeing is not changing: a co-host granted only ``view_property`` gets read-only pages."""
        if obj is None:
            return True
        known = getattr(request, "_pms_managed_pks", {}).get(self.model._meta.label)
        if known is not None and obj.pk in known[0]:
            return known[1].get(obj.pk, False)
        return self._managed_queryset(request).filter(pk=obj.pk).exists()

    def _remember_managed(self, request, pks: list[Any]) -> None:
        """Decide "may change" for a whole page of rows in one query (list_editable)."""
        managed = set(self._managed_queryset(request).filter(pk__in=pks).values_list("pk", flat=True))
        cache = request.__dict__.setdefault("_pms_managed_pks", {})
        cache[self.model._meta.label] = (set(pks), {pk: pk in managed for pk in pks})

    # --- actions ---------------------------------------------------------------------------------

    def response_action(self, request, queryset):
        """Actions (confirm, cancel, delete, retry, ...) only touch rows the user may change."""
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if any(not _valid_pk(self.model, pk) for pk in selected):
            self.message_user(request, "The selection was not valid; nothing was changed.", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        queryset = self._managed_queryset(request).filter(pk__in=queryset.values("pk"))
        return super().response_action(request, queryset)

    def delete_queryset(self, request, queryset):
        """Bulk deletes check the delete permission of every row (an owner-only delete stays owner-only)."""
        from django.core.exceptions import PermissionDenied

        objects = list(queryset)
        if any(not self.has_delete_permission(request, obj) for obj in objects):
            raise PermissionDenied
        for obj in objects:
            self.delete_model(request, obj)

    # --- list_editable ---------------------------------------------------------------------------

    def get_changelist_form(self, request, **kwargs):
        base = super().get_changelist_form(request, **kwargs)

        class OwnerScopedChangelistForm(base):
            def _post_clean(self):
                # A row whose id is forged (foreign, missing, garbage) has no instance: a form error,
                # not a model validation of an empty object (which would be a 500).
                if self.instance.pk is None:
                    self.add_error(None, "This row does not exist or is not yours; nothing was changed.")
                    return
                super()._post_clean()

        return OwnerScopedChangelistForm

    def get_changelist_formset(self, request, **kwargs):
        base = super().get_changelist_formset(request, **kwargs)
        model_admin = self

        class OwnerScopedChangelistFormSet(base):
            """Rows the user may not change render read-only and ignore posted values (disabled
            fields keep their initial value); an id outside the user's scope is a form error; no
            row is ever created from the change list."""

            def add_fields(self, form, index):
                super().add_fields(form, index)
                if not hasattr(self, "_pms_checked"):
                    self._pms_checked = True
                    model_admin._remember_managed(request, [obj.pk for obj in self.get_queryset()])
                pk_name = self.model._meta.pk.name
                if pk_name in form.fields:
                    form.fields[pk_name].queryset = model_admin.get_queryset(request)
                instance = form.instance
                if instance.pk is None or not model_admin.has_change_permission(request, instance):
                    for name, field in form.fields.items():
                        if name != pk_name:
                            field.disabled = True

            def clean(self):
                super().clean()
                for form in self.forms:
                    if form.instance.pk is None and form.has_changed():
                        raise ValidationError("Rows cannot be added from the list.")

        return OwnerScopedChangelistFormSet

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changelist_view(self, request, extra_context=None):
        if not _date_hierarchy_ok(self.date_hierarchy, request.GET):
            # ?check_in__year=9999 made Django's date hierarchy compute year 10000 (a 500): the
            # admin's own answer to bad list parameters, the plain list with an error flag
            return HttpResponseRedirect(request.path + "?e=1")
        try:
            return super().changelist_view(request, extra_context)
        except DomainError as exc:  # a list_editable save refused by a service
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:  # e.g. still referenced
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class OwnerScopedInline(admin.options.InlineModelAdmin):
    """Inline rows follow their parent: changed, added or deleted only where the user may change the
    parent object (a co-host granted only ``view_property`` sees them read-only); FK choices scoped."""

    def _manages_parent(self, request, obj) -> bool:
        if obj is None:
            return True
        manager = type(obj)._default_manager
        if hasattr(manager, "managed_by"):
            return manager.managed_by(request.user).filter(pk=obj.pk).exists()
        return True

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._manages_parent(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._manages_parent(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._manages_parent(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return _safe_autocomplete(
            super().formfield_for_foreignkey(db_field, request, **_scoped_fk_kwargs(db_field, request, kwargs))
        )


def scoped_property_ids(request: Any):
    return visible_property_ids(request.user)

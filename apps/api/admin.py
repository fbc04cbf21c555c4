"""Admin for API tokens: create (the raw token is shown once) and revoke."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone

from apps.core.tenancy import is_pms_staff

from .models import ApiToken
from .services import api_token_create, api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "masked", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["masked", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(description="Token")
    def masked(self, obj: ApiToken) -> str:
        return f"pms_{obj.prefix}_…" if obj.prefix else "—"

    # Every admin user manages their own tokens; staff (PMS staff group) see and manage all.
    def _allowed(self, request) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request) and (obj is None or self._mine(request, obj))

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request) and (obj is None or self._mine(request, obj))

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row keeps the audit trail

    def _mine(self, request, obj) -> bool:
        return is_pms_staff(request.user) or obj.user_id == request.user.pk

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "user"] if is_pms_staff(request.user) else ["name"]
        return ["name", "user", "masked", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["user", *self.readonly_fields]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not is_pms_staff(request.user):
            from django.contrib.auth import get_user_model

            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        user = obj.user if is_pms_staff(request.user) and obj.user_id else request.user
        token, raw = api_token_create(user=user, name=obj.name)
        obj.pk = token.pk
        obj.__dict__.update({k: v for k, v in token.__dict__.items() if not k.startswith("_")})
        self.message_user(
            request,
            f"Token created. Copy it now, it will not be shown again: {raw}",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        now = timezone.now()
        count = sum(api_token_revoke(token_id=pk, now=now) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)

from django.contrib import admin

from .admin_mixins import OwnerScopedAdmin
from .models import AuditEntry, SyncEvent


@admin.register(SyncEvent)
class SyncEventAdmin(OwnerScopedAdmin):
    list_display = (
        "created_at",
        "event_type",
        "entity_type",
        "entity_id",
        "property",
        "source",
        "processed_at",
        "retry_count",
    )
    list_filter = ("event_type", "source", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("entity_id",)
    list_select_related = ("property",)
    show_full_result_count = False
    readonly_fields = [f.name for f in SyncEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(OwnerScopedAdmin):
    """The audit log, read-only: owners see entries of their own data, staff everything."""

    list_display = ("created_at", "actor_kind", "actor_label", "operation", "table_name", "object_id", "changed")
    list_filter = ("actor_kind", "operation", "table_name", "action")
    search_fields = ("=object_id", "actor_label", "=request_id", "action")
    show_full_result_count = False
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    @admin.display(description="changed fields")
    def changed(self, obj: AuditEntry) -> str:
        return ", ".join(obj.changed_fields)[:120]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

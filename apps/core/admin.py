from django.contrib import admin

from .admin_mixins import OwnerScopedAdmin
from .models import SyncEvent


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

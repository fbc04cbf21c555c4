from __future__ import annotations

from django.contrib import admin

from apps.core.admin_mixins import OwnerScopedAdmin

from .models import Review


@admin.register(Review)
class ReviewAdmin(OwnerScopedAdmin):
    """Guests write reviews through the guest portal; owners read them (and may remove abuse)."""

    list_display = ("booking", "property_name", "rating", "created_at")
    list_filter = ("rating",)
    list_select_related = ("booking__property",)
    search_fields = ("booking__reference", "text")
    readonly_fields = ("booking", "rating", "text", "created_at")
    show_full_result_count = False

    @admin.display(description="Property", ordering="booking__property__name")
    def property_name(self, obj: Review) -> str:
        return obj.booking.property.name

    def has_add_permission(self, request, obj=None) -> bool:
        return False

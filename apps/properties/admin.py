from django.contrib import admin
from django.http import Http404
from guardian.admin import GuardedModelAdminMixin

from apps.core.admin_mixins import OwnerScopedAdmin
from apps.core.tenancy import is_pms_staff

from .models import Property, PropertyPhoto


class PropertyPhotoInline(admin.TabularInline):
    model = PropertyPhoto
    extra = 0
    fields = ("position", "image", "url", "caption")


@admin.register(Property)
class PropertyAdmin(GuardedModelAdminMixin, OwnerScopedAdmin):
    list_display = ("name", "city", "country", "owner", "max_guests", "bedrooms", "base_price", "currency", "status")
    list_filter = ("status", "country", "city", "cancellation_policy")
    search_fields = ("name", "city", "slug")
    list_select_related = ("owner",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = [PropertyPhotoInline]
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("owner", "name", "slug", "status", "description", "house_rules")}),
        ("Location", {"fields": ("address", "city", "country", "latitude", "longitude", "timezone")}),
        ("Capacity", {"fields": ("max_guests", "bedrooms", "bathrooms", "amenities")}),
        (
            "Prices and rules",
            {
                "fields": (
                    "base_price",
                    "currency",
                    "cleaning_fee",
                    "default_min_stay",
                    "default_max_stay",
                    "min_notice_hours",
                    "max_advance_days",
                    "check_in_time",
                    "check_out_time",
                    "cancellation_policy",
                ),
            },
        ),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    )

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", request.user.pk)
        return initial

    def save_model(self, request, obj, form, change):
        if not is_pms_staff(request.user) and not change:
            obj.owner = request.user  # owners create properties for themselves only
        super().save_model(request, obj, form, change)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not is_pms_staff(request.user) and obj is not None:
            fields.append("owner")
        return fields

    def _may_share(self, request, object_pk) -> bool:
        """Only the owner (or staff) grants co-hosts access to a property."""
        obj = self.get_queryset(request).filter(pk=object_pk).first()
        return obj is not None and (is_pms_staff(request.user) or obj.owner_id == request.user.pk)

    def obj_perms_manage_view(self, request, object_pk):
        if not self._may_share(request, object_pk):
            raise Http404("Property not found.")
        return super().obj_perms_manage_view(request, object_pk)

    def obj_perms_manage_user_view(self, request, object_pk, user_id):
        if not self._may_share(request, object_pk):
            raise Http404("Property not found.")
        return super().obj_perms_manage_user_view(request, object_pk, user_id)

    def obj_perms_manage_group_view(self, request, object_pk, group_id):
        if not self._may_share(request, object_pk):
            raise Http404("Property not found.")
        return super().obj_perms_manage_group_view(request, object_pk, group_id)


@admin.register(PropertyPhoto)
class PropertyPhotoAdmin(OwnerScopedAdmin):
    list_display = ("__str__", "property", "position")
    list_select_related = ("property",)
    autocomplete_fields = ("property",)

from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy
from guardian.admin import GuardedModelAdminMixin

from apps.core.admin_mixins import OwnerScopedAdmin, OwnerScopedInline, _valid_pk
from apps.core.errors import DomainError
from apps.core.tenancy import is_pms_staff

from . import services
from .forms import PropertyAdminForm
from .models import Property, PropertyPhoto


class PropertyPhotoInline(OwnerScopedInline, admin.TabularInline):
    model = PropertyPhoto
    extra = 0
    fields = ("position", "image", "url", "caption")


@admin.register(Property)
class PropertyAdmin(GuardedModelAdminMixin, OwnerScopedAdmin):
    class Media:
        js = ["pms/admin.js", "backoffice/admin.js"]  # select-on-click, copy buttons (no inline handlers: CSP)

    form = PropertyAdminForm
    list_display = ("name", "city", "country", "owner", "max_guests", "bedrooms", "base_price", "currency", "status")
    list_filter = ("status", "country", "city", "cancellation_policy")
    search_fields = ("name", "city", "slug")
    list_select_related = ("owner",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = [PropertyPhotoInline]
    readonly_fields = ("created_at", "updated_at", "booking_widget", "ical_export")
    actions = ["action_archive"]
    fieldsets = (
        (None, {"fields": ("owner", "name", "slug", "status", "description", "house_rules")}),
        (
            gettext_lazy("Location"),
            {"fields": ("street", "postal_code", "city", "region", "country", "latitude", "longitude", "timezone")},
        ),
        (gettext_lazy("Capacity"), {"fields": ("max_guests", "bedrooms", "bathrooms", "amenities")}),
        (
            gettext_lazy("Prices and rules"),
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
        (gettext_lazy("Calendar export (iCal)"), {"fields": ("ical_export",)}),
        (gettext_lazy("Booking widget for your own website"), {"fields": ("booking_widget",)}),
        (gettext_lazy("Timestamps"), {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description=gettext_lazy("Export URL"))
    def ical_export(self, obj: Property | None) -> str:
        """The property's iCal feed for platforms that import one, with copy and regenerate (revokes it)."""
        if obj is None or not obj.pk:
            return "Save the home first."
        url = settings.SITE_URL.rstrip("/") + reverse("ical:export", kwargs={"token": obj.ical_token})
        regenerate = reverse("admin:backoffice_ical_regenerate", args=[obj.pk])
        return format_html(
            '<div data-ical-export><textarea readonly rows="1" cols="100" id="ical-export-url" '
            "data-select-on-click>{}</textarea><br>"
            '<button type="button" class="button" data-copy="#ical-export-url">Copy</button> '
            '<button type="submit" class="button" formaction="{}" formmethod="post" formnovalidate '
            'name="_regenerate_ical">Regenerate (the old URL stops working)</button>'
            "<p>Give this URL to a platform that imports calendars (Airbnb, Vrbo, Booking.com ...). No guest "
            "data is in it. Add <code>?exclude=airbnb</code> to leave out what came from Airbnb itself.</p></div>",
            url,
            regenerate,
        )

    @admin.display(description=gettext_lazy("Snippet"))
    def booking_widget(self, obj: Property | None) -> str:
        """The embeddable booking widget (spec 2.2): calendar and price, "Book now" opens our checkout."""
        if obj is None or not obj.pk:
            return "Save the home first."
        site = settings.SITE_URL.rstrip("/")
        url = site + reverse("storefront:embed", kwargs={"slug": obj.slug})
        iframe = (
            f'<iframe src="{url}" title="{obj.name}: availability and prices" width="100%" height="640" '
            f'style="border:0;max-width:720px" loading="lazy"></iframe>'
        )
        script = f'<script src="{site}{static("storefront/embed.js")}" data-home="{obj.slug}" async></script>'
        note = "" if obj.status == Property.Status.ACTIVE else " It shows once the home is active."
        return format_html(
            "<div data-widget-snippet><p>Copy one of these into your website's HTML: the frame as it is, or the "
            "script, which sizes the frame to its content. Guests pick dates, see the price and book here."
            "{}</p>"
            '<p><label>Frame<br><textarea readonly rows="3" cols="110" data-select-on-click>{}</textarea>'
            "</label></p>"
            '<p><label>Script<br><textarea readonly rows="2" cols="110" data-select-on-click>{}</textarea>'
            '</label></p><p><a href="{}" target="_blank" rel="noopener">Preview the widget</a></p></div>',
            note,
            iframe,
            script,
            url,
        )

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", request.user.pk)
        return initial

    def save_model(self, request, obj, form, change):
        """The form only validates; ``apps.properties.services`` writes (and tells the channels)."""
        values = {f: form.cleaned_data[f] for f in form.cleaned_data if f in services.PROPERTY_FIELDS or f == "owner"}
        owner = values.pop("owner", None)
        if change:
            changed = {f: v for f, v in values.items() if f in form.changed_data}
            if owner is not None and "owner" in form.changed_data and is_pms_staff(request.user):
                changed["owner_id"] = owner.pk
            prop = services.property_update(property_id=obj.pk, source="admin", **changed)
        else:
            owner_id = owner.pk if owner is not None and is_pms_staff(request.user) else request.user.pk
            prop = services.property_create(owner_id=owner_id, source="admin", **values)
        for field in Property._meta.concrete_fields:
            setattr(obj, field.attname, getattr(prop, field.attname))
        obj._state.adding = False
        obj._state.db = prop._state.db

    def delete_model(self, request, obj):
        services.property_delete(property_id=obj.pk, user=request.user)

    def has_delete_permission(self, request, obj=None):
        """Deleting is the owner's (or staff's) alone, as in the API; co-hosts never delete."""
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or services.property_may_delete(user=request.user, prop=obj))

    def get_deleted_objects(self, objs, request):
        """What goes with a property (blocks, rules, photos, its outbox events) is not the user's to
        delete one by one: only the property's own delete permission counts; bookings protect it."""
        to_delete, model_count, _, protected = super().get_deleted_objects(objs, request)
        perms_needed = {"property"} if any(not self.has_delete_permission(request, o) for o in objs) else set()
        return to_delete, model_count, perms_needed, protected

    @admin.action(
        description=gettext_lazy("Archive selected properties (off sale here and on every channel)"),
        permissions=["change"],
    )
    def action_archive(self, request, queryset):
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                services.property_archive(property_id=pk, source="admin")
                done += 1
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
        self.message_user(request, f"{done} propert{'y' if done == 1 else 'ies'} archived.", messages.SUCCESS)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not is_pms_staff(request.user) and obj is not None:
            fields.append("owner")
        return fields

    def _may_share(self, request, object_pk) -> bool:
        """Only the owner (or staff) grants co-hosts access to a property."""
        if not _valid_pk(Property, object_pk):  # /property/abc/permissions/ was a 500
            return False
        obj = self.get_queryset(request).filter(pk=object_pk).first()
        return obj is not None and (is_pms_staff(request.user) or obj.owner_id == request.user.pk)

    def obj_perms_manage_view(self, request, object_pk):
        if not self._may_share(request, object_pk):
            raise Http404("Property not found.")
        return super().obj_perms_manage_view(request, object_pk)

    def obj_perms_manage_user_view(self, request, object_pk, user_id):
        if not self._may_share(request, object_pk) or not str(user_id).isdigit():
            raise Http404("Property not found.")
        return super().obj_perms_manage_user_view(request, object_pk, user_id)

    def obj_perms_manage_group_view(self, request, object_pk, group_id):
        if not self._may_share(request, object_pk) or not str(group_id).isdigit():
            raise Http404("Property not found.")
        return super().obj_perms_manage_group_view(request, object_pk, group_id)


@admin.register(PropertyPhoto)
class PropertyPhotoAdmin(OwnerScopedAdmin):
    list_display = ("__str__", "property", "position")
    list_select_related = ("property",)
    autocomplete_fields = ("property",)

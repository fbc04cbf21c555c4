"""Vrbo in the admin (owner-scoped): per connection "Vrbo last read your availability N minutes ago"
and the log of every feed read (when, which document, 200 or 304)."""

from __future__ import annotations

from django.contrib import admin

from . import vrbo
from .admin import _ReadOnly
from .models import ChannelAlert, VrboFeedRead
from .models_vrbo import VrboFeedStatus


@admin.register(VrboFeedStatus)
class VrboFeedStatusAdmin(_ReadOnly):
    list_display = ("property", "listing", "availability_read", "stale_alert")
    list_select_related = ("property",)
    fields = ("property", "listing", "availability_read", "stale_alert", "feed_urls")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(platform=vrbo.PLATFORM)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Listing (listingExternalId)")
    def listing(self, obj):
        return vrbo.listing_external_id(obj)

    @admin.display(description="Vrbo's reads of your availability")
    def availability_read(self, obj):
        return vrbo.staleness_text(obj)

    @admin.display(description="Staleness alert", boolean=True)
    def stale_alert(self, obj):
        return ChannelAlert.objects.filter(
            connection=obj, kind=ChannelAlert.Kind.FEED_STALE, resolved_at__isnull=True
        ).exists()

    @admin.display(description="Give Vrbo these URLs")
    def feed_urls(self, obj):
        from django.utils.html import format_html_join

        urls = [vrbo._url("index", kind=k) for k in vrbo.KINDS] + [vrbo._url("booking_index")]
        return format_html_join("", "<div><code>{}</code></div>", ((u,) for u in urls))


@admin.register(VrboFeedRead)
class VrboFeedReadAdmin(_ReadOnly):
    list_display = ("read_at", "property", "document", "item", "status_code")
    list_filter = ("document", "status_code")
    list_select_related = ("property",)
    show_full_result_count = False

"""The Vrbo simulator in the admin (staff only): its listings with "crawl now", pause / resume the
crawler (the staleness fault), "a guest books on Vrbo" (the first stay open in what it crawled), and the
logs of crawls and booking requests."""

from __future__ import annotations

from django.contrib import admin, messages

from . import vrbo
from .admin import StaffOnly
from .models.vrbo import VrboSimBooking, VrboSimCrawl, VrboSimListing


@admin.register(VrboSimListing)
class VrboSimListingAdmin(StaffOnly):
    list_display = (
        "listing_external_id",
        "name",
        "feed_base",
        "crawl_interval_seconds",
        "paused",
        "slow_read_ms",
        "last_crawl_at",
        "last_crawl_error",
    )
    list_editable = ("paused", "slow_read_ms")
    readonly_fields = ("documents", "index_dates", "content", "rates", "availability", "bookings", "last_crawl_at")
    actions = ["crawl_now", "guest_books", "guest_books_stale", "pause", "resume"]

    @admin.action(description="Crawl our feeds now")
    def crawl_now(self, request, queryset):
        for listing in queryset:
            record = vrbo.crawl(listing, trigger="admin")
            level = messages.ERROR if record.error else messages.SUCCESS
            self.message_user(
                request,
                f"{listing.listing_external_id}: {record.fetched} downloaded, {record.not_modified} unchanged (304)"
                + (f"; error: {record.error}" if record.error else "."),
                level,
            )

    def _book(self, request, queryset, *, force: bool):
        for listing in queryset:
            stay = vrbo.first_open_stay(listing)
            if stay is None:
                self.message_user(request, f"{listing.listing_external_id}: no open stay crawled yet.", messages.ERROR)
                continue
            try:
                record = vrbo.book(listing, check_in=stay[0], check_out=stay[1], force=force)
            except Exception as exc:  # noqa: BLE001 - shown to the staff member
                self.message_user(request, f"{listing.listing_external_id}: {exc}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{listing.listing_external_id}: booking request {record.tracking_uuid} for {record.check_in} to "
                f"{record.check_out} ({record.total} {record.currency}): {record.get_status_display()}"
                + (f" {record.pms_external_id}" if record.pms_external_id else f" {record.error_code}"),
            )

    @admin.action(description="A guest books on Vrbo (first open stay, 3 nights, 14 days ahead)")
    def guest_books(self, request, queryset):
        self._book(request, queryset, force=False)

    @admin.action(description="A guest books on Vrbo without a fresh crawl (what it crawled, even if stale)")
    def guest_books_stale(self, request, queryset):
        self._book(request, queryset, force=True)

    @admin.action(description="Pause the crawler (fault: Vrbo stops reading)")
    def pause(self, request, queryset):
        queryset.update(paused=True)

    @admin.action(description="Resume the crawler")
    def resume(self, request, queryset):
        queryset.update(paused=False)


@admin.register(VrboSimCrawl)
class VrboSimCrawlAdmin(StaffOnly):
    list_display = ("started_at", "listing", "trigger", "fetched", "not_modified", "error")
    list_filter = ("trigger",)

    def has_add_permission(self, request):
        return False


@admin.register(VrboSimBooking)
class VrboSimBookingAdmin(StaffOnly):
    list_display = (
        "created_at",
        "tracking_uuid",
        "listing",
        "check_in",
        "check_out",
        "total",
        "status",
        "pms_external_id",
        "error_code",
        "latency_ms",
    )
    list_filter = ("status",)
    actions = ["cancel"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="The guest cancels on Vrbo")
    def cancel(self, request, queryset):
        for record in queryset.filter(status=VrboSimBooking.Status.BOOKED):
            vrbo.cancel(record)

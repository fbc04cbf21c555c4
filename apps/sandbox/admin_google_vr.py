"""The Google Vacation Rentals simulator in the admin (staff only): partner accounts (fetch the Hotel
List Feed, run "a traveller searches"), listings, calendar days, messages and price-accuracy checks."""

from __future__ import annotations

from django.contrib import admin, messages

from . import google_vr
from .admin import StaffOnly
from .models.google_vr import GoogleAccount, GoogleAccuracyCheck, GoogleDay, GoogleListing, GoogleMessage


@admin.register(GoogleAccount)
class GoogleAccountAdmin(StaffOnly):
    list_display = ("partner", "allowed_ips", "feed_url", "last_feed_fetch_at", "last_feed_status")
    readonly_fields = ("last_feed_fetch_at", "last_feed_status")
    actions = ["fetch_feed", "traveller_search"]

    @admin.action(description="Fetch the Hotel List Feed now")
    def fetch_feed(self, request, queryset):
        for account in queryset:
            summary = google_vr.fetch_feed(account)
            messages.info(request, f"{account.partner}: {summary['status']}")

    @admin.action(description="A traveller searches (10 stays per listing: price-accuracy check)")
    def traveller_search(self, request, queryset):
        for listing in GoogleListing.objects.filter(account__in=queryset, listed=True):
            checks = [c for c in (google_vr.traveller_search(listing) for _ in range(10)) if c is not None]
            matched = sum(c.match for c in checks)
            level = messages.SUCCESS if matched == len(checks) else messages.WARNING
            messages.add_message(request, level, f"{listing.hotel_id}: {matched}/{len(checks)} prices match")


@admin.register(GoogleListing)
class GoogleListingAdmin(StaffOnly):
    list_display = ("hotel_id", "account", "name", "listed", "capacity", "room_capacity", "problems")
    list_filter = ("listed", "account")
    search_fields = ("hotel_id", "name")


@admin.register(GoogleDay)
class GoogleDayAdmin(StaffOnly):
    list_display = ("listing", "day", "booking_limit", "inventory", "closed", "min_los", "max_los", "rates")
    list_filter = ("listing",)
    date_hierarchy = "day"


@admin.register(GoogleMessage)
class GoogleMessageAdmin(StaffOnly):
    list_display = ("received_at", "account", "kind", "message_id", "timestamp", "status")
    list_filter = ("kind", "status")


@admin.register(GoogleAccuracyCheck)
class GoogleAccuracyCheckAdmin(StaffOnly):
    list_display = ("created_at", "listing", "check_in", "nights", "guests", "expected", "shown", "match", "reason")
    list_filter = ("match",)

from django.urls import path

from . import airbnb

app_name = "sandbox_airbnb"
urlpatterns = [
    path("oauth2/auth", airbnb.consent, name="consent"),
    path("v2/oauth2/token", airbnb.token, name="token"),
    path("v2/listings", airbnb.listings, name="listings"),
    path("v2/listings/<str:listing_id>", airbnb.listing_detail, name="listing"),
    path("v2/calendar_operations", airbnb.calendar_operations, name="calendar_operations"),
    path("v2/calendars/<str:listing_id>", airbnb.calendar, name="calendar"),
    path("v2/pricing_settings/<str:listing_id>", airbnb.pricing_settings, name="pricing_settings"),
    path("v2/availability_rules/<str:listing_id>", airbnb.availability_rules, name="availability_rules"),
    path("v2/reservations", airbnb.reservations, name="reservations"),
    path("v2/reservations/<str:code>", airbnb.reservation_detail, name="reservation"),
    path("v2/reservations/<str:code>/<str:action>", airbnb.reservation_action, name="reservation_action"),
]

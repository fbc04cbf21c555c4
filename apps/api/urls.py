"""/api/: v1 resources, the OpenAPI schema and its docs (served offline from the sidecar)."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from apps.availability.api import BlockViewSet, PricingRuleViewSet, QuoteView, SearchView
from apps.bookings.api import BookingViewSet, GuestViewSet
from apps.channels.api import ChannelConnectionViewSet
from apps.integrations.api import WebhookDeliveryViewSet, WebhookSubscriptionViewSet
from apps.ledger.api import ReportView, StatementView
from apps.payments.api import PaymentViewSet
from apps.properties.api import PropertyPhotoViewSet, PropertyViewSet

from .events import SyncEventViewSet
from .exceptions import not_found_view

app_name = "api"

router = SimpleRouter()
router.register("properties", PropertyViewSet, basename="property")
router.register("photos", PropertyPhotoViewSet, basename="photo")
router.register("blocks", BlockViewSet, basename="block")
router.register("pricing-rules", PricingRuleViewSet, basename="pricing-rule")
router.register("bookings", BookingViewSet, basename="booking")
router.register("guests", GuestViewSet, basename="guest")
router.register("payments", PaymentViewSet, basename="payment")
router.register("sync-events", SyncEventViewSet, basename="sync-event")
router.register("channel-connections", ChannelConnectionViewSet, basename="channel-connection")
router.register("webhook-subscriptions", WebhookSubscriptionViewSet, basename="webhook-subscription")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

v1 = [
    path("quotes/", QuoteView.as_view(), name="quote"),
    path("search/", SearchView.as_view(), name="search"),
    path("statements/", StatementView.as_view(), name="statement"),
    path("reports/", ReportView.as_view(), name="report"),
    *router.urls,
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("docs/redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^[\s\S]*$", not_found_view),
]

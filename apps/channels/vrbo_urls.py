"""FeWo-direkt / Vrbo endpoints, mounted at ``/vrbo/`` (see ``apps.channels.vrbo_views``)."""

from django.urls import path

from . import vrbo_views

app_name = "vrbo"
urlpatterns = [
    path("booking", vrbo_views.booking_request, name="booking"),
    path("quote", vrbo_views.quote, name="quote"),
    path("feeds/bookings/index.xml", vrbo_views.booking_index, name="booking_index"),
    path("feeds/bookings/<str:external_id>.xml", vrbo_views.booking_update, name="booking_update"),
    path("feeds/<slug:kind>/index.xml", vrbo_views.index, name="index"),
    path("feeds/<slug:kind>/<str:listing>.xml", vrbo_views.document, name="document"),
]

from django.urls import include, path

from . import views, views_expedia, views_google

app_name = "channels"
urlpatterns: list = [
    path(
        "google_vr/feed/<slug:partner>/<int:owner_id>/<str:token>/hotel_list.xml",
        views_google.hotel_list_feed,
        name="google_vr_feed",
    ),
    path("airbnb/", include("apps.channels.airbnb_urls")),
    path("expedia/bn/", views_expedia.booking_notification, {"platform": "expedia"}, name="expedia_bn"),
    path("<slug:platform>/", views.webhook, name="webhook"),
]

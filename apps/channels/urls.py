from django.urls import include, path

from . import views, views_google

app_name = "channels"
urlpatterns: list = [
    path(
        "google_vr/feed/<slug:partner>/<int:owner_id>/<str:token>/hotel_list.xml",
        views_google.hotel_list_feed,
        name="google_vr_feed",
    ),
    path("airbnb/", include("apps.channels.airbnb_urls")),
    path("<slug:platform>/", views.webhook, name="webhook"),
]

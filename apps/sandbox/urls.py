from django.urls import include, path

app_name = "sandbox"
urlpatterns: list = [
    path("ical/", include("apps.sandbox.ical_urls")),
    path("booking_com/", include("apps.sandbox.booking_com_urls")),
    path("expedia/", include("apps.sandbox.expedia_urls")),
    path("google/", include("apps.sandbox.google_vr_urls")),
    path("airbnb/", include("apps.sandbox.airbnb_urls")),
    path("vrbo/", include("apps.sandbox.vrbo_urls")),
]

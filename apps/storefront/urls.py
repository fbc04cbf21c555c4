from django.urls import include, path

from . import views, views_google

app_name = "storefront"
urlpatterns = [
    path("", views.search, name="search"),
    path("properties/<slug:slug>/", views.property_detail, name="property"),
    path("properties/<slug:slug>/book/", views.checkout_details, name="checkout"),
    path("embed/<slug:slug>/", views.embed, name="embed"),
    path("go/google/<str:hotel_id>/", views_google.landing, name="google_landing"),
    path("checkout/payment/", views.checkout_payment, name="payment"),
    path("bookings/<str:reference>/", views.confirmation, name="confirmation"),
    path("bookings/<str:reference>/calendar.ics", views.confirmation_ics, name="confirmation_ics"),
    path("manage/", views.portal_request, name="portal_request"),
    path("manage/<str:token>/", views.portal, name="portal"),
    path("manage/<str:token>/cancel/", views.portal_cancel, name="portal_cancel"),
    path("manage/<str:token>/review/", views.portal_review, name="portal_review"),
    path("i18n/", include("django.conf.urls.i18n")),
]

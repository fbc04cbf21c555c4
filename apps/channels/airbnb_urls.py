from django.urls import path

from . import views_airbnb

urlpatterns = [
    path("", views_airbnb.elsewhere, {"platform": "airbnb"}, name="airbnb_elsewhere"),
    path("reservations", views_airbnb.reservations, {"platform": "airbnb"}, name="airbnb_reservations"),
    path("reservations/<str:code>", views_airbnb.reservation, {"platform": "airbnb"}, name="airbnb_reservation"),
    path("notifications", views_airbnb.notifications, {"platform": "airbnb"}, name="airbnb_notifications"),
]

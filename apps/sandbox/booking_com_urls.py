from django.urls import path

from . import booking_com

app_name = "sandbox_booking_com"
urlpatterns = [
    path("hotels/ota/OTA_HotelAvailNotif", booking_com.avail_notif, name="avail_notif"),
    path("hotels/ota/OTA_HotelRateAmountNotif", booking_com.rate_notif, name="rate_notif"),
    path("hotels/ota/OTA_HotelResNotif", booking_com.res_notif, name="res_notif"),
    path("hotels/ota/OTA_HotelResModifyNotif", booking_com.res_modify_notif, name="res_modify_notif"),
    path("hotels/xml/reservations", booking_com.all_reservations, name="reservations"),
    path("hotels/xml/roomrateavailability", booking_com.room_rate_availability, name="roomrateavailability"),
    path("token-based-authentication/exchange", booking_com.token_exchange, name="token_exchange"),
]

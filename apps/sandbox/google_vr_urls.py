from django.urls import path

from . import google_vr

app_name = "sandbox_google_vr"
urlpatterns = [
    path("travel/hotels/uploads/property_data", google_vr.property_data, name="property_data"),
    path("travel/hotels/uploads/taxes", google_vr.taxes, name="taxes"),
    path("travel/hotels/uploads/promotions", google_vr.promotions, name="promotions"),
    path("travel/hotels/uploads/ota/hotel_avail_notif", google_vr.avail_notif, name="avail_notif"),
    path("travel/hotels/uploads/ota/hotel_rate_amount_notif", google_vr.rate_notif, name="rate_notif"),
    path("travel/hotels/uploads/ota/hotel_inv_count_notif", google_vr.inv_count_notif, name="inv_count_notif"),
]

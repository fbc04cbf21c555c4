from django.urls import path

from . import expedia

app_name = "sandbox_expedia"
urlpatterns = [
    path("eqc/ar", expedia.avail_rate_update, name="ar"),
    path("eqc/br", expedia.booking_retrieval, name="br"),
    path("eqc/bc", expedia.booking_confirm, name="bc"),
    path("eqc/parr", expedia.product_avail_rate_retrieval, name="parr"),
]

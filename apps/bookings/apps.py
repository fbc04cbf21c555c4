from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class BookingsConfig(AppConfig):
    name = "apps.bookings"
    label = "bookings"
    verbose_name = gettext_lazy("Bookings")

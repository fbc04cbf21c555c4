from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class BookingsConfig(AppConfig):
    name = "apps.bookings"
    label = "bookings"
    verbose_name = gettext_lazy("Bookings")

    def ready(self) -> None:
        from apps.core.observability import register_scrape_collector

        from .metrics import BookingCollector

        register_scrape_collector(BookingCollector)

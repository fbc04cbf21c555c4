from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class AvailabilityConfig(AppConfig):
    name = "apps.availability"
    label = "availability"
    verbose_name = gettext_lazy("Availability & pricing")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class BackofficeConfig(AppConfig):
    """The owner's back office inside the Django admin: calendar, dashboard, sync health."""

    name = "apps.backoffice"
    label = "backoffice"
    verbose_name = gettext_lazy("Back office")

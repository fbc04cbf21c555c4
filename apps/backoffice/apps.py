from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The owner's back office inside the Django admin: calendar, dashboard, sync health."""

    name = "apps.backoffice"
    label = "backoffice"
    verbose_name = "Back office"

from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class PropertiesConfig(AppConfig):
    name = "apps.properties"
    label = "properties"
    verbose_name = gettext_lazy("Properties")

    def ready(self) -> None:
        from apps.core.tenancy import register_property_scope

        from .selectors import GuardianPropertyScope

        register_property_scope(GuardianPropertyScope())

from django.apps import AppConfig


class PropertiesConfig(AppConfig):
    name = "apps.properties"
    label = "properties"
    verbose_name = "Properties"

    def ready(self) -> None:
        from apps.core.tenancy import register_property_scope

        from .selectors import GuardianPropertyScope

        register_property_scope(GuardianPropertyScope())

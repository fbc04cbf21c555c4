from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class SandboxConfig(AppConfig):
    name = "apps.sandbox"
    label = "sandbox"
    verbose_name = gettext_lazy("Sandboxes (simulators)")

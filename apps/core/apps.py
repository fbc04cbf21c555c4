from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = gettext_lazy("Core")

    def ready(self) -> None:
        from .roles import ensure_roles

        post_migrate.connect(ensure_roles, dispatch_uid="pms-ensure-roles")

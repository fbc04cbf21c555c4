from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = gettext_lazy("Core")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from . import audit
        from .roles import ensure_roles

        post_migrate.connect(ensure_roles, dispatch_uid="pms-ensure-roles")
        # audit log: triggers (re)installed after every migrate; every connection reports its actor
        post_migrate.connect(audit.install_triggers, dispatch_uid="pms-audit-triggers")
        connection_created.connect(audit.install_execute_wrapper, dispatch_uid="pms-audit-actor")

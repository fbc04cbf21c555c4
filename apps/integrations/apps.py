from django.apps import AppConfig
from django.db.models.signals import post_migrate

#: model -> permissions owners, co-hosts and staff get; rows are still narrowed to the user's own.
USER_PERMISSIONS = {
    "webhooksubscription": ["view", "add", "change", "delete"],
    "webhookdelivery": ["view", "change"],  # change = the retry action; the rows are read-only
}


def grant_permissions(**_: object) -> None:
    from django.contrib.auth.models import Group, Permission

    from apps.core.tenancy import COHOSTS_GROUP, OWNERS_GROUP, STAFF_GROUP

    perms = list(
        Permission.objects.filter(
            content_type__app_label="integrations",
            codename__in=[f"{a}_{m}" for m, actions in USER_PERMISSIONS.items() for a in actions],
        )
    )
    if not perms:
        return
    for name in (OWNERS_GROUP, STAFF_GROUP, COHOSTS_GROUP):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*perms)


class IntegrationsConfig(AppConfig):
    """Outbound webhooks for integrators: subscriptions, signed deliveries, the event catalogue."""

    name = "apps.integrations"
    label = "integrations"
    verbose_name = "Integrations (webhooks)"

    def ready(self) -> None:
        post_migrate.connect(grant_permissions, dispatch_uid="integrations.grant_permissions")

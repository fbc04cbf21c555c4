from django.apps import AppConfig
from django.db.models.signals import post_migrate


def grant_ledger_permissions(**_: object) -> None:
    """Owners and staff read the ledger (rows narrowed by ``visible_to``) and keep their finance
    settings (management fee per property, legal details for invoices). Ledger lines are read-only."""
    from django.contrib.auth.models import Group, Permission

    from apps.core.tenancy import OWNERS_GROUP, STAFF_GROUP

    perms = list(
        Permission.objects.filter(
            content_type__app_label="ledger",
            codename__in=[
                "view_ledgerline",
                "view_propertyfinance",
                "change_propertyfinance",
                "add_propertyfinance",
                "view_ownerstatement",
                "view_invoice",
                "view_ownerlegal",
                "add_ownerlegal",
                "change_ownerlegal",
            ],
        )
    )
    if not perms:
        return
    for name in (OWNERS_GROUP, STAFF_GROUP):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*perms)


class LedgerConfig(AppConfig):
    name = "apps.ledger"
    label = "ledger"
    verbose_name = "Money"

    def ready(self) -> None:
        post_migrate.connect(grant_ledger_permissions, sender=self, dispatch_uid="ledger_grant_permissions")

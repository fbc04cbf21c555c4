from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy


def grant_payment_permissions(**_: object) -> None:
    """Owners and staff see payments and refunds in the admin (rows narrowed by ``visible_to``);
    "change" on payments lets them use the sync and refund actions. Records stay read-only."""
    from django.contrib.auth.models import Group, Permission

    from apps.core.tenancy import OWNERS_GROUP, STAFF_GROUP

    perms = list(
        Permission.objects.filter(
            content_type__app_label="payments",
            codename__in=["view_payment", "change_payment", "view_refund"],
        )
    )
    if not perms:
        return
    for name in (OWNERS_GROUP, STAFF_GROUP):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*perms)
    staff = Group.objects.get(name=STAFF_GROUP)
    staff.permissions.add(*Permission.objects.filter(content_type__app_label="payments", codename="view_stripeevent"))


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"
    verbose_name = gettext_lazy("Payments")

    def ready(self) -> None:
        post_migrate.connect(grant_payment_permissions, sender=self, dispatch_uid="payments_grant_permissions")

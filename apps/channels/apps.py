from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy

#: model -> permissions owners (and co-hosts, staff) get; rows are still narrowed by visible_to.
OWNER_PERMISSIONS = {
    "channelconnection": ["view", "add", "change", "delete"],
    "delivery": ["view", "change"],  # change = the retry action; the form itself is read-only
    "deadletter": ["view", "change"],
    "inboundmessage": ["view"],
    "channelalert": ["view", "change"],
    "reconciliationrun": ["view"],
    "reconciliationitem": ["view"],
    "airbnbrequest": ["view", "change"],  # change = accept / pre-approve / decline
    "vrbofeedstatus": ["view"],  # Vrbo: "last read your availability N minutes ago"
    "vrbofeedread": ["view"],  # Vrbo: every read of the feeds we host
}


def grant_channel_permissions(**_: object) -> None:
    from django.contrib.auth.models import Group, Permission

    from apps.core.tenancy import COHOSTS_GROUP, OWNERS_GROUP, STAFF_GROUP

    perms = list(
        Permission.objects.filter(
            content_type__app_label="channels",
            codename__in=[f"{a}_{m}" for m, actions in OWNER_PERMISSIONS.items() for a in actions],
        )
    )
    if not perms:
        return
    for name in (OWNERS_GROUP, STAFF_GROUP, COHOSTS_GROUP):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*perms)


class ChannelsConfig(AppConfig):
    name = "apps.channels"
    label = "channels"
    verbose_name = gettext_lazy("Channel manager")

    def ready(self) -> None:
        post_migrate.connect(grant_channel_permissions, dispatch_uid="channels.grant_permissions")
        from apps.core.observability import register_scrape_collector

        from .metrics import BreakerCollector, ChannelQueueCollector, SyncErrorRateCollector

        register_scrape_collector(BreakerCollector)
        register_scrape_collector(SyncErrorRateCollector)
        register_scrape_collector(ChannelQueueCollector)

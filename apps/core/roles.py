"""The groups that decide what a user sees (see ``apps.core.tenancy``), created after migrate."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from .tenancy import COHOSTS_GROUP, OWNERS_GROUP, STAFF_GROUP

# Model permissions let a group into the admin's pages; the rows each user sees there are
# still narrowed by ``visible_to``.
OWNER_MODELS = {
    "properties": ["property", "propertyphoto"],
    "availability": ["availabilityblock", "pricingrule"],
    "bookings": ["booking", "guest"],
    "core": ["syncevent", "auditentry"],
    "storefront": ["review"],
}
READ_ONLY = {("core", "syncevent"), ("core", "auditentry"), ("storefront", "review")}


def ensure_roles(**_: object) -> None:
    perms = []
    cohost_perms = []
    for app_label, models in OWNER_MODELS.items():
        for model in models:
            actions = ["view"] if (app_label, model) in READ_ONLY else ["view", "add", "change", "delete"]
            for action in actions:
                perm = Permission.objects.filter(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                ).first()
                if perm is None:
                    continue
                perms.append(perm)
                if not (model == "property" and action in ("add", "delete")):
                    cohost_perms.append(perm)
    owners, _ = Group.objects.get_or_create(name=OWNERS_GROUP)
    owners.permissions.add(*perms)
    cohosts, _ = Group.objects.get_or_create(name=COHOSTS_GROUP)
    cohosts.permissions.add(*cohost_perms)
    staff, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    staff.permissions.add(*perms)

"""What an iCal import remembers about a feed between fetches (see ``apps.channels.ical``)."""

from __future__ import annotations

from django.db import models

from apps.core.tenancy import scoped_queryset


class IcalFeedState(models.Model):
    """One per imported feed: (property, source, connection). Counts the run of whole, valid fetches
    that held no events while blocks from earlier fetches still close future dates; such a run
    releases nothing until the rule in ``apps.channels.ical`` (``empty_feed_may_release``) allows it."""

    property = models.ForeignKey("properties.Property", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=20)
    connection_id = models.BigIntegerField(null=True, blank=True)
    empty_since = models.DateTimeField(null=True, blank=True, help_text="First empty fetch of the current run.")
    empty_fetches = models.PositiveIntegerField(default=0, help_text="Consecutive whole, valid fetches without events.")
    release_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="The owner confirmed that the feed is empty on purpose."
    )
    last_events = models.PositiveIntegerField(default=0, help_text="Events in the last whole, valid fetch.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("property").as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["property", "source", "connection_id"], name="ical_feed_state_unique", nulls_distinct=False
            ),
        ]

    def __str__(self) -> str:
        return f"iCal feed {self.source} of property {self.property_id} (connection {self.connection_id})"

"""Periodic tasks, declared in code and written to django-celery-beat's tables by
``manage.py setup_periodic_tasks`` (idempotent; run by ``release`` and ``make demo``).

Other apps add theirs to ``PERIODIC_TASKS`` below.
"""

from __future__ import annotations

PERIODIC_TASKS: list[dict] = [
    {"name": "Outbox sweeper", "task": "core.sweep_outbox", "every_seconds": 30},
    {"name": "Expire lapsed holds", "task": "bookings.expire_holds", "every_seconds": 60},
    {"name": "Channels: deliveries due", "task": "channels.deliver_due", "every_seconds": 10},
    {"name": "Channels: pull reservations", "task": "channels.pull_reservations", "every_seconds": 20},
    # run_at_start: the first run comes as soon as beat starts (not one interval later).
    {
        "name": "Channels: import iCal feeds",
        "task": "channels.import_ical_feeds",
        "every_seconds": 900,
        "run_at_start": True,
    },
    {"name": "Channels: daily reconciliation", "task": "channels.reconcile_all", "crontab": ("30", "3")},
    {"name": "Channels: Vrbo feed staleness", "task": "channels.vrbo_staleness", "every_seconds": 60},
    {"name": "Sandbox: Vrbo simulator crawls due", "task": "sandbox.vrbo_crawl_due", "every_seconds": 5},
    {"name": "Purge old Idempotency-Key records", "task": "api.purge_idempotency_records", "every_seconds": 3600},
    {"name": "Webhooks: deliveries due", "task": "integrations.deliver_due", "every_seconds": 15},
    {"name": "Payments: cancel stale intents, settle, retry refunds", "task": "payments.sweep", "every_seconds": 120},
    {"name": "Back office: owner notifications", "task": "backoffice.send_notifications", "every_seconds": 20},
    {"name": "Back office: daily digest", "task": "backoffice.daily_digest", "crontab": ("0", "17")},
    {"name": "Privacy: purge old raw inbound bodies", "task": "privacy.purge_inbound_bodies", "crontab": ("15", "4")},
]

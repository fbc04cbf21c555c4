"""Periodic tasks, declared in code and written to django-celery-beat's tables by
``manage.py setup_periodic_tasks`` (idempotent; run by ``release`` and ``make demo``).

Other apps add theirs to ``PERIODIC_TASKS`` below.
"""

from __future__ import annotations

PERIODIC_TASKS: list[dict] = [
    {"name": "Outbox sweeper", "task": "core.sweep_outbox", "every_seconds": 30},
    {"name": "Expire lapsed holds", "task": "bookings.expire_holds", "every_seconds": 60},
]

"""State shared by every simulator: injected faults and the log of requests answered."""

from __future__ import annotations

from django.db import models


class SimFault(models.Model):
    """A fault the simulator injects into matching requests (``remaining`` = null: until removed)."""

    class Kind(models.TextChoices):
        LATENCY = "latency", "Added latency"
        ERROR_5XX = "5xx", "HTTP 5xx"
        RATE_LIMIT = "429", "HTTP 429 with Retry-After"
        TIMEOUT = "timeout", "Timeout (sleep past the client's timeout)"
        MALFORMED = "malformed", "Malformed body"
        DOWN = "down", "Connection refused-like 503"

    simulator = models.CharField(max_length=20, default="booking_com")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    path_contains = models.CharField(max_length=100, blank=True, default="", help_text="Only matching paths.")
    remaining = models.IntegerField(null=True, blank=True, help_text="How many more requests; empty = always.")
    latency_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(default=503)
    retry_after = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)
    hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.simulator} {self.kind} ({'on' if self.active else 'off'})"


class SimRequest(models.Model):
    """Log of every request a simulator answered (for tests, the demo and debugging)."""

    simulator = models.CharField(max_length=20, default="booking_com")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status_code = models.PositiveSmallIntegerField()
    body = models.TextField(blank=True, default="")
    response = models.TextField(blank=True, default="")
    fault = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

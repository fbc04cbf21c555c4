"""``python manage.py benchmark <name> [--properties N --bookings M] --json``

Runs one of the benchmarks the project ships (``BENCHMARKS`` below: search and quote in
``apps.benchmarks.search``, channel sync in ``apps.benchmarks.sync``); each takes the parsed options
(keyword arguments) and returns a JSON-able dict. Benchmarks run against a separate database
(``--database``, default ``pms_bench``) that they create and migrate, never against the configured one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.benchmarks.api import bench_api
from apps.benchmarks.search import bench_quote, bench_search
from apps.benchmarks.sync import bench_sync

BenchmarkFn = Callable[..., dict[str, Any]]

BENCHMARKS: dict[str, BenchmarkFn] = {
    "search": bench_search,
    "quote": bench_quote,
    "sync": bench_sync,
    "api": bench_api,
}


def registry() -> dict[str, BenchmarkFn]:
    return dict(BENCHMARKS)


class Command(BaseCommand):
    help = "Run a named benchmark on its own generated data in a separate database and print the figures."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="Benchmark to run (omit to list them).")
        parser.add_argument("--properties", type=int, default=1000)
        parser.add_argument("--bookings", type=int, default=100_000)
        parser.add_argument("--iterations", "-n", type=int, default=300, help="Measured runs.")
        parser.add_argument("--warmup", type=int, default=30, help="Unmeasured runs first.")
        parser.add_argument("--reservations", type=int, default=200, help="sync: inbound reservations to pull.")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--database", default="pms_bench", help="Database to (re)create for the data.")
        parser.add_argument("--rebuild", action="store_true", help="Drop and reload the data even if it matches.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--seconds", type=float, default=10.0, help="api: measured seconds per workload.")
        parser.add_argument("--web-workers", type=int, default=4, help="api: gunicorn workers.")

    def handle(self, *args, **options):
        benchmarks = registry()
        name = options["name"]
        if not name:
            self.stdout.write("Benchmarks: " + ", ".join(sorted(benchmarks)))
            return
        if name not in benchmarks:
            raise CommandError(f"Unknown benchmark “{name}”. Available: {', '.join(sorted(benchmarks)) or 'none'}.")
        for key in ("properties", "bookings", "iterations"):
            if options[key] < 1:
                raise CommandError(f"--{key} must be at least 1.")
        if options["warmup"] < 0:
            raise CommandError("--warmup must not be negative.")
        if not options["json"]:
            self.stderr.write(f"Running benchmark {name} on database {options['database']}…")
        result = {"benchmark": name, **benchmarks[name](log=self.stderr.write, **options)}
        result["debug"] = settings.DEBUG
        if options["json"]:
            self.stdout.write(json.dumps(result, default=str))
        else:
            width = max(len(k) for k in result)
            for key, value in result.items():
                self.stdout.write(f"{key.ljust(width)}  {value}")

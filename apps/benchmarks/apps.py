from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """The benchmarks the project ships (``manage.py benchmark``): search, quote, sync, ..."""

    name = "apps.benchmarks"
    label = "benchmarks"
    default_auto_field = "django.db.models.BigAutoField"

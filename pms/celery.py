import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pms.settings")

app = Celery("pms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.worker_process_init.connect
def _tracing(**kwargs) -> None:
    """Trace task runs and what they call when OTEL_EXPORTER_OTLP_ENDPOINT is set (apps.core.tracing)."""
    from apps.core.tracing import tracing_setup

    tracing_setup(service="worker")


@signals.worker_process_shutdown.connect
@signals.worker_shutdown.connect
def _tracing_flush(**kwargs) -> None:
    from apps.core.tracing import tracing_flush

    tracing_flush()

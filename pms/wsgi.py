import os

import django
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pms.settings")
django.setup(set_prefix=False)

from apps.core.tracing import tracing_setup  # noqa: E402 - needs the settings

tracing_setup(service="web")  # only when OTEL_EXPORTER_OTLP_ENDPOINT is set; before the handler loads middleware
application = get_wsgi_application()

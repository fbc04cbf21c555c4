from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from apps.core import observability
from apps.core import views as core_views
from apps.ledger import views as ledger_views

urlpatterns = [
    # Every browser asks for /favicon.ico (the admin and the API docs too): served, never a 404.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.ico"), permanent=True), name="favicon"),
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", observability.metrics_view, name="metrics"),
    path("api/", include("apps.api.urls")),
    path("payments/", include("apps.payments.urls")),
    path("webhooks/", include("apps.channels.urls")),
    path("ical/", include("apps.channels.ical_urls")),
    path("invoices/<str:reference>/<int:number>.pdf", ledger_views.guest_invoice, name="guest_invoice"),
    path("vrbo/", include("apps.channels.vrbo_urls")),  # FeWo-direkt / Vrbo: feeds it crawls, booking requests
    path("", include("apps.storefront.urls")),
]

if getattr(settings, "SANDBOX_ENABLED", False):
    urlpatterns.insert(0, path("sandbox/", include("apps.sandbox.urls")))

if settings.DEBUG:  # the demo serves uploaded and drawn photos itself (production: the web server or S3)
    from django.conf.urls.static import static as serve_files

    urlpatterns += serve_files(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# 503 + Retry-After when PostgreSQL or Redis is unreachable for now; JSON on API/webhook paths
handler500 = "apps.core.views.server_error"

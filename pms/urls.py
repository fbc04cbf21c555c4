from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from apps.core import observability
from apps.core import views as core_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", observability.metrics_view, name="metrics"),
    path("api/", include("apps.api.urls")),
    path("payments/", include("apps.payments.urls")),
    path("webhooks/", include("apps.channels.urls")),
    path("ical/", include("apps.channels.ical_urls")),
    path("", include("apps.storefront.urls")),
]

if getattr(settings, "SANDBOX_ENABLED", False):
    urlpatterns.insert(0, path("sandbox/", include("apps.sandbox.urls")))

if settings.DEBUG:  # the demo serves uploaded and drawn photos itself (production: the web server or S3)
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

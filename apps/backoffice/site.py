"""The admin site of the product: its name on every page, the dashboard as the index, and the back
office's pages (calendar, sync health) behind the admin's own login.

Every page is a thin caller: reads through ``apps.backoffice.selectors`` (scoped with ``visible_to``),
writes through the domain services (``managed_by`` decides who may write)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy


class PMSAdminSite(admin.AdminSite):
    site_header = gettext_lazy("PMS-Webapp back office")
    site_title = "PMS-Webapp"
    index_title = gettext_lazy("Today")
    index_template = "admin/backoffice/index.html"

    def get_urls(self):
        from . import views

        urls = [
            path("calendar/", self.admin_view(views.calendar_view(self)), name="backoffice_calendar"),
            path("calendar/edit/", self.admin_view(views.calendar_edit_view(self)), name="backoffice_calendar_edit"),
            path("sync-health/", self.admin_view(views.sync_health_view(self)), name="backoffice_sync_health"),
            path(
                "ical-regenerate/<int:pk>/",
                self.admin_view(views.ical_regenerate_view(self)),
                name="backoffice_ical_regenerate",
            ),
            path("notifications/", self.admin_view(views.notifications_view(self)), name="backoffice_notifications"),
            path("sync-health/action/", self.admin_view(views.sync_action_view(self)), name="backoffice_sync_action"),
        ]
        return urls + super().get_urls()

    def index(self, request, extra_context=None):
        from . import views

        extra_context = {**(extra_context or {}), **views.dashboard_context(request)}
        return super().index(request, extra_context)

"""The admin app with the back office's site (listed in INSTALLED_APPS instead of django.contrib.admin).

Kept apart from ``apps.py`` and ``site.py``: app configs load before models, so this imports nothing
of the project."""

from django.contrib.admin.apps import AdminConfig


class PMSAdminConfig(AdminConfig):
    default_site = "apps.backoffice.site.PMSAdminSite"

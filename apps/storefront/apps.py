from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class StorefrontConfig(AppConfig):
    name = "apps.storefront"
    label = "storefront"
    verbose_name = gettext_lazy("Guest pages")

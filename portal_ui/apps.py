from django.apps import AppConfig


class PortalUiConfig(AppConfig):
    name = "portal_ui"
    verbose_name = "Shared page helpers"

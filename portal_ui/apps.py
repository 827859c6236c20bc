from django.apps import AppConfig


class PortalUiConfig(AppConfig):
    name = "portal_ui"
    verbose_name = "Shared page helpers"

    def ready(self):
        from portal_ui import logging as portal_logging

        portal_logging.install()

from django.apps import AppConfig


class TsmConfig(AppConfig):
    name = "tsm"

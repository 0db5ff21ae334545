from django.apps import AppConfig


class ShipBridgeConfig(AppConfig):
    """The project package as an app: its system checks and the superuser-only axes admin."""

    name = "shipbridge"
    verbose_name = "ShipBridge"

    def ready(self):
        from shipbridge import checks  # noqa: F401  (registers the checks)

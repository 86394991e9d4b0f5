from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Accounting platform connections"

    def ready(self) -> None:
        from . import checks, registry  # noqa: F401

        registry.connectors()

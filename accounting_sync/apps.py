from django.apps import AppConfig


class AccountingSyncConfig(AppConfig):
    name = "accounting_sync"
    verbose_name = "Accounting sync"

    def ready(self) -> None:
        from . import checks
        from .core import receivers  # noqa: F401
        from .audit import receivers as audit_receivers

        receivers.connect()
        audit_receivers.connect()

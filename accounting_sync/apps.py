from django.apps import AppConfig


class AccountingSyncConfig(AppConfig):
    name = "accounting_sync"
    verbose_name = "Accounting sync"

    def ready(self) -> None:
        # Start-up order: these modules use the models, which can be imported only once the app registry is ready.
        from . import checks  # noqa: F401 - registers the system checks
        from .audit import receivers as audit_receivers
        from .core import policy, receivers
        from .files import manual, stage
        from .policies.pipeline import ConnectionPolicy

        policy.install(ConnectionPolicy())
        policy.add_delivery("file", stage.stage)
        policy.add_adopt_check(manual.check_keyed_in)
        receivers.connect()
        audit_receivers.connect()

"""System checks for the settings the pipeline's guarantees depend on."""
from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils.module_loading import import_string

from .core.outbox import _is_outbox_broker


@register()
def queue_settings(app_configs, **kwargs):
    q = getattr(settings, "Q_CLUSTER", {})
    problems = []
    timeout, retry = q.get("timeout"), q.get("retry", 60)
    if timeout and retry <= 2 * timeout:
        problems.append(Warning(
            "Q_CLUSTER['retry'] should exceed twice Q_CLUSTER['timeout']; otherwise a slow task is redelivered "
            "while it still runs.", id="accounting_sync.W001"))
    if q.get("catch_up", True):
        problems.append(Warning("Q_CLUSTER['catch_up'] should be False so a stopped cluster does not replay "
                                "every missed sweep at start.", id="accounting_sync.W002"))
    if q.get("orm") and not any(q.get(k) for k in ("redis", "sqs", "mongo", "iron_mq")) \
            and not _is_outbox_broker(q.get("broker_class")):
        problems.append(Warning(
            "With django-q2's ORM broker, set Q_CLUSTER['broker_class'] to 'accounting_sync.broker.OutboxBroker'.",
            hint="Its pusher takes saved changes in by itself; without it every saving transaction also "
                 "enqueues a task, and changes wait for that task or the sweeper.", id="accounting_sync.W003"))
    return problems


@register()
def sources_setting(app_configs, **kwargs):
    errors = []
    for i, entry in enumerate(getattr(settings, "ACCOUNTING_SYNC", {}).get("SOURCES", [])):
        where = f"ACCOUNTING_SYNC['SOURCES'][{i}]"
        if not isinstance(entry, dict) or not {"model", "adapter"} <= set(entry):
            errors.append(Error(f"{where} must be a dict with 'model' and 'adapter'.", id="accounting_sync.E001"))
            continue
        try:
            apps.get_model(entry["model"])
        except (LookupError, ValueError):
            errors.append(Error(f"{where}: model {entry['model']!r} is not installed.", id="accounting_sync.E002"))
        try:
            import_string(entry["adapter"])
        except ImportError:
            errors.append(Error(f"{where}: adapter {entry['adapter']!r} cannot be imported.",
                                id="accounting_sync.E003"))
    return errors

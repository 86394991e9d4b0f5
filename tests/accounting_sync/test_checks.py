"""System checks for the settings the pipeline's guarantees depend on."""
import pytest

from accounting_sync import checks
from accounting_sync.broker import OutboxBroker

ORM = {"orm": "default", "timeout": 120, "retry": 300, "catch_up": False}


class HostBroker(OutboxBroker):
    """A host's own subclass still dispatches the outbox."""


def ids(q_cluster, settings) -> list[str]:
    settings.Q_CLUSTER = q_cluster
    return [problem.id for problem in checks.queue_settings(None)]


@pytest.mark.parametrize("q_cluster, expected", [
    ({**ORM, "broker_class": "accounting_sync.broker.OutboxBroker"}, []),
    ({**ORM, "broker_class": f"{__name__}.HostBroker"}, []),
    (ORM, ["accounting_sync.W003"]),  # every saving transaction would enqueue a task
    ({**ORM, "broker_class": "no.such.Broker"}, ["accounting_sync.W003"]),
    ({"redis": "redis://localhost", "timeout": 120, "retry": 300, "catch_up": False}, []),
    ({**ORM, "broker_class": "accounting_sync.broker.OutboxBroker", "retry": 200}, ["accounting_sync.W001"]),
    ({**ORM, "broker_class": "accounting_sync.broker.OutboxBroker", "catch_up": True}, ["accounting_sync.W002"]),
], ids=["outbox-broker", "subclass", "plain-orm", "unknown-class", "redis", "short-retry", "catch-up"])
def test_queue_settings(q_cluster, expected, settings):
    assert ids(q_cluster, settings) == expected


def test_sources_must_name_installed_models_and_importable_adapters(settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "SOURCES": [
        {"model": "tests_hostapp.JobInvoice"},
        {"model": "shop.Nothing", "adapter": "tests.hostapp.adapters.JobInvoiceAdapter"},
        {"model": "tests_hostapp.JobInvoice", "adapter": "tests.hostapp.adapters.Missing"},
        {"model": "tests_hostapp.JobInvoice", "adapter": "tests.hostapp.adapters.JobInvoiceAdapter"},
    ]}
    assert [e.id for e in checks.sources_setting(None)] == [
        "accounting_sync.E001", "accounting_sync.E002", "accounting_sync.E003"]

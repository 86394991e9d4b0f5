"""QBO's generic items (a sales line posts to its item's income account, so lines without an item of their own get a
generic one per kind and account): looked up or created once per company, remembered in the worker process and on
the connection, so a worker that has not met the company yet does not look them up again."""
import pytest

from accounting_sync.models import EntryStatus, OutboxEntry
from connectors.models import Connection
from connectors.qbo.connector import GENERIC_ITEM_MEMORY, forget_remembered_items
from tests.conftest import drain, remote_invoices

pytestmark = pytest.mark.django_db


def calls(sandbox) -> list[str]:
    """The company API resources requested, in order (a query is a POST with the query in its body)."""
    return [path.rsplit("/", 1)[1] for _, path, _ in sandbox.requests_log]


def line_items(remote: dict) -> list[str]:
    return [line["SalesItemLineDetail"]["ItemRef"]["value"] for line in remote["Line"]
            if line.get("DetailType") == "SalesItemLineDetail"]


def test_a_worker_that_has_not_met_the_company_takes_its_generic_items_from_the_connection(connection, make_invoice,
                                                                                           sandbox):
    make_invoice(("service", "1", "120.00"), ("product", "2", "7.50"))
    drain()
    assert calls(sandbox)[-6:] == ["customer", "query", "item", "query", "item", "batch"]  # one item per kind
    memory = Connection.objects.get(pk=connection.pk).remembered
    assert sorted(k.split(":")[-2] for k in memory if k.startswith(GENERIC_ITEM_MEMORY)) == ["product", "service"]
    forget_remembered_items()  # another worker process: nothing remembered in it
    sandbox.requests_log.clear()
    make_invoice(("service", "1", "80.00"), ("product", "1", "7.50"))
    drain()
    assert calls(sandbox) == ["customer", "batch"]  # the invoice's new customer; its items taken from the connection
    first, second = remote_invoices(sandbox)
    assert line_items(first) == line_items(second)
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).filter(entity="invoice").exists()


def test_forgetting_the_generic_items_forgets_them_on_the_connection_too(connection, make_invoice, sandbox):
    """What a write refused for a reference does (``_with_fresh_items``): the next process looks them up again."""
    make_invoice(("service", "1", "120.00"))
    drain()
    assert any(k.startswith(GENERIC_ITEM_MEMORY) for k in Connection.objects.get(pk=connection.pk).remembered)
    Connection.objects.get(pk=connection.pk).connector().forget_generic_items()
    assert not any(k.startswith(GENERIC_ITEM_MEMORY) for k in Connection.objects.get(pk=connection.pk).remembered)
    forget_remembered_items()
    sandbox.requests_log.clear()
    make_invoice(("service", "1", "80.00"))
    drain()
    assert calls(sandbox) == ["customer", "query", "batch"]  # looked up again (found: not made again)

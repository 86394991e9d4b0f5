"""The sync table: which way each operation on each entity goes. Allowed operations flow; forbidden ones do not and
say so in the sync log (or, for a dependency that may not be created, on the document that needs it)."""
from decimal import Decimal

import pytest

from accounting_sync.inbound import sync as inbound
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, Outcome, SyncLog
from connectors.forms import connection_form
from connectors.models import LAB_PRESET, Connection
from tests.conftest import drain, remote_invoices

pytestmark = pytest.mark.django_db


def table(**cells) -> dict:
    """Every operation out, except ``entity_operation=flow``."""
    full = {e: {op: "out" for op in ("create", "update", "delete")}
            for e in ("customer", "item", "invoice", "payment", "credit_note")}
    for cell, flow in cells.items():
        entity, op = cell.rsplit("_", 1)
        full[entity][op] = flow
    return full


def entry_of(obj) -> OutboxEntry:
    return OutboxEntry.objects.get(source_key=f"ledger.{obj._meta.model_name}:{obj.pk}")


def test_without_a_table_every_operation_follows_the_direction(connection):
    assert connection.operations == {} and connection.sends("invoice", "update")
    assert not connection.receives("invoice", "update")
    Connection.objects.filter(pk=connection.pk).update(direction="both")
    connection.refresh_from_db()
    assert connection.receives("payment", "delete") and connection.sends("payment", "void")


def test_an_update_the_table_does_not_send_is_skipped_and_logged(connection, make_invoice, sandbox):
    Connection.objects.filter(pk=connection.pk).update(operations=table(invoice_update="none"))
    invoice = make_invoice(("service", "1", "100.00"))
    drain()
    [remote] = remote_invoices(sandbox)
    assert entry_of(invoice).status == EntryStatus.DONE  # creating is allowed
    invoice.lines.update(unit_price=Decimal("120.00"))
    invoice.save()
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE
    log = SyncLog.objects.filter(entry_id=entry_of(invoice).pk).order_by("-pk").first()
    assert log.outcome == Outcome.SKIPPED and "does not send invoice updates" in log.message
    [still] = remote_invoices(sandbox)
    assert still["TotalAmt"] == remote["TotalAmt"]  # the platform's copy was not touched


def test_a_void_the_table_does_not_send_is_skipped(connection, make_invoice, sandbox):
    Connection.objects.filter(pk=connection.pk).update(operations=table(invoice_delete="in"))
    invoice = make_invoice()
    drain()
    invoice.status = "void"
    invoice.save()
    drain()
    ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert ref.remote_status == "active"
    assert SyncLog.objects.filter(entry_id=entry_of(invoice).pk, outcome=Outcome.SKIPPED,
                                  message__contains="does not send invoice deletions").exists()


def test_a_customer_the_table_does_not_create_stops_its_invoice_with_what_to_do(connection, make_invoice, sandbox):
    Connection.objects.filter(pk=connection.pk).update(operations=table(customer_create="none"))
    invoice = make_invoice()
    drain()
    entry = entry_of(invoice)
    assert entry.status == EntryStatus.NEEDS_ATTENTION
    assert "does not create customers" in entry.last_error and "sync table" in entry.hint
    assert remote_invoices(sandbox) == []


def test_a_platform_change_the_table_does_not_take_in_is_not_applied(make_connection, org, make_invoice, sandbox):
    conn = make_connection(org, direction="both", operations=table(invoice_update="out", invoice_delete="out"))
    invoice = make_invoice()
    drain()
    ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    remote = sandbox.store.get("Invoice", ref.remote_id)
    sandbox.store.write("Invoice", {"Id": ref.remote_id, "SyncToken": remote["SyncToken"]}, operation="delete")
    inbound.pull(conn)
    assert entry_of(invoice).status == EntryStatus.DONE  # no "deleted in QuickBooks" item: not taken in
    assert SyncLog.objects.filter(connection=conn, outcome=Outcome.SKIPPED,
                                  message__contains="does not take invoice").exists()


def test_the_form_fills_in_the_lab_systems_table_and_the_direction_that_covers_it():
    form = connection_form("qbo")(data={"name": "Lab", "platform": "qbo", "direction": "push", "status": "active",
                                        "entities": ["customer", "invoice", "payment"], "auto_sync": "on",
                                        "sync_preset": "lab", "other_settings": "{}"})
    assert form.is_valid(), form.errors
    conn = form.save()
    assert {e: conn.operations[e] for e in LAB_PRESET} == LAB_PRESET and conn.direction == "both"
    assert "refund" not in conn.entities and not conn.sends("refund", "create")  # not in the lab's table: not synced
    assert conn.sends("customer", "create") and not conn.sends("customer", "delete")
    assert conn.receives("invoice", "update") and not conn.sends("invoice", "update")


def test_the_form_stores_the_ticked_table_and_the_direction_that_covers_it():
    data = {"name": "Shop", "platform": "qbo", "status": "active", "auto_sync": "on", "other_settings": "{}",
            "sync_table__invoice__create__out": "on", "sync_table__invoice__update__out": "on"}
    form = connection_form("qbo")(data=data)
    assert form.is_valid(), form.errors
    conn = form.save()
    assert conn.operations == {"invoice": {"create": "out", "update": "out", "delete": "none"}}
    assert conn.entities == ["invoice"] and conn.direction == "push"
    form = connection_form("qbo")(data={**data, "name": "Both", "sync_table__invoice__update__in": "on"})
    assert form.is_valid(), form.errors
    conn = form.save()
    assert conn.operations["invoice"]["update"] == "both" and conn.direction == "both"


def test_the_admin_shows_the_table(admin_client, connection):
    html = admin_client.get(f"/admin/connectors/connection/{connection.pk}/change/").content.decode()
    assert 'class="sync-table"' in html and 'name="sync_table__payment__delete__out"' in html

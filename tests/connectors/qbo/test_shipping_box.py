"""QBO's shipping box (issue 18): with shipping on in the company's sales-form preferences, a document's shipping goes
to the invoice's shipping field (QBO's ``SHIPPING_ITEM_ID`` line); with it off, to a shipping line on a generic
"Shipping" item. The sandbox models the preference as QBO does: the pseudo-item is an unknown item without it."""
from decimal import Decimal

import pytest

from accounting_sync.inbound import sync as inbound
from accounting_sync.models import EntryStatus, OutboxEntry
from connectors.qbo.sandbox.wire import QBOFault
from ledger.models import Invoice
from tests.conftest import account_id, drain, remote_invoices

pytestmark = pytest.mark.django_db


def item_ids(remote: dict) -> list[str]:
    return [line["SalesItemLineDetail"]["ItemRef"]["value"] for line in remote["Line"]
            if line.get("DetailType") == "SalesItemLineDetail"]


def test_shipping_goes_to_the_shipping_box_when_the_company_has_shipping_on(connection, make_invoice, sandbox):
    freight = account_id(sandbox, "Sales")
    sandbox.act_as_user("set_shipping", enabled=True, account_id=freight)
    invoice = make_invoice(("service", "2", "50.00"), ("shipping", "1", "12.50"))
    drain()
    assert OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}").status == EntryStatus.DONE
    [remote] = remote_invoices(sandbox)
    assert item_ids(remote)[1] == "SHIPPING_ITEM_ID"
    assert Decimal(str(remote["TotalAmt"])) == Decimal("112.50")
    assert not [i for i in sandbox.store.entities("Item") if i["Name"].startswith("Shipping")]


def test_shipping_is_a_line_on_a_shipping_item_when_shipping_is_off(connection, make_invoice, sandbox):
    invoice = make_invoice(("service", "2", "50.00"), ("shipping", "1", "12.50"))
    drain()
    assert OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}").status == EntryStatus.DONE
    [remote] = remote_invoices(sandbox)
    shipping_item = sandbox.store.get("Item", item_ids(remote)[1])
    assert shipping_item["Name"] == "Shipping"


def test_two_shipping_lines_stay_lines_the_box_holds_one(connection, make_invoice, sandbox):
    sandbox.act_as_user("set_shipping", enabled=True)
    make_invoice(("shipping", "1", "5.00"), ("shipping", "1", "7.00"))
    drain()
    [remote] = remote_invoices(sandbox)
    assert "SHIPPING_ITEM_ID" not in item_ids(remote)


def test_the_sandbox_refuses_the_shipping_box_without_the_preference(sandbox):
    customer = sandbox.store.write("Customer", {"DisplayName": "Harbour Dental"})
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [{
        "Amount": "10.00", "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": "SHIPPING_ITEM_ID"}}}]}
    with pytest.raises(QBOFault) as refused:
        sandbox.store.write("Invoice", body)
    assert refused.value.code == "2500"
    sandbox.act_as_user("set_shipping", enabled=True)
    assert item_ids(sandbox.store.write("Invoice", body)) == ["SHIPPING_ITEM_ID"]


def test_shipping_box_of_an_invoice_made_in_quickbooks_comes_in_as_a_shipping_line(make_connection, org, sandbox):
    conn = make_connection(org, direction="both")
    sandbox.act_as_user("set_shipping", enabled=True)
    customer = sandbox.store.write("Customer", {"DisplayName": "Harbour Dental"})
    sandbox.store.write("Invoice", {"CustomerRef": {"value": customer["Id"]}, "DocNumber": "QB-7", "Line": [{
        "Amount": "10.00", "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": "SHIPPING_ITEM_ID"}, "Qty": 1, "UnitPrice": "10.00"}}]})
    assert inbound.pull(conn).applied == 2  # its customer (on its own, issue 18), then the invoice
    [line] = Invoice.objects.get(number="QB-7").lines.all()
    assert (line.kind, line.item, line.unit_price) == ("shipping", None, Decimal("10.00"))

"""Business Central payload translation: snapshots to API v2.0 JSON and back, pure functions."""
import datetime as dt
from decimal import Decimal

from connectors.base import AccountKind
from connectors.businesscentral import translate as t
from connectors.businesscentral.connector import account_kind
from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, ItemSnapshot,
                                  LineSnapshot, Mapping, PaymentSnapshot)

D = Decimal


def line(kind="service", price="50.00", qty="2", tax=None, description="Consult"):
    net = (D(price) * D(qty)).quantize(D("0.01"))
    return LineSnapshot(kind=kind, description=description, quantity=D(qty), unit_price=D(price), net_amount=net,
                        tax_amount=D("0.00"), tax_rate_key=tax)


MAPPING = Mapping(line_accounts=("acc-sales", "acc-disc"), tax_codes={"gst": "GST10"}, item_account="acc-sales",
                  deposit_account="acc-bank", refs={"c": "cust-1", "inv": "inv-1", "inv2": "inv-2"})


def invoice(*lines, number="INV-7"):
    return InvoiceSnapshot(key="ledger.invoice:7", organization_id=1, number=number, customer_key="c",
                           issue_date=dt.date(2026, 12, 1), due_date=dt.date(2026, 12, 31), lines=lines,
                           total=sum((x.net_amount for x in lines), D("0.00")))


def test_invoice_lines_are_account_lines_with_tax_group_codes_and_a_negative_discount():
    doc = invoice(line(tax="gst"), line(kind="discount", price="10.00", qty="1", description=""))
    body = {**t.header_payload(doc, MAPPING), "salesInvoiceLines": t.lines_payload(doc, MAPPING)}
    assert body["customerId"] == "cust-1" and body["externalDocumentNumber"] == "INV-7"
    assert body["invoiceDate"] == "2026-12-01" and body["dueDate"] == "2026-12-31" and "invoiceId" not in body
    first, discount = body["salesInvoiceLines"]
    assert first == {"sequence": 10000, "lineType": "Account", "accountId": "acc-sales", "description": "Consult",
                     "quantity": D("2"), "unitPrice": D("50.00"), "taxCode": "GST10"}
    assert discount["unitPrice"] == D("-10.00") and discount["accountId"] == "acc-disc"
    assert discount["description"] == "Discount" and "taxCode" not in discount


def test_credit_memo_applies_to_one_invoice_and_says_how_much_when_not_all():
    note = CreditNoteSnapshot(key="n", organization_id=1, number="CN-1", customer_key="c",
                              issue_date=dt.date(2026, 12, 2), lines=(line(price="40.00", qty="2"),),
                              total=D("80.00"), allocations=(Allocation("inv", D("50.00")),))
    header = t.header_payload(note, MAPPING)
    assert header["invoiceId"] == "inv-1" and header["creditMemoDate"] == "2026-12-02"
    comment = t.lines_payload(note, MAPPING)[-1]
    assert comment == {"sequence": 20000, "lineType": "Comment", "description": "Amount to apply: 50.00"}
    read = {"invoiceId": "inv-1", "totalAmountIncludingTax": D("80.00"), "salesCreditMemoLines": [comment]}
    assert t.applied_amount(read) == D("50.00")
    assert t.applied_amount({**read, "salesCreditMemoLines": []}) == D("80.00")  # no comment: all of it
    assert t.applied_amount({**read, "invoiceId": t.NO_ID}) == D("0.00")
    unapplied = CreditNoteSnapshot(key="n", organization_id=1, number="CN-1", customer_key="c", total=D("80.00"),
                                   lines=(line(price="40.00", qty="2"),))
    assert t.header_payload(unapplied, MAPPING)["invoiceId"] == t.NO_ID  # clears an earlier application
    assert all(x["lineType"] == "Account" for x in t.lines_payload(unapplied, MAPPING))


def test_payment_is_a_negative_journal_line_applied_to_its_invoice():
    pay = PaymentSnapshot(key="p", organization_id=1, number="PAY-1", customer_key="c", date=dt.date(2026, 12, 3),
                          amount=D("40"), allocations=(Allocation("inv", D("40")),))
    assert t.payment_payload(pay, MAPPING) == {"customerId": "cust-1", "postingDate": "2026-12-03",
                                               "externalDocumentNumber": "PAY-1", "amount": D("-40.00"),
                                               "appliesToInvoiceId": "inv-1", "description": "Payment PAY-1"}
    back = t.remote_payment({"id": "p1", "@odata.etag": 'W/"x"', "customerId": "cust-1", "postingDate": "2026-12-03",
                             "amount": D("-40.00"), "appliesToInvoiceId": "inv-1", "externalDocumentNumber": "PAY-1"})
    assert back.amount == D("40.00") and back.allocations == (("inv-1", D("40.00")),) and back.reference == "PAY-1"
    assert t.result("payment", {"id": "p1", "amount": D("-40.00")}).total == D("40.00")


def test_customer_and_item_payloads():
    cust = CustomerSnapshot(key="c", organization_id=1, name="Ada " * 40, email="ada@example.com", currency="EUR")
    body = t.customer_payload(cust, "USD")
    assert len(body["displayName"]) == 100 and body["currencyCode"] == "EUR" and body["type"] == "Company"
    home = CustomerSnapshot(key="c", organization_id=1, name="Bo", currency="USD")
    assert "currencyCode" not in t.customer_payload(home, "USD")
    item = ItemSnapshot(key="i", organization_id=1, name="Nails", kind="product", unit_price=D("12.50"))
    assert t.item_payload(item) == {"displayName": "Nails", "type": "Non-Inventory", "unitPrice": D("12.50")}


def test_results_status_totals_version_and_a_fingerprint_that_ignores_line_order_as_sent():
    lines = [{"sequence": 20000, "lineType": "Account", "unitPrice": D("5"), "quantity": D("1")},
             {"sequence": 10000, "lineType": "Account", "unitPrice": D("7.00"), "quantity": D("2")}]
    body = {"id": "i1", "@odata.etag": 'W/"abc"', "externalDocumentNumber": "INV-7", "status": "Open",
            "totalAmountIncludingTax": D("19.00"), "salesInvoiceLines": lines}
    found = t.result("invoice", body, balance=D("19.00"))
    assert (found.remote_id, found.version, found.number, found.total, found.status) == (
        "i1", 'W/"abc"', "INV-7", D("19.00"), "active")
    same = {**body, "totalAmountIncludingTax": "19", "salesInvoiceLines": list(reversed(lines))}
    assert t.fingerprint("invoice", same) == found.fingerprint
    cancelled = t.result("invoice", {**body, "status": "Canceled"})
    assert cancelled.status == "voided" and cancelled.total == cancelled.balance == D("0.00")
    assert t.remote_document("invoice", body, D("19.00")).lines == ((D("2"), D("7.00")), (D("1"), D("5")))
    assert t.status("customer", {"blocked": "All"}) == "inactive" and t.status("item", {"blocked": True}) == \
        "inactive"


def test_odata_time_literal_and_account_kinds():
    when = dt.datetime(2026, 12, 3, 11, 2, 51, 687000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert t.odata_time(when) == "2026-12-03T10:02:51.687Z"
    assert account_kind({"category": "Income"}) == AccountKind.INCOME
    assert account_kind({"category": "Assets", "subCategory": "Cash"}) == AccountKind.DEPOSIT
    assert account_kind({"category": "Assets", "subCategory": "Accounts Receivable"}) == AccountKind.RECEIVABLE
    assert account_kind({"category": "Liabilities", "displayName": "Sales Tax Payable"}) == AccountKind.TAX_PAYABLE
    assert account_kind({"category": "CostOfGoodsSold"}) == AccountKind.EXPENSE
    assert account_kind({"category": "Equity"}) == AccountKind.OTHER


def test_what_we_send_fits_the_vendored_schemas():
    """Our request bodies use the entities' own property names and types (the vendored OpenAPI document)."""
    from pathlib import Path

    import jsonschema
    import yaml

    from tests.connectors.sandboxkit.wire import inline_schema

    spec = yaml.safe_load((Path(__file__).resolve().parents[3] / "connectors" / "businesscentral" / "spec" /
                           "microsoft.dynamics365businesscentral.yaml").read_text())

    def check(name, body):
        schema = inline_schema(spec, f"#/components/schemas/{name}")
        assert set(body) <= set(schema["properties"]), set(body) - set(schema["properties"])
        jsonschema.validate(body, schema)  # amounts stay Decimal: JSON Schema's "number" takes them

    doc = invoice(line(tax="gst"), line(kind="discount", price="10.00", qty="1"))
    check("salesInvoice", t.header_payload(doc, MAPPING))
    for sent in t.lines_payload(doc, MAPPING):
        check("salesInvoiceLine", sent)
    pay = PaymentSnapshot(key="p", organization_id=1, number="PAY-1", customer_key="c", date=dt.date(2026, 12, 3),
                          amount=D("40"), allocations=(Allocation("inv", D("40")),))
    check("customerPayment", t.payment_payload(pay, MAPPING))
    check("customer", t.customer_payload(CustomerSnapshot(key="c", organization_id=1, name="Ada"), "USD"))
    item = ItemSnapshot(key="i", organization_id=1, name="Nails", kind="product", unit_price=D("12.50"))
    check("item", t.item_payload(item))

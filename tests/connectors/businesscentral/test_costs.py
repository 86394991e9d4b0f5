"""Expenses, journals and restocking fees on Business Central (issue 23): what the connector sends (a draft purchase
invoice from the payee as vendor; a general journal batch of its own; a kept credit-memo line negative), what it
refuses before sending (a journal in another currency, an expense without payee, refunds at all), and the sandbox's
Business Central rules behind them (a journal posts only when it balances; a vendor invoice number posts once)."""
import datetime as dt
from decimal import Decimal

import pytest

from connectors.businesscentral import costs as c
from connectors.businesscentral.connector import BusinessCentralConnector
from connectors.documents import (CreditNoteSnapshot, Entity, ExpenseLineSnapshot, ExpenseSnapshot,
                                  JournalLineSnapshot, JournalSnapshot, LineSnapshot, Mapping, RemoteRef)
from connectors.errors import ConfigurationError, ConflictError, DuplicateError, RemoteNotFound
from tests.connectors.businesscentral.test_connector import accounts, connector, sent_customer
from tests.connectors.businesscentral.test_sandbox import BC
from tests.platforms import next_second

D = Decimal
DAY = dt.date(2026, 12, 3)


@pytest.fixture
def bc(bcsandbox):
    return connector(bcsandbox)


def journal(number="JE-1", amount="100.00", currency="USD", credit=None):
    return JournalSnapshot(key=f"j:{number}", organization_id=1, number=number, date=DAY, currency=currency,
                           memo="Accrual", lines=(
                               JournalLineSnapshot("6100", "Freight accrued", debit=D(amount)),
                               JournalLineSnapshot("1010", "", credit=D(credit or amount))))


def journal_mapping(conn):
    ids = accounts(conn)
    return Mapping(line_accounts=(ids["Freight and Shipping"], ids["Checking account"]))


def expense(number="EXP-1", payee="Parcel Express", currency="EUR", net="50.00", tax="5.00"):
    line = ExpenseLineSnapshot("return_shipping", "Return label", D(net), D(tax), tax_rate_key="t:gst")
    return ExpenseSnapshot(key=f"e:{number}", organization_id=1, number=number, payee=payee, date=DAY,
                           currency=currency, exchange_rate=D("1.08"), paid_from="card", lines=(line,),
                           subtotal=D(net), tax_total=D(tax), total=D(net) + D(tax))


def expense_mapping(conn):
    ids = accounts(conn)
    return Mapping(line_accounts=(ids["Freight and Shipping"],), tax_codes={"t:gst": "GST10"},
                   deposit_account=ids["Checking account"])


def test_refunds_are_not_declared_and_restocking_fees_are():
    caps = BusinessCentralConnector.capabilities
    assert Entity.REFUND not in caps.entities and caps.kept_lines
    assert {Entity.EXPENSE, Entity.JOURNAL} <= caps.entities and {Entity.EXPENSE, Entity.JOURNAL} <= caps.delete


def test_a_journal_is_a_batch_of_its_own_with_signed_lines(bc, bcsandbox):
    doc, mapping = journal(), journal_mapping(bc)
    made = bc.create(doc, mapping, "k")
    assert made.total == D("100.00") and made.number == "JE-1" and made.home_total == D("100.00")
    wire = BC(bcsandbox)
    batch = wire.ok("GET", f"journals({made.remote_id})")
    assert batch["code"] == c.journal_code("JE-1") and len(batch["code"]) == 10
    lines = wire.ok("GET", f"journals({made.remote_id})/journalLines")["value"]
    assert [(x["accountNumber"], x["amount"], x["documentNumber"], x["postingDate"]) for x in lines] == [
        ("60200", D("100.00"), "JE-1", "2026-12-03"), ("10100", D("-100.00"), "JE-1", "2026-12-03")]
    assert [x["description"] for x in lines] == ["Freight accrued", "Accrual"]
    assert bc.find_existing(doc, mapping).remote_id == made.remote_id

    changed = bc.update(journal(amount="120.00"), mapping, RemoteRef(made.remote_id, made.version), "k")
    assert changed.total == D("120.00") and changed.version != made.version
    with pytest.raises(ConflictError):  # our version is the one before the change
        bc.update(journal(amount="130.00"), mapping, RemoteRef(made.remote_id, made.version), "k")

    bc.delete(Entity.JOURNAL, RemoteRef(made.remote_id), "k")
    with pytest.raises(RemoteNotFound):
        bc.fetch(Entity.JOURNAL, made.remote_id)
    assert wire.ok("GET", "journalLines")["value"] == []  # the batch took its lines with it


def test_a_journal_cut_short_after_its_batch_gets_its_lines_when_found(bc, bcsandbox):
    doc, mapping = journal("JE-2"), journal_mapping(bc)
    BC(bcsandbox).ok("POST", "journals", c.journal_header(doc))  # the batch made, the answer lost
    found = bc.find_existing(doc, mapping)
    assert found.adopted and found.total == D("100.00") and len(found.raw["journalLines"]) == 2


def test_a_journal_in_another_currency_is_stopped_before_sending(bc):
    problems = bc.preflight(journal(currency="EUR"), journal_mapping(bc))
    assert problems and "in USD only" in problems[0] and "EUR" in problems[0]
    with pytest.raises(ConfigurationError):
        bc.create(journal(currency="EUR"), journal_mapping(bc), "k")


def test_posting_a_batch_that_does_not_balance_is_refused_and_a_balanced_one_leaves_gl_entries(bc, bcsandbox):
    made = bc.create(journal("JE-3"), journal_mapping(bc), "k")
    wire = BC(bcsandbox)
    first = wire.ok("GET", f"journals({made.remote_id})/journalLines")["value"][0]
    wire.ok("PATCH", f"journalLines({first['id']})", {"amount": "90.00"}, headers={"If-Match": first["@odata.etag"]})
    refused = wire.send("POST", f"journals({made.remote_id})/Microsoft.NAV.post")
    assert refused.status_code == 400 and refused.body["error"]["code"] == "Application_DialogException"
    assert refused.body["error"]["message"].startswith("Document No. JE-3 is out of balance by -10.00.")
    assert len(wire.ok("GET", f"journals({made.remote_id})/journalLines")["value"]) == 2  # nothing posted
    assert wire.ok("GET", "generalLedgerEntries")["value"] == []

    wire.ok("PATCH", f"journalLines({first['id']})", {"amount": "100.00"}, headers={"If-Match": "*"})
    wire.ok("POST", f"journals({made.remote_id})/Microsoft.NAV.post")
    entries = wire.ok("GET", "generalLedgerEntries", params={"$filter": "documentNumber eq 'JE-3'"})["value"]
    assert [(e["accountNumber"], e["debitAmount"], e["creditAmount"]) for e in entries] == [
        ("60200", D("100.00"), D("0.00")), ("10100", D("0.00"), D("100.00"))]
    assert wire.ok("GET", f"journals({made.remote_id})/journalLines")["value"] == []
    assert wire.send("POST", "generalLedgerEntries", {"documentNumber": "X"}).status_code == 405  # read-only


def test_an_expense_is_a_draft_purchase_invoice_from_its_payee_in_its_currency(bc, bcsandbox):
    mapping = expense_mapping(bc)
    made = bc.create(expense(), mapping, "k")
    assert made.total == D("55.00") and made.number == "EXP-1" and made.home_total is None  # in EUR
    wire = BC(bcsandbox)
    body = wire.ok("GET", f"purchaseInvoices({made.remote_id})", params={"$expand": "purchaseInvoiceLines"})
    assert (body["status"], body["currencyCode"], body["vendorName"], body["totalTaxAmount"]) == (
        "Draft", "EUR", "Parcel Express", D("5.00"))
    lines = body["purchaseInvoiceLines"]
    assert [(x["lineType"], x["lineObjectNumber"], x["unitCost"], x["taxCode"]) for x in lines[:1]] == [
        ("Account", "60200", D("50.00"), "GST10")]
    assert lines[1]["lineType"] == "Comment" and lines[1]["description"] == "Paid from: 10100 Checking account (card)"
    assert bc.find_existing(expense(), mapping).remote_id == made.remote_id

    second = bc.create(expense("EXP-2", currency="USD"), mapping, "k")  # the same vendor, found by its name
    assert len(wire.ok("GET", "vendors")["value"]) == 1
    assert wire.ok("GET", f"purchaseInvoices({second.remote_id})")["currencyCode"] == ""
    assert second.home_total == D("55.00")

    changed = bc.update(expense(net="60.00", tax="6.00"), mapping, RemoteRef(made.remote_id, made.version), "k")
    assert changed.total == D("66.00")
    bc.delete(Entity.EXPENSE, RemoteRef(made.remote_id), "k")
    with pytest.raises(RemoteNotFound):
        bc.fetch(Entity.EXPENSE, made.remote_id)


def test_an_expense_without_payee_is_stopped_before_sending(bc):
    assert bc.preflight(expense(payee=" "), expense_mapping(bc)) == [
        "Business Central records an expense as a purchase invoice from a vendor: give the expense a payee"]


def test_a_vendor_invoice_number_posts_once_per_vendor(bcsandbox):
    wire = BC(bcsandbox)
    vendor = wire.ok("POST", "vendors", {"displayName": "Parcel Express"})
    account = wire.named("accounts", "displayName", "Freight and Shipping")["id"]
    made = [wire.ok("POST", "purchaseInvoices", {"vendorId": vendor["id"], "vendorInvoiceNumber": "EXP-9",
                                                 "purchaseInvoiceLines": [{"lineType": "Account", "accountId": account,
                                                                           "unitCost": "10.00"}]})
            for _ in range(2)]
    wire.ok("POST", f"purchaseInvoices({made[0]['id']})/Microsoft.NAV.post")
    again = wire.send("POST", f"purchaseInvoices({made[1]['id']})/Microsoft.NAV.post")
    assert again.status_code == 400 and "already exists for this vendor" in again.body["error"]["message"]
    price = wire.send("POST", "purchaseInvoices", {"vendorId": vendor["id"], "purchaseInvoiceLines": [
        {"lineType": "Account", "accountId": account, "unitPrice": "10.00"}]})
    assert price.status_code == 400 and price.body["error"]["code"] == "BadRequest_PropertyNotFound"
    used = wire.send("DELETE", f"vendors({vendor['id']})")
    assert used.status_code == 400  # it has documents


def test_a_restocking_fee_is_a_negative_line_of_the_credit_memo(bc):
    cust, cust_id = sent_customer(bc)
    ids = accounts(bc)
    note = CreditNoteSnapshot(key="cn:1", organization_id=1, number="CN-1", customer_key=cust.key, issue_date=DAY,
                              lines=(LineSnapshot("product", "Returned", D("1"), D("120.00"), D("120.00"), D("0")),
                                     LineSnapshot("restocking_fee", "Restocking fee", D("1"), D("12.00"), D("12.00"),
                                                  D("0"))), total=D("108.00"))
    made = bc.create(note, Mapping(line_accounts=(ids["Sales, Services"], ids["Restocking Fees"]),
                                   refs={cust.key: cust_id}), "k")
    assert made.total == D("108.00")
    assert [line["unitPrice"] for line in made.raw["salesCreditMemoLines"]] == [D("120.00"), D("-12.00")]


def test_an_unknown_account_is_refused_naming_the_line_table(bcsandbox):
    wire = BC(bcsandbox)
    batch = wire.ok("POST", "journals", {"code": "SY2"})
    gone = wire.send("POST", f"journals({batch['id']})/journalLines", {"accountNumber": "99999", "amount": "1"})
    assert gone.status_code == 400 and gone.body["error"]["code"] == "Internal_InvalidTableRelation"
    assert "table Gen. Journal Line contains a value (99999)" in gone.body["error"]["message"]
    vendor = wire.ok("POST", "vendors", {"displayName": "Parcel Express"})
    tax = wire.send("POST", "purchaseInvoices", {"vendorId": vendor["id"], "purchaseInvoiceLines": [
        {"lineType": "Account", "lineObjectNumber": "60200", "unitCost": "1.00", "taxCode": "NOPE"}]})
    assert "Tax Group Code of table Purchase Line" in tax.body["error"]["message"]


def test_a_journal_sent_again_meets_its_batch_name_and_is_a_duplicate(bc):
    doc, mapping = journal("JE-4"), journal_mapping(bc)
    first = bc.create(doc, mapping, "k")
    with pytest.raises(DuplicateError):
        bc.create(doc, mapping, "k")
    assert bc.find_existing(doc, mapping).remote_id == first.remote_id


def test_an_expense_edited_or_cancelled_in_business_central_is_reported_by_the_change_poll(bc, bcsandbox):
    """A person types over the draft's line (an update, its new total read back), then posts and cancels it (a
    void); a journal is not polled (a deleted batch leaves nothing to list)."""
    made = bc.create(expense(), expense_mapping(bc), "k")
    since = dt.datetime.now(dt.UTC)
    next_second()
    bcsandbox.act_as_user("edit_purchase_invoice_line", purchase_invoice_id=made.remote_id, line=0, amount="70.00")
    next_second()  # the poll's cursor is its start: a change in that very millisecond is reported again
    changes, cursor = bc.changes_since([Entity.EXPENSE, Entity.JOURNAL], since)
    assert [(x.entity, x.remote_id, x.operation) for x in changes] == [(Entity.EXPENSE, made.remote_id, "update")]
    [read] = bc.read_documents(Entity.EXPENSE, [made.remote_id])
    assert read.status == "open" and read.total == D("77.00") and read.version != made.version
    assert bc.changes_since([Entity.EXPENSE], cursor)[0] == []

    bcsandbox.act_as_user("cancel_purchase_invoice", purchase_invoice_id=made.remote_id)
    next_second()
    changes, _ = bc.changes_since([Entity.EXPENSE], cursor)
    assert [(x.entity, x.remote_id, x.operation) for x in changes] == [(Entity.EXPENSE, made.remote_id, "void")]
    assert bc.read_documents(Entity.EXPENSE, [made.remote_id])[0].status == "voided"
    assert Entity.JOURNAL not in BusinessCentralConnector.capabilities.inbound

"""Supplier bills on Kashoo (issue 23): a ``records/bills`` record left open (no bill payment), owed to the supplier
(a contact found by name or created), ``number`` the supplier's bill number (ours without one), our number at the
head of the memo; bodies guessed like the expense's bill (docs/connectors/kashoo.md). A bill of 200.00 in two lines
with tax read back open; a bill in euros; an edit rewrites it; a delete (refused once a payment is applied); a lost
answer found by the search before a create; through the pipeline: sent, reconciled, voided here (deleted there), and
a line whose cost kind has no expense account stopped before sending."""
import datetime as dt
from decimal import Decimal

import pytest

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, RemoteStatus
from accounting_sync.reconcile import engine
from connectors.documents import BillSnapshot, Entity, ExpenseLineSnapshot, Mapping, RemoteRef
from connectors.errors import RemoteNotFound, RetryableError, ValidationFailed
from ledger.models import DocumentStatus
from mappings.models import MappingKind
from tests import factories as f
from tests.accounting_sync.reconcile.test_reconcile_returns_and_costs import variances
from tests.conftest import drain
from tests.connectors.kashoo.test_costs import connector  # noqa: F401 - a fixture
from tests.platforms import POOL, PlatformHarness, sandbox_for

D = Decimal
DATE, DUE = dt.date(2026, 11, 2), dt.date(2026, 12, 2)


def supplier_bill(number="BILL-1001", reference="INV-7788", currency="USD", supplier="Acme Supplies",
                  lines=(("100.00", "10.00", "gst"), ("90.00", "0.00", None))) -> BillSnapshot:
    made = tuple(ExpenseLineSnapshot("supplier", f"Supply {i}", D(net), D(tax), key)
                 for i, (net, tax, key) in enumerate(lines))
    subtotal = sum((x.net_amount for x in made), D("0.00"))
    tax = sum((x.tax_amount for x in made), D("0.00"))
    return BillSnapshot(key=f"test.bill:{number}", organization_id=1, number=number, supplier=supplier,
                        supplier_reference=reference, issue_date=DATE, due_date=DUE, currency=currency,
                        memo="Packaging for November", lines=made, subtotal=subtotal, tax_total=tax,
                        total=subtotal + tax)


def mapped(conn, lines=2) -> Mapping:
    accounts = {name: pk for pk, name in conn.reference_data().accounts.items()}
    return Mapping(line_accounts=(accounts["Office Supplies"],) * lines, tax_codes={"gst": "TAXABLE"})


def test_a_bill_of_200_in_two_lines_with_tax_is_read_back_open(connector, ksandbox):  # noqa: F811
    made = connector.create(supplier_bill(), mapped(connector), "k-1")
    assert (made.total, made.balance, made.status, made.number) == (D("200.00"), D("200.00"), "active", "INV-7788")
    held = ksandbox.store.get("bills", made.remote_id).data
    assert (held["contactName"], held["date"], held["dueDate"], held["currency"]) == \
        ("Acme Supplies", "2026-11-02", "2026-12-02", "USD")
    assert held["memo"].startswith("Our reference BILL-1001")
    office = mapped(connector).line_accounts[0]
    assert [(line.get("accountId"), line["amount"], line["taxable"]) for line in held["lineItems"]] == \
        [(office, 10000, True), (office, 9000, False), (None, 1000, False)]  # our tax as its last line
    assert (held["amount"], held["balanceDue"]) == (20000, 20000)
    assert ksandbox.store.rows("billPayments") == []  # no payment: the bill is owed
    [read] = connector.read_documents(Entity.BILL, [made.remote_id])
    assert (read.total, read.balance, read.status) == (D("200.00"), D("200.00"), "open")


def test_a_bill_in_euros_keeps_its_currency_and_an_edit_rewrites_it(connector, ksandbox):  # noqa: F811
    made = connector.create(supplier_bill(currency="EUR", reference=""), mapped(connector), "k-2")
    assert (made.raw["currency"], made.number, made.total) == ("EUR", "BILL-1001", D("200.00"))
    changed = connector.update(supplier_bill(currency="EUR", reference="", lines=(("150.00", "0.00", None),)),
                               mapped(connector, 1), RemoteRef(made.remote_id, made.version), "u-2")
    assert (changed.remote_id, changed.total, changed.balance) == (made.remote_id, D("150.00"), D("150.00"))
    assert [line["amount"] for line in ksandbox.store.get("bills", made.remote_id).data["lineItems"]] == [15000]


def test_a_bill_is_deleted_unless_a_payment_is_applied(connector, ksandbox):  # noqa: F811
    made = connector.create(supplier_bill(), mapped(connector), "k-3")
    connector.delete(Entity.BILL, RemoteRef(made.remote_id, made.version), "d-3")
    with pytest.raises(RemoteNotFound):
        connector.fetch(Entity.BILL, made.remote_id)
    assert connector.read_documents(Entity.BILL, [made.remote_id])[0].status == "deleted"

    paid = connector.create(supplier_bill(number="BILL-1002", reference="INV-7789"), mapped(connector), "k-4")
    bank = {name: pk for pk, name in connector.reference_data().accounts.items()}["Chequing Account"]
    connector.client.request("POST", "records/billPayments", body={  # a person pays 50.00 of it
        "contactId": paid.raw["contactId"], "number": "CHQ-1", "date": "2026-11-10", "amount": 5000,
        "accountId": bank, "bills": [{"billId": paid.remote_id, "amount": 5000}]})
    assert connector.fetch(Entity.BILL, paid.remote_id).balance == D("150.00")
    with pytest.raises(ValidationFailed, match="payments applied"):
        connector.delete(Entity.BILL, RemoteRef(paid.remote_id, paid.version), "d-4")


def test_a_lost_answer_is_found_by_the_search(connector, ksandbox):  # noqa: F811
    connector.create(supplier_bill(number="WARM", reference="WARM"), mapped(connector), "warm")  # supplier known
    ksandbox.faults.add("lost_response", match="POST /bills")
    with pytest.raises(RetryableError):
        connector.create(supplier_bill(), mapped(connector), "k-5")
    found = connector.find_existing(supplier_bill(), mapped(connector))
    assert (found.adopted, found.total, found.balance, found.number) == (True, D("200.00"), D("200.00"), "INV-7788")
    assert len(ksandbox.store.rows("bills")) == 2
    other = supplier_bill(supplier="Other Supplies")  # the same supplier's number from another supplier: not ours
    assert connector.find_existing(other, mapped(connector)) is None


# -- through the pipeline ------------------------------------------------------------------------------------------
@pytest.fixture
def books(request, org):
    harness = PlatformHarness("kashoo", sandbox_for(request, "kashoo"), POOL)
    harness.reset()
    harness.gst = f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10"))
    harness.conn = harness.connect(org)
    return harness


ledger_bill = f.supplier_bill  # 190.00 in two lines, the first taxed


def ref_of(bill) -> ExternalReference:
    return ExternalReference.objects.get(connection__isnull=False, source_key=f"ledger.bill:{bill.pk}")


@pytest.mark.django_db
def test_a_bill_sent_reconciles_and_voided_here_is_deleted_there(books, org):
    bill = ledger_bill(org, books.gst)
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    held = books.sandbox.store.get("bills", ref_of(bill).remote_id).data
    assert (held["amount"], held["balanceDue"], held["number"]) == (20000, 20000, "INV-7788")
    assert variances(engine.run(books.conn)) == {}
    bill.status = DocumentStatus.VOID
    bill.save()
    drain()
    assert books.sandbox.store.find("bills", ref_of(bill).remote_id) is None
    assert ref_of(bill).remote_status == RemoteStatus.DELETED
    assert variances(engine.run(books.conn)) == {}


@pytest.mark.django_db
def test_a_bill_line_without_an_expense_account_waits_for_its_mapping(books, org):
    books.conn.mappings.filter(kind=MappingKind.EXPENSE_ACCOUNT).delete()
    bill = ledger_bill(org)
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"ledger.bill:{bill.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "no expense account mapped for cost kind “supplier”" in stopped.last_error
    assert books.sandbox.store.rows("bills") == []

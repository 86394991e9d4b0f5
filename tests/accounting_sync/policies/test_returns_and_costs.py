"""Returns and costs reach the books: worked examples on QuickBooks Online and Xero (issue 23).

Each example saves ledger documents, lets the pipeline send them to the platform's sandbox, and asserts what the
platform then holds and that the GL preview's legs are the ones an accountant expects and balance.
"""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import DocumentCheck, RunStatus, Variance, VarianceStatus
from accounting_sync.staff import glpreview
from accounting_sync.policies import preflight
from connectors import registry
from connectors.documents import Entity, ExpenseSnapshot, JournalSnapshot, RefundSnapshot
from connectors.errors import PermanentError
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, RemoteStatus
from ledger.models import DocumentStatus
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.conftest import account_id, drain, tax_code_id

pytestmark = pytest.mark.django_db
D = Decimal


class QBOBooks:
    """The QBO sandbox company, read in our terms."""

    platform = "qbo"

    def __init__(self, sandbox, conn):
        self.sandbox, self.conn = sandbox, conn

    def account(self, name: str) -> str:
        return account_id(self.sandbox, name)

    def map(self) -> None:
        conn, rule = self.conn, f.MappingFactory
        rule(connection=conn, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.LINE_KIND, local_value="restocking_fee",
             remote_id=self.account("Fees"))
        rule(connection=conn, kind=MappingKind.REFUND_ACCOUNT, scope=Scope.PAYMENT_METHOD, local_value="card",
             remote_id=self.account("Card Clearing"))
        rule(connection=conn, kind=MappingKind.REFUND_ACCOUNT, remote_id=self.account("Checking"))
        rule(connection=conn, kind=MappingKind.EXPENSE_ACCOUNT, scope=Scope.COST_KIND, local_value="return_shipping",
             remote_id=self.account("Shipping and Delivery"))
        rule(connection=conn, kind=MappingKind.EXPENSE_ACCOUNT, remote_id=self.account("Supplies"))
        rule(connection=conn, kind=MappingKind.PAID_FROM_ACCOUNT, scope=Scope.PAYMENT_METHOD, local_value="card",
             remote_id=self.account("Euro Card"))
        rule(connection=conn, kind=MappingKind.JOURNAL_ACCOUNT, scope=Scope.ACCOUNT_CODE, local_value="6100",
             remote_id=self.account("Bank Charges"))
        rule(connection=conn, kind=MappingKind.JOURNAL_ACCOUNT, scope=Scope.ACCOUNT_CODE, local_value="1010",
             remote_id=self.account("Checking"))

    # -- what the platform holds ----------------------------------------------------------------------------------
    def credit_note(self, remote_id: str) -> dict:
        memo = self.sandbox.store.get("CreditMemo", remote_id)
        lines = [D(str(line["Amount"])) for line in memo["Line"] if line["DetailType"] == "SalesItemLineDetail"]
        return {"total": D(str(memo["TotalAmt"])), "remaining": D(str(memo["RemainingCredit"])), "lines": lines}

    def refund(self, remote_id: str) -> dict | None:
        purchase = self.sandbox.store.get("Purchase", remote_id)
        if purchase is None:
            return None
        [line] = purchase["Line"]
        return {"amount": D(str(purchase["TotalAmt"])), "from": purchase["AccountRef"]["value"],
                "to": line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"],
                "customer": purchase["EntityRef"]["value"]}

    def receivable(self) -> str:
        return self.account("Accounts Receivable")

    def expense(self, remote_id: str) -> dict:
        purchase = self.sandbox.store.get("Purchase", remote_id)
        vendor = self.sandbox.store.get("Vendor", purchase["EntityRef"]["value"])
        return {"total": D(str(purchase["TotalAmt"])), "tax": D(str(purchase["TxnTaxDetail"]["TotalTax"])),
                "currency": purchase["CurrencyRef"]["value"], "rate": D(str(purchase["ExchangeRate"])),
                "home_total": ref_home_total(purchase), "from": purchase["AccountRef"]["value"],
                "payee": vendor["DisplayName"], "payment_type": purchase["PaymentType"],
                "lines": [(line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"], D(str(line["Amount"])),
                           line["AccountBasedExpenseLineDetail"]["TaxCodeRef"]["value"]) for line in purchase["Line"]]}

    def tax_code(self) -> str:
        return tax_code_id(self.sandbox, "GST 10%")

    def journals(self) -> list[dict]:
        return [{"total": D(str(j["TotalAmt"])),
                 "lines": [(line["JournalEntryLineDetail"]["AccountRef"]["value"],
                            line["JournalEntryLineDetail"]["PostingType"], D(str(line["Amount"])))
                           for line in j["Line"]]} for j in self.sandbox.store.entities("JournalEntry")]


class XeroBooks:
    """The Xero sandbox organisation, read in our terms (accounts are Xero account codes)."""

    platform = "xero"
    CODES = {"Fees": "260", "Card Clearing": "091", "Checking": "090", "Shipping and Delivery": "425",
             "Supplies": "429", "Euro Card": "092", "Bank Charges": "404", "Sales": "200",
             "Accounts Receivable": "610"}

    def __init__(self, sandbox, conn):
        self.sandbox, self.conn = sandbox, conn
        self.store = sandbox.stores[sandbox.tenant_id]

    def account(self, name: str) -> str:
        return self.CODES[name]

    map = QBOBooks.map

    def credit_note(self, remote_id: str) -> dict:
        note = self.store.get("CreditNotes", remote_id)
        return {"total": D(str(note["Total"])), "remaining": D(str(note["RemainingCredit"])),
                "lines": [D(str(line["LineAmount"])) for line in note["LineItems"]]}

    def refund(self, remote_id: str) -> dict | None:
        payment = self.store.get("Payments", remote_id)
        if payment is None or payment["Status"] == "DELETED":
            return None
        note = self.store.get("CreditNotes", payment["CreditNote"]["CreditNoteID"])
        return {"amount": D(str(payment["Amount"])), "from": payment["Account"]["Code"], "to": self.receivable(),
                "customer": note["Contact"]["ContactID"]}

    def receivable(self) -> str:
        return "610"

    def expense(self, remote_id: str) -> dict:
        spend = self.store.get("BankTransactions", remote_id)
        rate = D(str(spend["CurrencyRate"]))
        return {"total": D(str(spend["Total"])), "tax": D(str(spend["TotalTax"])), "currency": spend["CurrencyCode"],
                "rate": (D(1) / rate).quantize(D("0.01")), "home_total": (D(str(spend["Total"])) / rate).quantize(
                    D("0.01")), "from": spend["BankAccount"]["Code"], "payee": spend["Contact"]["Name"],
                "payment_type": spend["Type"],
                "lines": [(line["AccountCode"], D(str(line["LineAmount"])), line["TaxType"])
                          for line in spend["LineItems"]]}

    def tax_code(self) -> str:
        return "INPUT"

    def journals(self) -> list[dict]:
        return [{"total": sum((D(str(line["LineAmount"])) for line in j["JournalLines"] if line["LineAmount"] > 0),
                              D("0.00")),
                 "lines": [(line["AccountCode"], "Debit" if line["LineAmount"] > 0 else "Credit",
                            abs(D(str(line["LineAmount"])))) for line in j["JournalLines"]]}
                for j in self.store.entities("ManualJournals") if j["Status"] == "POSTED"]


@pytest.fixture(params=["qbo", "xero"])
def books(request, org):
    if request.param == "qbo":
        sandbox = request.getfixturevalue("sandbox")
        conn = request.getfixturevalue("make_connection")(org)
        found = QBOBooks(sandbox, conn)
    else:
        sandbox = request.getfixturevalue("xsandbox")
        conn = request.getfixturevalue("make_xero_connection")(org)
        found = XeroBooks(sandbox, conn)
    found.map()
    return found


def purchase_tax(books, org):
    """A tax rate for what the business buys: QBO takes its GST code both ways, Xero a purchase tax type (INPUT)."""
    if books.platform == "qbo":
        return f.TaxRateFactory(organization=org)
    rate = f.TaxRateFactory(organization=org, name="Purchase tax 10%")
    f.MappingFactory(connection=books.conn, kind=MappingKind.TAX_CODE, scope=Scope.TAX_RATE,
                     local_value="Purchase tax 10%", remote_id="INPUT")
    return rate


def ref_home_total(purchase: dict) -> Decimal:
    """A purchase's total in home currency as QBO reports it: Finance.xsd gives a purchase no HomeTotalAmt."""
    return (D(str(purchase["TotalAmt"])) * D(str(purchase["ExchangeRate"]))).quantize(D("0.01"))


def ref_of(obj) -> ExternalReference:
    return ExternalReference.objects.get(connection__isnull=False, source_key=f"{obj._meta.label_lower}:{obj.pk}")


def legs(books, obj) -> glpreview.Journal:
    """The GL preview of ``obj`` on the books' connection, with the platform's current lists."""
    conn = books.conn
    entry = glpreview.preview(conn, f"{obj._meta.label_lower}:{obj.pk}",
                              preflight.reference_data(conn, conn.connector(), refresh=True))
    assert entry.balanced and not entry.problems, (entry.lines, entry.problems)
    return entry


def sides(entry: glpreview.Journal) -> list[tuple[str, Decimal, Decimal]]:
    return [(line.account_id, line.debit, line.credit) for line in entry.lines]


def reconciled(books, *documents) -> None:
    """...and is reconciled: a full run of the reconcile engine over the connection finds no variance, and each of
    ``documents`` was compared and found equal."""
    run = engine.run(books.conn)
    assert run.status == RunStatus.DONE, run.error
    assert list(Variance.objects.filter(connection=books.conn, status=VarianceStatus.OPEN)
                .values_list("label", "field", "reason", "message")) == []
    assert run.variances == 0
    for document in documents:
        key = f"{document._meta.label_lower}:{document.pk}"
        check = DocumentCheck.objects.get(connection=books.conn, source_key=key)
        assert check.equal and check.entity == ref_of(document).entity


def returned(org, customer=None, *, price="120.00", fee="12.00"):
    """A credit note for goods returned at ``price``, less a restocking fee of ``fee`` the business keeps."""
    with transaction.atomic():
        note = f.CreditNoteFactory(organization=org, **({"customer": customer} if customer else {}))
        f.CreditNoteLineFactory(credit_note=note, position=0, kind="product", unit_price=D(price))
        if fee:
            f.CreditNoteLineFactory(credit_note=note, position=1, kind="restocking_fee", description="Restocking fee",
                                    unit_price=D(fee))
    return note


def test_a_return_of_120_with_a_12_restocking_fee_refunded_108_to_a_card(books, org):
    note = returned(org)
    assert note.totals().total == D("108.00") and note.totals().kept == D("12.00")
    refund = f.RefundFactory(credit_note=note, amount=D("108.00"), method="card")
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()

    held = books.credit_note(ref_of(note).remote_id)
    assert held["total"] == D("108.00") and held["lines"] == [D("120.00"), D("-12.00")]
    assert held["remaining"] == D("0.00")  # the whole credit went back to the customer
    paid = books.refund(ref_of(refund).remote_id)
    assert paid == {"amount": D("108.00"), "from": books.account("Card Clearing"), "to": books.receivable(),
                    "customer": ref_of(note.customer).remote_id}

    receivable, sales, fees = books.receivable(), books.account("Sales"), books.account("Fees")
    assert sides(legs(books, note)) == [(receivable, D("0.00"), D("108.00")), (sales, D("120.00"), D("0.00")),
                                        (fees, D("0.00"), D("12.00"))]
    assert sides(legs(books, refund)) == [(receivable, D("108.00"), D("0.00")),
                                          (books.account("Card Clearing"), D("0.00"), D("108.00"))]
    reconciled(books, note, refund)


def test_a_partial_refund_leaves_the_rest_of_the_credit(books, org):
    note = returned(org, price="100.00", fee="")
    first = f.RefundFactory(credit_note=note, amount=D("40.00"), method="transfer")
    drain()
    assert books.credit_note(ref_of(note).remote_id)["remaining"] == D("60.00")
    assert books.refund(ref_of(first).remote_id)["from"] == books.account("Checking")  # the default refund account
    with pytest.raises(ValidationError, match="has 60.00 USD left to refund"):
        f.RefundFactory(credit_note=note, amount=D("60.01"), method="transfer")
    second = f.RefundFactory(credit_note=note, amount=D("25.00"), method="card")
    drain()
    assert books.credit_note(ref_of(note).remote_id)["remaining"] == D("35.00")
    assert books.refund(ref_of(second).remote_id)["amount"] == D("25.00")
    assert sides(legs(books, second)) == [(books.receivable(), D("25.00"), D("0.00")),
                                          (books.account("Card Clearing"), D("0.00"), D("25.00"))]

    first.amount = D("30.00")  # corrected: the platform's refund and what it applies follow
    first.save()
    drain()
    assert books.refund(ref_of(first).remote_id)["amount"] == D("30.00")
    assert books.credit_note(ref_of(note).remote_id)["remaining"] == D("45.00")
    reconciled(books, note, first, second)


def test_a_refund_voided_gives_the_credit_back(books, org):
    note = returned(org)
    refund = f.RefundFactory(credit_note=note, amount=D("108.00"))
    drain()
    remote = ref_of(refund).remote_id
    refund.status = DocumentStatus.VOID
    refund.save()
    drain()
    assert books.refund(remote) is None or books.refund(remote)["amount"] == D("0.00")
    assert books.credit_note(ref_of(note).remote_id)["remaining"] == D("108.00")
    assert ref_of(refund).remote_status in (RemoteStatus.DELETED, RemoteStatus.VOIDED)
    entry = glpreview.preview(books.conn, f"ledger.refund:{refund.pk}", None)
    assert entry.lines == () and entry.note.startswith("Void")
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    reconciled(books, note, refund)


def test_an_expense_with_tax_in_a_foreign_currency(books, org):
    gst = purchase_tax(books, org)
    with transaction.atomic():
        expense = f.ExpenseFactory(organization=org, currency="EUR", exchange_rate=D("1.08"), paid_from="card",
                                   payee="Parcel Express", attachment="receipts/2026/0042.pdf")
        f.ExpenseLineFactory(expense=expense, cost_kind="return_shipping", amount=D("50.00"), tax_rate=gst)
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    held = books.expense(ref_of(expense).remote_id)
    assert held["total"] == D("55.00") and held["tax"] == D("5.00") and held["currency"] == "EUR"
    assert held["rate"] == D("1.08") and held["home_total"] == D("59.40")
    assert held["from"] == books.account("Euro Card") and held["payee"] == "Parcel Express"
    assert held["lines"] == [(books.account("Shipping and Delivery"), D("50.00"), books.tax_code())]

    entry = legs(books, expense)
    assert entry.currency == "EUR"
    assert [(line.debit, line.credit) for line in entry.lines] == [(D("50.00"), D("0.00")), (D("5.00"), D("0.00")),
                                                                  (D("0.00"), D("55.00"))]
    assert entry.lines[0].account_id == books.account("Shipping and Delivery")
    assert entry.lines[2].account_id == books.account("Euro Card")
    reconciled(books, expense)


def test_an_unbalanced_journal_is_stopped_by_preflight_with_a_clear_message(books, org):
    with transaction.atomic():
        entry = f.JournalEntryFactory(organization=org, number="JE-7")
        f.JournalLineFactory(entry=entry, position=0, account_code="6100", debit=D("100.00"), credit=D("0"))
        line = f.JournalLineFactory(entry=entry, position=1, account_code="1010", debit=D("0"), credit=D("90.00"))
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"ledger.journalentry:{entry.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION and stopped.error_code == "invalid_document"
    assert stopped.last_error == ("Journal JE-7: the journal does not balance: debits 100.00 and credits 90.00 differ "
                                  "by 10.00; make them equal to the cent")
    assert books.journals() == []  # nothing was sent
    preview = glpreview.preview(books.conn, f"ledger.journalentry:{entry.pk}", None)
    assert not preview.balanced

    line.credit = D("100.00")
    line.save()
    drain()
    assert OutboxEntry.objects.get(pk=stopped.pk).status == EntryStatus.DONE
    [journal] = books.journals()
    assert journal["total"] == D("100.00")
    assert journal["lines"] == [(books.account("Bank Charges"), "Debit", D("100.00")),
                                (books.account("Checking"), "Credit", D("100.00"))]
    assert sides(legs(books, entry)) == [(books.account("Bank Charges"), D("100.00"), D("0.00")),
                                         (books.account("Checking"), D("0.00"), D("100.00"))]
    reconciled(books, entry)


def test_a_platform_without_refunds_says_so_before_sending(org, make_connection, monkeypatch):
    """A platform without refunds and kept lines: the refund and the credit note stop with what to do, end to end
    through the pipeline (the capabilities of the QBO connector are narrowed for the test), and nothing is sent."""
    qbo = registry.get("qbo")
    monkeypatch.setattr(qbo, "capabilities",
                        replace(qbo.capabilities, entities=frozenset(Entity.SALES), kept_lines=False,
                                delete=qbo.capabilities.delete - set(Entity.RETURNS_AND_COSTS)))
    make_connection(org)
    note = returned(org)
    refund = f.RefundFactory(credit_note=note, amount=D("108.00"))
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"ledger.refund:{refund.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION and stopped.error_code == "unsupported"
    assert "does not take refunds" in stopped.last_error and "by hand" in stopped.hint
    memo = OutboxEntry.objects.get(source_key=f"ledger.creditnote:{note.pk}")
    assert memo.error_code == "unsupported" and "restocking fee" in memo.last_error


def test_an_expense_and_a_journal_voided_leave_nothing_posted(books, org):
    with transaction.atomic():
        expense = f.ExpenseFactory(organization=org, paid_from="transfer")
        f.ExpenseLineFactory(expense=expense, cost_kind="consumables", amount=D("20.00"))
        entry = f.JournalEntryFactory(organization=org)
        f.JournalLineFactory(entry=entry, position=0, account_code="6100", debit=D("7.50"), credit=D("0"))
        f.JournalLineFactory(entry=entry, position=1, account_code="1010", debit=D("0"), credit=D("7.50"))
    f.MappingFactory(connection=books.conn, kind=MappingKind.PAID_FROM_ACCOUNT, remote_id=books.account("Checking"))
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    assert [j["total"] for j in books.journals()] == [D("7.50")]
    assert books.expense(ref_of(expense).remote_id)["total"] == D("20.00")
    for document in (expense, entry):
        document.status = DocumentStatus.VOID
        document.save()
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    assert books.journals() == []
    assert ref_of(expense).remote_status in (RemoteStatus.DELETED, RemoteStatus.VOIDED)
    assert ref_of(entry).remote_status in (RemoteStatus.DELETED, RemoteStatus.VOIDED)
    reconciled(books, expense, entry)


RETURNS_AND_COSTS_SNAPSHOTS = {
    Entity.REFUND: RefundSnapshot(key="ledger.refund:1", organization_id=1, number="RF-1", customer_key="c",
                                  amount=D("10.00"), credit_note_key="n"),
    Entity.EXPENSE: ExpenseSnapshot(key="ledger.expense:1", organization_id=1, number="EXP-1", payee="Courier"),
    Entity.JOURNAL: JournalSnapshot(key="ledger.journalentry:1", organization_id=1, number="JE-1"),
}


@pytest.mark.parametrize("platform", sorted(registry.connectors()))
@pytest.mark.parametrize("entity", Entity.RETURNS_AND_COSTS)
def test_every_platform_takes_a_return_or_a_cost_or_says_what_staff_do_instead(platform, entity):
    """What a platform does not declare stops before anything is sent, naming the platform and the way out."""
    conn = f.ConnectionFactory(platform=platform)
    doc = RETURNS_AND_COSTS_SNAPSHOTS[entity]
    if entity in registry.get(platform).capabilities.entities:
        preflight.check_supported(conn, doc)
        return
    with pytest.raises(PermanentError) as stopped:
        preflight.check_supported(conn, doc)
    assert stopped.value.code == "unsupported" and conn.platform_name in str(stopped.value)
    assert "by hand" in stopped.value.hint and "GL preview" in stopped.value.hint

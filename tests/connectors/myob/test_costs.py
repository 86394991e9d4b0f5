"""Refunds, expenses and journals on the MYOB sandbox as MYOB models them (issue 23): a credit refund lowers the
credit and cannot be edited (no PUT), nor exceed the credit; spend money adds each line's tax and pays from a bank
or credit-card account only; a general journal must balance; and the connector's payloads say it that way."""
import datetime as dt
from decimal import Decimal

import pytest

from accounting_sync.inbound import sync as inbound
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
from accounting_sync.reconcile.models import Reason, Variance
from connectors.documents import (CreditNoteSnapshot, ExpenseLineSnapshot, ExpenseSnapshot, LineSnapshot, Mapping,
                                  RefundSnapshot)
from connectors.myob import costs as c
from connectors.myob import translate as t
from ledger.models import DocumentStatus
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.accounting_sync.inbound.test_platform_inbound import last_log, writes_since
from tests.accounting_sync.reconcile.test_reconcile_returns_and_costs import ref_of, synced_documents
from tests.conftest import drain
from tests.connectors.myob.test_sandbox import Myob, customer, ids, sale
from tests.platforms import POOL, PlatformHarness, next_second, sandbox_for

D = Decimal


@pytest.fixture
def api(msandbox):
    return Myob(msandbox)


def credit(api, cust, number="CN-1", total="100.00"):
    made = sale(api, cust, number, totals=(f"-{total}",), tax="FRE")
    assert made.status_code == 201 and made.body["TotalAmount"] == D(f"-{total}"), made.body
    return made.body


def refund(api, cust, note, amount, account="Business Bank Account"):
    accounts, _ = ids(api.sb)
    return api.call("POST", "Sale/CreditRefund", params={"returnBody": "true"}, body={
        "Customer": {"UID": cust["UID"]}, "Invoice": {"UID": note["UID"]}, "Account": {"UID": accounts[account]},
        "Number": "RF-1", "Date": "2026-12-03", "Amount": D(amount), "Memo": "Refund"})


def test_a_credit_refund_lowers_the_credit_and_deleting_it_gives_the_credit_back(api):
    cust = customer(api)
    note = credit(api, cust)
    made = refund(api, cust, note, "40.00")
    assert made.status_code == 201 and made.body["Amount"] == D("40.00")
    assert made.body["Invoice"]["UID"] == note["UID"] and made.body["Account"]["Name"] == "Business Bank Account"
    after = api.call("GET", f"Sale/Invoice/Service/{note['UID']}").body
    assert after["BalanceDueAmount"] == D("-60.00")
    listed = api.call("GET", "Sale/CreditRefund", params={"$filter": "Number eq 'RF-1'"}).body
    assert [r["UID"] for r in listed["Items"]] == [made.body["UID"]]
    assert api.call("PUT", f"Sale/CreditRefund/{made.body['UID']}", body=made.body).status_code == 405  # no PUT
    gone = api.call("DELETE", f"Sale/Invoice/Service/{note['UID']}")
    assert gone.status_code == 400 and gone.body["Errors"][0]["Name"] == "SaleHasPaymentsOrCredits"
    assert api.call("DELETE", f"Sale/CreditRefund/{made.body['UID']}").status_code == 200
    assert api.call("GET", f"Sale/Invoice/Service/{note['UID']}").body["BalanceDueAmount"] == D("-100.00")


def test_a_credit_refund_is_refused_beyond_the_credit_or_from_an_account_that_is_not_a_bank(api):
    cust = customer(api)
    note = credit(api, cust)
    over = refund(api, cust, note, "100.01")
    assert over.status_code == 400 and over.body["Errors"][0]["Name"] == "CreditAmountExceeded"
    wrong = refund(api, cust, note, "10.00", account="Sales")
    assert wrong.status_code == 400 and wrong.body["Errors"][0]["AdditionalDetails"] == "Account"
    invoice = sale(api, cust, "INV-9").body
    not_credit = refund(api, cust, invoice, "10.00")
    assert not_credit.status_code == 400 and not_credit.body["Errors"][0]["AdditionalDetails"] == "Invoice"


def test_spend_money_adds_each_lines_tax_and_is_edited_with_its_row_version(api):
    accounts, taxes = ids(api.sb)
    body = {"PayFrom": "Account", "Account": {"UID": accounts["Business Bank Account"]}, "PayeeAddress": "Parcel Co",
            "PaymentNumber": "EXP-1", "Date": "2026-12-03", "IsTaxInclusive": False,
            "Lines": [{"Account": {"UID": accounts["Freight Paid"]}, "TaxCode": {"UID": taxes["GST"]},
                       "Amount": D("50.00"), "Memo": "Return shipping"}]}
    made = api.call("POST", "Banking/SpendMoneyTxn", params={"returnBody": "true"}, body=body)
    assert made.status_code == 201 and (made.body["AmountPaid"], made.body["TotalTax"]) == (D("55.00"), D("5.00"))
    changed = {**made.body, "Lines": [{**made.body["Lines"][0], "Amount": D("60.00")}]}
    assert api.call("PUT", f"Banking/SpendMoneyTxn/{made.body['UID']}", body=changed).status_code == 200
    assert api.call("GET", f"Banking/SpendMoneyTxn/{made.body['UID']}").body["AmountPaid"] == D("66.00")
    stale = api.call("PUT", f"Banking/SpendMoneyTxn/{made.body['UID']}", body=changed)
    assert stale.status_code == 409 and stale.body["Errors"][0]["Name"] == "IncorrectRowVersionSupplied"
    income = api.call("POST", "Banking/SpendMoneyTxn", body={**body, "Account": {"UID": accounts["Sales"]}})
    assert income.status_code == 400 and income.body["Errors"][0]["Name"] == "InvalidAccountType"


def test_a_general_journal_must_balance(api):
    accounts, taxes = ids(api.sb)

    def line(name, amount, is_credit):
        return {"Account": {"UID": accounts[name]}, "TaxCode": {"UID": taxes["N-T"]}, "Amount": D(amount),
                "IsCredit": is_credit}

    body = {"DisplayID": "JE-7", "DateOccurred": "2026-12-03", "GSTReportingMethod": "Sale",
            "Lines": [line("Bank Charges", "100.00", False), line("Business Bank Account", "90.00", True)]}
    out = api.call("POST", "GeneralLedger/GeneralJournal", body=body)
    assert out.status_code == 400 and out.body["Errors"][0]["Name"] == "OutOfBalance"
    body["Lines"][1]["Amount"] = D("100.00")
    made = api.call("POST", "GeneralLedger/GeneralJournal", params={"returnBody": "true"}, body=body)
    assert made.status_code == 201 and t.result("journal", made.body).total == D("100.00")
    missing = api.call("POST", "GeneralLedger/GeneralJournal", body={**body, "GSTReportingMethod": None})
    assert missing.status_code == 400 and missing.body["Errors"][0]["Name"] == "Required"


def test_payloads_keep_the_restocking_fee_on_the_credit_and_send_tax_exclusive_spend_money():
    day = dt.date(2026, 12, 3)
    note = CreditNoteSnapshot(key="n", organization_id=1, number="CN-1", customer_key="c", issue_date=day, lines=(
        LineSnapshot("product", "Goods", D("1"), D("120.00"), D("120.00"), D("0.00")),
        LineSnapshot("restocking_fee", "Restocking fee", D("1"), D("12.00"), D("12.00"), D("0.00"))))
    body = t.sales_payload(note, Mapping(line_accounts=("sales", "fees"), refs={"c": "cust"}), "Service", "nt")
    assert [line["Total"] for line in body["Lines"]] == [D("-120.00"), D("12.00")]  # the credit is 108.00

    expense = ExpenseSnapshot(key="e", organization_id=1, number="EXP-1", payee="Parcel Co", date=day, lines=(
        ExpenseLineSnapshot("return_shipping", "", D("50.00"), D("5.00"), tax_rate_key="gst"),))
    body = c.expense_payload(expense, Mapping(line_accounts=("freight",), tax_codes={"gst": "GST-UID"},
                                              deposit_account="bank"), "NT-UID")
    assert body["Lines"] == [{"Account": {"UID": "freight"}, "TaxCode": {"UID": "GST-UID"}, "Amount": D("50.00"),
                              "Memo": "return shipping"}]
    assert (body["PayFrom"], body["Account"], body["PayeeAddress"]) == ("Account", {"UID": "bank"}, "Parcel Co")


def test_a_refund_of_an_overpayment_is_refused_before_sending():
    doc = RefundSnapshot(key="r", organization_id=1, number="RF-1", customer_key="c", payment_key="p")
    assert c.refund_problems(doc) and "by hand" in c.refund_problems(doc)[0]


@pytest.mark.django_db
def test_an_expense_in_a_foreign_currency_stops_before_sending_with_the_currency_myob_takes(request, org):
    """MYOB files are sent in their local currency only (multi-currency is an AccountRight Plus/Premier option the
    connector does not use): an expense in euros stops in preflight, nothing is sent, staff enter it by hand."""
    harness = PlatformHarness("myob", sandbox_for(request, "myob"), POOL)
    harness.reset()
    f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10"))
    f.TaxRateFactory(organization=org, name="Exempt", rate=D("0"))
    conn = harness.connect(org)
    expense = f.ExpenseFactory(organization=org, currency="EUR", exchange_rate=D("1.08"), paid_from="card")
    f.ExpenseLineFactory(expense=expense, cost_kind="return_shipping", amount=D("50.00"))
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"{expense._meta.label_lower}:{expense.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "does not accept EUR (it takes USD)" in stopped.last_error
    assert not ExternalReference.objects.filter(connection=conn, source_key=stopped.source_key).exists()
    assert harness.sandbox.store.rows("spends") == []


# -- changed in AccountRight, back by polling (issue 23) ---------------------------------------------------------------
@pytest.fixture
def books(request, org):
    """A two-way MYOB connection with the demo chart and the journal's codes 6100 and 1010 mapped."""
    harness = PlatformHarness("myob", sandbox_for(request, "myob"), POOL)
    harness.reset()
    f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10"))
    f.TaxRateFactory(organization=org, name="Exempt", rate=D("0"))
    harness.conn = harness.connect(org, direction="both")
    accounts = {r.data["Name"]: r.id for r in harness.sandbox.store.rows("accounts")}
    for code, name in (("6100", "Bank Charges"), ("1010", "Business Bank Account")):
        f.MappingFactory(connection=harness.conn, kind=MappingKind.JOURNAL_ACCOUNT, scope=Scope.ACCOUNT_CODE,
                         local_value=code, remote_id=accounts[name])
    return harness


@pytest.mark.django_db
@pytest.mark.parametrize(("entity", "action", "key", "edit", "total"), [
    ("expense", "edit_spend_money", "spend_id", {"line": 0, "amount": "25.00"}, D("25.00")),
    ("journal", "edit_journal", "journal_id", {"amount": "9.00"}, D("9.00"))])
def test_spend_money_or_a_journal_edited_in_myob_is_reported_and_flagged_not_applied(books, org, entity, action, key,
                                                                                      edit, total):
    """Spend money and general journals carry ``LastModified``: one edited in AccountRight is reported as an update
    (``LastModified ge``), and its new amount is flagged as a variance, never written here."""
    note, refund, expense, journal = synced_documents(org)
    obj = expense if entity == "expense" else journal
    ref = ref_of(obj)
    since = dt.datetime.now(dt.UTC)
    next_second()
    books.act(action, **{key: ref.remote_id}, **edit)
    next_second()
    connector = books.conn.connector()
    changes, cursor = connector.changes_since([entity], since)
    assert [(c.entity, c.remote_id, c.operation) for c in changes] == [(entity, ref.remote_id, "update")]
    assert connector.changes_since([entity], cursor)[0] == []
    mark = last_log(books.conn)
    result = inbound.pull(books.conn)
    assert result.failed == 0, result.summary()
    [variance] = Variance.objects.filter(connection=books.conn, source_key=ref.source_key)
    assert variance.reason == Reason.EDITED_REMOTELY and D(variance.remote_value) == total
    obj.refresh_from_db()
    assert obj.status != DocumentStatus.VOID
    drain()
    assert writes_since(books.conn, mark) == []  # the edit is not overwritten from here


@pytest.mark.django_db
def test_a_journal_deleted_in_myob_is_not_in_the_change_feed_but_reconciliation_finds_it(books, org):
    """MYOB lists hold no deleted records and it has no deleted-since query: a deletion is found by reconciliation
    (read back by UID: 404), never by polling."""
    note, refund, expense, journal = synced_documents(org)
    ref = ref_of(journal)
    since = dt.datetime.now(dt.UTC)
    books.act("delete_journal", journal_id=ref.remote_id)
    next_second()
    changes, _ = books.conn.connector().changes_since(["journal"], since)
    assert ref.remote_id not in {c.remote_id for c in changes}
    [read] = books.conn.connector().read_documents("journal", [ref.remote_id])
    assert read.status == "deleted"


@pytest.mark.django_db
@pytest.mark.parametrize(("entity", "action", "key", "path"), [
    ("expense", "reverse_spend_money", "spend_id", "spends"), ("journal", "reverse_journal", "journal_id", "journals")])
def test_spend_money_or_a_journal_reversed_in_myob_reports_the_original_voided_never_the_reversal(
        books, org, entity, action, key, path):
    """A reversal is a new record with the original's number and a ``Reversal;`` memo (a guess: the module docstring
    of ``connectors.myob.costs``): the change feed reports the original as voided, not the reversal; the list and
    the reads show the original voided and leave the reversal out."""
    note, refund, expense, journal = synced_documents(org)
    ref = ref_of(expense if entity == "expense" else journal)
    next_second()  # MYOB compares whole seconds: the original is older than ``since``
    since = dt.datetime.now(dt.UTC)
    reversal = books.act(action, **{key: ref.remote_id})
    assert reversal["UID"] != ref.remote_id and len(books.sandbox.store.rows(path)) == 2
    next_second()
    connector = books.conn.connector()
    changes, _ = connector.changes_since([entity], since)
    assert [(c.remote_id, c.operation) for c in changes] == [(ref.remote_id, "void")]
    listed = list(connector.list_documents(entity))
    assert [(d.remote_id, d.status) for d in listed] == [(ref.remote_id, "voided")]
    assert [(d.remote_id, d.status) for d in connector.list_documents(entity, since)] == []  # the original is older
    [read] = connector.read_documents(entity, [ref.remote_id])
    assert read.status == "voided" and read.total == D("0.00")

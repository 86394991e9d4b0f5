"""Reconciliation of refunds, expenses and journals on kit platforms (issue 23): FreshBooks, Bill.com and Kashoo
(expenses only), MYOB Business, NetSuite REST and SOAP, SAP Business One, SAP S/4HANA, Sage Intacct and Wave (refunds
only), and Xero for the books agreeing and a refund of an overpayment. Several of them now also report these changes
by polling (``test_platform_inbound_costs.py``); what polling cannot see (a MYOB deletion, a Wave refund removed)
reconciliation still finds. The books agree after a sync; what a bookkeeper does on the platform (a refund deleted,
cancelled or reversed, an expense's amount typed over, voided, cancelled, reversed or its bill archived, a journal
deleted, cancelled or reversed) gives the variance with its reason:
reconciliation is where these are found, each record read back by id. One suite, the platforms' differences as data:
what their users can do, and what the platform then shows (deleted, or voided: a cancelled outgoing payment or
journal entry, a reversed S/4HANA journal entry or Intacct refund, bill or journal entry stays there). An entity a
platform does not take is entered by hand and not compared."""
from __future__ import annotations

from decimal import Decimal

import pytest

from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import PeriodTotal, Reason
from connectors.documents import Entity
from connectors.wave.translate import split_payment_id
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.accounting_sync.reconcile.test_reconcile_returns_and_costs import ref_of, synced_documents, variances
from tests.conftest import drain
from tests.platforms import POOL, PlatformHarness, platform_sandboxes, sandbox_for  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db
D = Decimal
DELETED, VOIDED = Reason.DELETED_REMOTELY, Reason.VOIDED_REMOTELY

#: Per platform: the sandbox table of accounts and its name field; the accounts of the journal's codes 6100, 1010.
CHARTS = {"freshbooks": ("ledger_accounts", "name", ("Office Expenses", "Business Checking")),
          "billcom": ("chart-of-accounts", "name", ("Office Supplies", "Business Checking")),
          "intacct": ("GLACCOUNT", "TITLE", ("Bank Charges", "Bank")),
          "wave": ("accounts", "name", ("Office Supplies", "Business Checking")),
          "myob": ("accounts", "Name", ("Bank Charges", "Business Bank Account")),
          "netsuite": ("account", "acctName", ("Postage and Delivery", "Checking")),
          "netsuitesoap": ("account", "acctName", ("Operating Expenses", "Checking")),
          "sapb1": ("ChartOfAccounts", "Name", ("Bank Charges", "Bank Account")),
          "s4hana": ("A_GLAccountInChartOfAccounts", "GLAccountName", ("Office Expenses", "Bank Account")),
          "kashoo": ("accounts", "name", ("Office Supplies", "Chequing Account")),
          "xero": ("Accounts", "Name", ("General Expenses", "Business Bank Account"))}
#: What a person does to take a refund, an expense or a journal back there: (action, its id keyword, the check
#: that finds it, the reason).
REFUND_TAKEN_BACK = {"intacct": ("reverse_refund", "refund_id", "status", VOIDED),
                     "myob": ("delete_refund", "refund_id", "exists", DELETED),
                     "wave": ("delete_invoice_payment", "payment_id", "exists", DELETED),
                     "netsuite": ("delete_refund", "refund_id", "exists", DELETED),
                     "netsuitesoap": ("delete_refund", "refund_id", "exists", DELETED),
                     "sapb1": ("cancel_outgoing_payment", "payment_id", "status", VOIDED),
                     "s4hana": ("reverse_refund", "refund_id", "status", VOIDED)}
EXPENSE_TAKEN_BACK = {"freshbooks": ("delete_expense", "expense_id", "exists", DELETED),
                      "billcom": ("archive_bill", "bill_id", "exists", DELETED),
                      "kashoo": ("delete_bill", "bill_id", "exists", DELETED),
                      "intacct": ("reverse_bill", "bill_id", "status", VOIDED),
                      "netsuite": ("void_check", "check_id", "status", VOIDED),
                      "netsuitesoap": ("void_check", "check_id", "status", VOIDED),
                      "sapb1": ("cancel_outgoing_payment", "payment_id", "status", VOIDED),
                      "s4hana": ("reverse_expense", "expense_id", "status", VOIDED)}
EXPENSE_TYPED_OVER = {"freshbooks": ("edit_expense", "expense_id"), "myob": ("edit_spend_money", "spend_id"),
                      "billcom": ("edit_bill_line", "bill_id"), "kashoo": ("edit_bill_line", "bill_id"),
                      "netsuite": ("edit_check_line", "check_id"), "netsuitesoap": ("edit_check_line", "check_id")}
#: Where the id a person sees on the platform is not our remote id: Wave reads a payment (a refund too) through its
#: invoice, so our remote id holds both; the person removes the payment by its own id.
PLATFORM_IDS = {"wave": lambda books, remote_id: split_payment_id(remote_id, books.conn.remote_company_id)[1]}
JOURNAL_TAKEN_BACK = {"intacct": ("reverse_journal", "journal_id", VOIDED),
                      "myob": ("delete_journal", "journal_id", DELETED),
                      "netsuite": ("delete_journal", "journal_id", DELETED),
                      "netsuitesoap": ("delete_journal", "journal_id", DELETED),
                      "sapb1": ("cancel_journal", "journal_id", VOIDED),
                      "s4hana": ("reverse_journal", "journal_id", VOIDED)}
#: Where a platform that refunds overpayments shows what its refund applies (the first credit's id, as our remote id
#: of the payment), and the overpayment's credit left unapplied: NetSuite's customer payment, Xero's Overpayment
#: record (made from a payment applied to no invoice; the refund is a Payment on it).
REFUND_APPLIES = {"netsuite": (lambda raw: raw["apply"]["items"][0]["doc"]["id"], lambda raw: raw["unapplied"]),
                  "netsuitesoap": (lambda raw: str(raw["applyList"]["apply"][0]["doc"]),
                                   lambda raw: raw["unapplied"]),
                  "xero": (lambda raw: f"overpayment:{raw['Overpayment']['OverpaymentID']}",
                           lambda raw: raw["RemainingCredit"])}


@pytest.fixture(params=sorted(CHARTS))
def books(request, org):
    """A connection of the platform with the demo chart mapped and the journal's two account codes."""
    platform = request.param
    harness = PlatformHarness(platform, sandbox_for(request, platform), POOL)
    harness.reset()
    f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10"))
    f.TaxRateFactory(organization=org, name="Exempt", rate=D("0"))
    harness.conn = harness.connect(org)
    table, name_field, names = CHARTS[platform]
    accounts = chart_of(harness.sandbox, table, name_field)
    for code, name in zip(("6100", "1010"), names, strict=True):
        f.MappingFactory(connection=harness.conn, kind=MappingKind.JOURNAL_ACCOUNT, scope=Scope.ACCOUNT_CODE,
                         local_value=code, remote_id=accounts[name])
    return harness


def chart_of(sandbox, table: str, name_field: str) -> dict[str, str]:
    """Account name -> the id the platform's API takes (Xero's: the account ``Code``)."""
    if hasattr(sandbox.store, "rows"):
        return {r.data[name_field]: r.id for r in sandbox.store.rows(table)}
    return {r[name_field]: r["Code"] for r in sandbox.store.entities(table)}


def platform_id(books, remote_id: str) -> str:
    return PLATFORM_IDS.get(books.platform, lambda books, remote_id: remote_id)(books, remote_id)


def needs(books, table: dict):
    if books.platform not in table:
        pytest.skip(f"{books.platform}'s users cannot do this")
    return table[books.platform]


def test_books_that_agree_give_no_variance_and_per_period_totals_per_entity(books, org):
    synced_documents(org)
    run = engine.run(books.conn)
    assert variances(run) == {}
    month = {row.entity: (row.local_count, row.local_total, row.remote_count, row.remote_total)
             for row in PeriodTotal.objects.filter(run=run, period="month")}
    sent = {"refund": (1, D("40.00"), 1, D("40.00")), "expense": (1, D("20.00"), 1, D("20.00")),
            "journal": (1, D("7.50"), 1, D("7.50"))}
    taken = books.capabilities.entities  # what a platform does not take is entered by hand: not reconciled
    assert {entity: month.get(entity) for entity in sent if entity in taken} == \
        {entity: totals for entity, totals in sent.items() if entity in taken}


def test_a_refund_taken_back_there_makes_the_credit_whole_again(books, org):
    action, key, check, reason = needs(books, REFUND_TAKEN_BACK)
    note, refund, expense, entry = synced_documents(org)
    books.act(action, **{key: platform_id(books, ref_of(refund).remote_id)})
    found = variances(engine.run(books.conn))
    variance = found.pop(("ledger.refund", check))
    assert variance.reason == reason and variance.alarm and variance.entity == "refund"
    rest = found.pop(("ledger.creditnote", "balance"))
    assert rest.reason == Reason.MISSING_THERE and (D(rest.local_value), D(rest.remote_value)) == (60, 100)
    assert found == {}


def test_an_expense_typed_over_there(books, org):
    action, key = needs(books, EXPENSE_TYPED_OVER)
    note, refund, expense, entry = synced_documents(org)
    books.act(action, **{key: ref_of(expense).remote_id}, line=0, amount="25.00")
    found = variances(engine.run(books.conn))
    variance = found.pop(("ledger.expense", "total"))
    assert variance.reason == Reason.EDITED_REMOTELY and variance.alarm
    assert (D(variance.local_value), D(variance.remote_value), variance.difference) == (20, 25, 5)
    assert found == {}


def test_an_expense_taken_back_there(books, org):
    action, key, check, reason = needs(books, EXPENSE_TAKEN_BACK)
    note, refund, expense, entry = synced_documents(org)
    books.act(action, **{key: ref_of(expense).remote_id})
    [(found, variance)] = variances(engine.run(books.conn)).items()
    assert found == ("ledger.expense", check) and variance.reason == reason and variance.alarm


def test_a_journal_taken_back_there(books, org):
    action, key, reason = needs(books, JOURNAL_TAKEN_BACK)
    note, refund, expense, entry = synced_documents(org)
    books.act(action, **{key: ref_of(entry).remote_id})
    [(found, variance)] = variances(engine.run(books.conn)).items()
    assert found[0] == "ledger.journalentry" and variance.reason == reason and variance.alarm


def test_an_overpayment_refunded_from_the_payment_it_left_unapplied(books, org):
    if books.platform not in REFUND_APPLIES:
        pytest.skip(f"{books.platform} refuses refunds of overpayments before sending (entered by hand)")
    payment = f.PaymentFactory(organization=org, amount=D("80.00"))
    refund = f.RefundFactory(credit_note=None, payment=payment, amount=D("80.00"), method="transfer")
    drain()
    connector = books.conn.connector()
    applies, unapplied = REFUND_APPLIES[books.platform]
    held = connector.fetch(Entity.REFUND, ref_of(refund).remote_id)
    assert held.total == D("80.00") and applies(held.raw) == ref_of(payment).remote_id
    assert D(str(unapplied(connector.fetch(Entity.PAYMENT, ref_of(payment).remote_id).raw))) == D("0.00")
    assert variances(engine.run(books.conn)) == {}

"""Refunds, expenses and journals on the Service Layer sandbox as Business One models them (issue 23): an outgoing
payment to a customer lowers its credit note's open amount and is cancelled, never changed; an outgoing payment on
account adds each row's tax and must equal its rows; a journal entry must balance and is cancelled by its
reversing entry; and the connector's bodies say it that way. What a user cancels comes back by polling as a void
of ours: one outgoing-payment request for refunds and expenses (its ``DocType`` says which), one journal request in
which the reversing entry names the entry it cancels."""
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import transaction

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
from connectors.documents import (CreditNoteSnapshot, ExpenseLineSnapshot, ExpenseSnapshot, JournalLineSnapshot,
                                  JournalSnapshot, LineSnapshot, Mapping, RefundSnapshot)
from connectors.sapb1 import costs as c
from connectors.sapb1 import translate as t
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.conftest import drain
from tests.connectors.sapb1.test_connector import connect
from tests.connectors.sapb1.test_sandbox import customer, login
from tests.platforms import POOL, PlatformHarness, sandbox_for

D = Decimal
BANK, REVENUE, FREIGHT, CHARGES = "_SYS00000000006", "_SYS00000000001", "_SYS00000000010", "_SYS00000000011"


def post(http, sb, path, body):
    answer = http.post(f"{sb.api_base}/{path}", data=json.dumps(body, default=str), timeout=3)
    return answer.status_code, (answer.json(parse_float=Decimal) if answer.content else None)


def get(http, sb, path):
    return http.get(f"{sb.api_base}/{path}", timeout=3).json(parse_float=Decimal)


def credit_note(http, sb, total="100.00"):
    status, body = post(http, sb, "CreditNotes", {"CardCode": "C001", "DocDate": "2026-12-01", "NumAtCard": "CN-1",
                                                  "DocumentLines": [{"AccountCode": REVENUE, "Quantity": 1,
                                                                     "UnitPrice": total, "VatGroup": "S0"}]})
    assert status == 201, body
    return body


def refund(http, sb, note, amount, **extra):
    return post(http, sb, "VendorPayments", {
        "DocType": "rCustomer", "CardCode": "C001", "DocDate": "2026-12-03", "TransferAccount": BANK,
        "TransferSum": amount, "CounterReference": "RF-1",
        "PaymentInvoices": [{"DocEntry": note["DocEntry"], "SumApplied": amount, "InvoiceType": "it_CredItnote"}],
        **extra})


def test_an_outgoing_payment_to_the_customer_lowers_the_credit_and_cancelling_it_gives_it_back(slsandbox):
    http, _ = login(slsandbox)
    customer(http, slsandbox)
    note = credit_note(http, slsandbox)
    status, made = refund(http, slsandbox, note, "40.00")
    assert status == 201 and made["TransferSum"] == D("40.00") and made["DocType"] == "rCustomer"
    assert get(http, slsandbox, f"CreditNotes({note['DocEntry']})")["PaidToDate"] == D("40.00")
    listed = get(http, slsandbox, "VendorPayments?$filter=CounterReference eq 'RF-1' and Cancelled eq 'tNO'")
    assert [r["DocEntry"] for r in listed["value"]] == [made["DocEntry"]]
    changed = http.patch(f"{slsandbox.api_base}/VendorPayments({made['DocEntry']})", json={"TransferSum": 30},
                         timeout=3)
    assert changed.status_code == 400 and changed.json()["error"]["code"] == -5006  # amounts never change
    held = http.post(f"{slsandbox.api_base}/CreditNotes({note['DocEntry']})/Cancel", timeout=3)
    assert held.status_code == 400 and "outgoing payment" in held.json()["error"]["message"]["value"]
    assert http.post(f"{slsandbox.api_base}/VendorPayments({made['DocEntry']})/Cancel", timeout=3).status_code == 204
    assert get(http, slsandbox, f"CreditNotes({note['DocEntry']})")["PaidToDate"] == D("0.00")
    again = http.post(f"{slsandbox.api_base}/VendorPayments({made['DocEntry']})/Cancel", timeout=3)
    assert again.status_code == 400 and again.json()["error"]["message"]["value"] == "Document is already cancelled"


def test_an_outgoing_payment_is_refused_beyond_the_credit_or_against_an_invoice(slsandbox):
    http, _ = login(slsandbox)
    customer(http, slsandbox)
    note = credit_note(http, slsandbox)
    status, body = refund(http, slsandbox, note, "100.01")
    assert status == 400 and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]["lang"] == "en-us" and "open amount" in body["error"]["message"]["value"]
    wrong = {"DocEntry": note["DocEntry"], "SumApplied": "10.00", "InvoiceType": "it_Invoice"}
    status, body = refund(http, slsandbox, note, "10.00", PaymentInvoices=[wrong])
    assert status == 400 and "it_CredItnote" in body["error"]["message"]["value"]
    status, body = refund(http, slsandbox, note, "10.00", TransferAccount="_SYS99999999999")
    assert status == 400 and "TransferAccount" in body["error"]["message"]["value"]


def test_an_outgoing_payment_on_account_adds_each_rows_tax_and_must_equal_its_rows(slsandbox):
    http, _ = login(slsandbox)
    body = {"DocType": "rAccount", "DocDate": "2026-12-03", "DocCurrency": "EUR", "DocRate": "1.08",
            "TransferAccount": BANK, "TransferSum": "55.00", "CounterReference": "EXP-1",
            "PaymentAccounts": [{"AccountCode": FREIGHT, "SumPaidFC": "50.00", "VatGroup": "S1",
                                 "Decription": "Parcel Co: return shipping"}]}
    status, made = post(http, slsandbox, "VendorPayments", body)
    assert status == 201, made
    row = made["PaymentAccounts"][0]
    assert (row["VatAmount"], row["GrossAmount"], row["SumPaid"]) == (D("5.00"), D("55.00"), D("54.00"))
    assert t.result("expense", made).home_total == D("59.40")
    status, short = post(http, slsandbox, "VendorPayments", {**body, "TransferSum": "50.00"})
    assert status == 400 and "differ from the total" in short["error"]["message"]["value"]
    status, rateless = post(http, slsandbox, "VendorPayments", {**body, "DocRate": None})
    assert status == 400 and "exchange rate" in rateless["error"]["message"]["value"]
    status, local = post(http, slsandbox, "VendorPayments", {**body, "DocCurrency": "USD", "DocRate": None})
    assert status == 400 and "SumPaid" in local["error"]["message"]["value"]  # the local amount goes in SumPaid


def test_a_journal_entry_must_balance_and_is_cancelled_by_its_reversing_entry(slsandbox):
    http, _ = login(slsandbox)
    lines = [{"AccountCode": CHARGES, "Debit": "100.00", "Credit": "0"},
             {"AccountCode": BANK, "Debit": "0", "Credit": "90.00"}]
    status, out = post(http, slsandbox, "JournalEntries", {"ReferenceDate": "2026-12-03", "Reference": "JE-7",
                                                           "Memo": "Bank fees", "JournalEntryLines": lines})
    assert status == 400 and "Unbalanced" in out["error"]["message"]["value"]
    lines[1]["Credit"] = "100.00"
    status, made = post(http, slsandbox, "JournalEntries", {"ReferenceDate": "2026-12-03", "Reference": "JE-7",
                                                            "Memo": "Bank fees", "JournalEntryLines": lines})
    assert status == 201 and t.result("journal", made).total == D("100.00")
    number = made["JdtNum"]
    assert http.post(f"{slsandbox.api_base}/JournalEntries({number})/Cancel", timeout=3).status_code == 204
    reversal = get(http, slsandbox, f"JournalEntries?$filter=StornoToTransaction eq {number}")["value"]
    assert [(line["Debit"], line["Credit"]) for line in reversal[0]["JournalEntryLines"]] == [
        (D("0.00"), D("100.00")), (D("100.00"), D("0.00"))]
    again = http.post(f"{slsandbox.api_base}/JournalEntries({number})/Cancel", timeout=3)
    assert again.status_code == 400 and again.json()["error"]["message"]["value"] == "Transaction already reversed"
    long_memo = post(http, slsandbox, "JournalEntries", {"Memo": "x" * 51, "JournalEntryLines": lines})
    assert long_memo[0] == 400


def test_bodies_keep_the_restocking_fee_on_the_credit_note_and_name_sap_fields():
    day = dt.date(2026, 12, 3)
    note = CreditNoteSnapshot(key="n", organization_id=1, number="CN-1", customer_key="c", issue_date=day, lines=(
        LineSnapshot("product", "Goods", D("1"), D("120.00"), D("120.00"), D("0.00")),
        LineSnapshot("restocking_fee", "Restocking fee", D("1"), D("12.00"), D("12.00"), D("0.00"))))
    body = t.document(note, Mapping(line_accounts=("sales", "fees"), refs={"c": "C1"}))
    assert [line["UnitPrice"] for line in body["DocumentLines"]] == [D("120.00"), D("-12.00")]  # a credit of 108

    paid = RefundSnapshot(key="r", organization_id=1, number="RF-1", customer_key="c", credit_note_key="n",
                          date=day, amount=D("108.00"), method="card")
    body = c.refund_body(paid, Mapping(deposit_account="bank", refs={"c": "C1", "n": "7"}))
    assert (body["DocType"], body["CardCode"], body["TransferAccount"], body["TransferSum"]) == (
        "rCustomer", "C1", "bank", D("108.00"))
    assert body["PaymentInvoices"] == [{"DocEntry": 7, "SumApplied": D("108.00"), "InvoiceType": "it_CredItnote"}]
    cash = c.refund_body(RefundSnapshot(**{**paid.__dict__, "method": "cash"}), Mapping(deposit_account="till",
                                                                                        refs={"c": "C1", "n": "7"}))
    assert (cash["CashAccount"], cash["CashSum"]) == ("till", D("108.00")) and "TransferSum" not in cash

    expense = ExpenseSnapshot(key="e", organization_id=1, number="EXP-1", payee="Parcel Co", date=day,
                              currency="EUR", exchange_rate=D("1.08"), total=D("55.00"), lines=(
                                  ExpenseLineSnapshot("return_shipping", "", D("50.00"), D("5.00"),
                                                      tax_rate_key="gst"),))
    body = c.expense_body(expense, Mapping(line_accounts=("freight",), tax_codes={"gst": "S1"},
                                           deposit_account="bank"), "USD")
    assert body["PaymentAccounts"] == [{"AccountCode": "freight", "SumPaidFC": D("50.00"), "VatGroup": "S1",
                                        "Decription": "Parcel Co: return shipping"}]
    assert (body["DocType"], body["DocCurrency"], body["DocRate"], body["TransferSum"]) == (
        "rAccount", "EUR", D("1.08"), D("55.00"))

    entry = JournalSnapshot(key="j", organization_id=1, number="JE-7", date=day, lines=(
        JournalLineSnapshot("6100", "Fees", debit=D("100.00")), JournalLineSnapshot("1010", "", credit=D("100.00"))))
    body = c.journal_body(entry, Mapping(line_accounts=("fees", "bank")))
    assert body["JournalEntryLines"][1] == {"AccountCode": "bank", "Debit": D("0.00"), "Credit": D("100.00"),
                                            "LineMemo": "Account 1010"}
    assert c.journal_problems(JournalSnapshot(**{**entry.__dict__, "currency": "EUR"}), "USD")


def test_a_refund_of_an_overpayment_is_refused_before_sending():
    doc = RefundSnapshot(key="r", organization_id=1, number="RF-1", customer_key="c", payment_key="p")
    assert c.refund_problems(doc) and "by hand" in c.refund_problems(doc)[0]


@pytest.mark.django_db
def test_a_journal_in_a_foreign_currency_stops_before_sending(request, org):
    """Journal entry rows carry local amounts: a journal in euros stops in preflight, nothing is sent."""
    harness = PlatformHarness("sapb1", sandbox_for(request, "sapb1"), POOL)
    harness.reset()
    conn = harness.connect(org)
    for code, remote in (("6100", CHARGES), ("1010", BANK)):
        f.MappingFactory(connection=conn, kind=MappingKind.JOURNAL_ACCOUNT, scope=Scope.ACCOUNT_CODE, local_value=code,
                         remote_id=remote)
    with transaction.atomic():
        entry = f.JournalEntryFactory(organization=org, currency="EUR", exchange_rate=D("1.08"))
        f.JournalLineFactory(entry=entry, position=0, account_code="6100", debit=D("5.00"), credit=D("0"))
        f.JournalLineFactory(entry=entry, position=1, account_code="1010", debit=D("0"), credit=D("5.00"))
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"{entry._meta.label_lower}:{entry.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "local currency (USD) only" in stopped.last_error
    assert not ExternalReference.objects.filter(connection=conn, source_key=stopped.source_key).exists()
    assert harness.sandbox.store.rows("JournalEntries") == []


def test_what_a_user_cancels_is_polled_as_voids_of_ours_one_request_per_entity_set(slsandbox):
    http, _ = login(slsandbox)
    customer(http, slsandbox)
    note = credit_note(http, slsandbox)
    made = {"refund": str(refund(http, slsandbox, note, "40.00")[1]["DocEntry"])}
    status, spent = post(http, slsandbox, "VendorPayments", {
        "DocType": "rAccount", "DocDate": "2026-12-03", "TransferAccount": BANK, "TransferSum": "20.00",
        "CounterReference": "EXP-1", "PaymentAccounts": [{"AccountCode": FREIGHT, "SumPaid": "20.00",
                                                          "VatGroup": "S0"}]})
    assert status == 201, spent
    made["expense"] = str(spent["DocEntry"])
    lines = [{"AccountCode": CHARGES, "Debit": "7.50", "Credit": "0"}, {"AccountCode": BANK, "Debit": "0",
                                                                         "Credit": "7.50"}]
    status, entry = post(http, slsandbox, "JournalEntries", {"ReferenceDate": "2026-12-03", "Reference": "JE-8",
                                                             "JournalEntryLines": lines})
    assert status == 201, entry
    made["journal"] = str(entry["JdtNum"])
    slsandbox.clock.advance(2)  # stamped to the second: the cancellations come after what was added
    since = dt.datetime.fromtimestamp(slsandbox.clock(), dt.UTC).replace(microsecond=0)
    conn = connect(slsandbox)
    assert conn.changes_since(["expense"], since)[0] == []
    for entity, (action, keyword) in slsandbox.user_takes_back.items():
        slsandbox.act_as_user(action, **{keyword: made[entity]})
    before = len(conn.exchanges())
    changes, _ = conn.changes_since(list(made), since)
    assert sorted((c.entity, c.remote_id, c.operation) for c in changes) == \
        sorted((entity, remote_id, "void") for entity, remote_id in made.items())
    asked = [e["path"].split("?")[0] for e in conn.exchanges()[before:] if e["method"] == "GET"]
    assert sorted(asked) == ["/JournalEntries", "/VendorPayments"]
    assert len(slsandbox.store.rows("JournalEntries")) == 2  # the reversing entry is reported as the one it cancels

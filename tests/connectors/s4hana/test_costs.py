"""Refunds, expenses and journals on the S/4HANA sandbox as journal entries (issue 23): a G/L account document (SA)
takes G/L accounts only; a customer document (DA) debiting the customer may name a credit memo, never for more than
its open credit; plain zeep posts them through the served WSDL and pyodata reads them back item by item. Then the
connector: a refund lowers the credit memo's balance, an expense carries the tax of its mapped code, a journal its
lines; each voided by a counter-posting, and a credit memo a live refund names is not counter-posted. What a person
reverses comes back by polling as a void of ours, one item request per document type, the reversal documents left
out."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest
import requests

from connectors.documents import (Entity, ExpenseLineSnapshot, ExpenseSnapshot, JournalLineSnapshot, JournalSnapshot,
                                  Mapping, RefundSnapshot, RemoteRef)
from connectors.errors import ConfigurationError, ValidationFailed
from tests.connectors.contract import credit_note, customer
from tests.connectors.s4hana.test_independent_client import service, soap_client
from tests.platforms import PlatformHarness

D = Decimal
BANK, EXPENSES, REVENUE = "11001000", "61000000", "41000000"


@pytest.fixture
def harness(s4sandbox):
    return PlatformHarness("s4hana", s4sandbox, None)


@pytest.fixture
def connector(harness, s4sandbox):
    return harness.connector(lambda force: s4sandbox.issue_tokens()["access_token"])


@pytest.fixture
def session(s4sandbox):
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {s4sandbox.issue_tokens()['access_token']}"
    return http


def a_credit_note(connector, amount="100.00"):
    cust_doc = customer()
    cust = connector.create(cust_doc, Mapping(), "c")
    doc = credit_note(cust_doc.key, f"CN{uuid.uuid4().hex[:6]}", (amount,))
    refs = {cust_doc.key: cust.remote_id}
    made = connector.create(doc, Mapping(line_accounts=(REVENUE,), refs=refs), "n")
    return cust_doc.key, cust.remote_id, made, {**refs, doc.key: made.remote_id}, doc.key


def usd(value):
    return {"_value_1": D(value), "currencyCode": "USD"}


def post(client, entry):
    now = dt.datetime.now(dt.UTC)
    answer = client.service.JournalEntryCreateRequestConfirmation_In(
        MessageHeader={"ID": "Z", "CreationDateTime": now},
        JournalEntryCreateRequest=[{"MessageHeader": {"ID": "Z-1", "CreationDateTime": now}, "JournalEntry": entry}])
    return answer.JournalEntryCreateConfirmation[0]


def entry(doc_type, items=None, debtors=None, reference="ZEEP-C"):
    return {"OriginalReferenceDocumentType": "BKPFF", "BusinessTransactionType": "RFBU",
            "AccountingDocumentType": doc_type, "DocumentReferenceID": reference, "CreatedByUser": "ZEEP",
            "CompanyCode": "1710",
            "DocumentDate": dt.date.today(), "PostingDate": dt.date.today(), "Item": items or None,
            "DebtorItem": debtors or None}


def test_a_gl_document_takes_gl_accounts_only_and_must_balance(s4sandbox, session):
    client = soap_client(s4sandbox, session)
    made = post(client, entry("SA", [
        {"GLAccount": EXPENSES, "AmountInTransactionCurrency": usd("7.50"), "DebitCreditCode": "S"},
        {"GLAccount": BANK, "AmountInTransactionCurrency": usd("-7.50"), "DebitCreditCode": "H"}]))
    assert made.Log.MaximumLogItemSeverityCode == "1"
    document = made.JournalEntryCreateConfirmation.AccountingDocument
    rows = service(s4sandbox, session, "API_JOURNALENTRYITEMBASIC_SRV").entity_sets.A_JournalEntryItemBasic \
        .get_entities().filter(f"AccountingDocument eq '{document}'").execute()
    assert {r.AccountingDocumentType for r in rows} == {"SA"} and not any(r.Customer for r in rows)
    unbalanced = post(client, entry("SA", [
        {"GLAccount": EXPENSES, "AmountInTransactionCurrency": usd("7.50"), "DebitCreditCode": "S"},
        {"GLAccount": BANK, "AmountInTransactionCurrency": usd("-7.00"), "DebitCreditCode": "H"}]))
    assert unbalanced.Log.MaximumLogItemSeverityCode == "3" and unbalanced.Log.Item[0].TypeID == "702(F5)"


def test_a_customer_document_may_take_no_more_than_a_credit_memos_open_credit(s4sandbox, session, connector):
    _, cust, note, _, _ = a_credit_note(connector, "100.00")
    document, year = note.remote_id.split("-")
    client = soap_client(s4sandbox, session)

    def refund(value):
        return post(client, entry("DA", [{"GLAccount": BANK, "AmountInTransactionCurrency": usd(f"-{value}"),
                                              "DebitCreditCode": "H"}],
                                  [{"Debtor": cust, "AmountInTransactionCurrency": usd(value), "DebitCreditCode": "S",
                                    "InvoiceReference": document, "InvoiceReferenceFiscalYear": year}]))

    assert refund("100.01").Log.Item[0].TypeID == "263(F5)"  # more than the credit
    assert refund("60.00").Log.MaximumLogItemSeverityCode == "1"
    assert refund("40.01").Log.Item[0].TypeID == "263(F5)"  # 40.00 is left
    on_account = post(client, entry("SA", [{"GLAccount": BANK, "AmountInTransactionCurrency": usd("-10.00"),
                                            "DebitCreditCode": "H"}],
                                    [{"Debtor": cust, "AmountInTransactionCurrency": usd("10.00"),
                                      "DebitCreditCode": "S"}]))
    assert on_account.Log.Item[0].TypeID == "193(F5)"  # a customer on a G/L account document


def test_the_connector_refunds_a_credit_note_and_gives_it_back_when_voided(connector):
    cust_key, _, note, refs, note_key = a_credit_note(connector, "100.00")
    doc = RefundSnapshot(key=f"test.refund:{uuid.uuid4().hex[:6]}", organization_id=1, number="RF-7",
                         customer_key=cust_key, amount=D("40.00"), credit_note_key=note_key)
    mapping = Mapping(deposit_account=BANK, refs=refs)
    made = connector.create(doc, mapping, "r")
    assert (made.total, made.number, made.status) == (D("40.00"), "RF-7", "active")
    assert made.raw["AccountingDocumentType"] == "DA"
    assert connector.fetch(Entity.CREDIT_NOTE, note.remote_id).balance == D("60.00")
    with pytest.raises(ValidationFailed, match="named by live refunds"):
        connector.void(Entity.CREDIT_NOTE, RemoteRef(note.remote_id, note.version), "v")
    voided = connector.void(Entity.REFUND, RemoteRef(made.remote_id, made.version), "v")
    assert voided.status == "voided"
    assert connector.fetch(Entity.CREDIT_NOTE, note.remote_id).balance == D("100.00")
    assert connector.preflight(RefundSnapshot(key="k", organization_id=1, payment_key="p"), mapping)
    with pytest.raises(ConfigurationError, match="refunds of credit notes only"):
        connector.create(RefundSnapshot(key="k", organization_id=1, number="RF-8", payment_key="p"), mapping, "r")


def test_the_connector_posts_an_expense_with_its_tax_and_a_journal_and_counter_posts_them(connector):
    line = ExpenseLineSnapshot(cost_kind="postage", description="Courier", net_amount=D("50.00"),
                               tax_amount=D("5.00"), tax_rate_key="gst")
    expense = ExpenseSnapshot(key=f"test.expense:{uuid.uuid4().hex[:6]}", organization_id=1, number="EX-9",
                              payee="Parcel Express", lines=(line,))
    made = connector.create(expense, Mapping(line_accounts=(EXPENSES,), deposit_account=BANK,
                                             tax_codes={"gst": "O1"}), "e")
    assert (made.total, made.number, made.raw["AccountingDocumentType"]) == (D("55.00"), "EX-9", "SA")
    items = sorted((i["GLAccount"], i["DebitCreditCode"], i["AmountInTransactionCurrency"])
                   for i in made.raw["to_Item"]["results"])
    assert items == [(BANK, "H", "55.00"), ("22000000", "S", "5.00"), (EXPENSES, "S", "50.00")]
    assert connector.void(Entity.EXPENSE, RemoteRef(made.remote_id, made.version), "v").status == "voided"

    journal = JournalSnapshot(key=f"test.journal:{uuid.uuid4().hex[:6]}", organization_id=1, number="JE-9", lines=(
        JournalLineSnapshot("6100", "cost", debit=D("7.50")), JournalLineSnapshot("1010", "", credit=D("7.50"))))
    posted = connector.create(journal, Mapping(line_accounts=(EXPENSES, BANK)), "j")
    assert (posted.total, posted.number) == (D("7.50"), "JE-9")
    with pytest.raises(ConfigurationError, match="journal line 2"):
        connector.create(journal, Mapping(line_accounts=(EXPENSES,)), "j2")
    read = connector.read_documents(Entity.JOURNAL, [posted.remote_id])[0]
    assert (read.total, read.status) == (D("7.50"), "open")
    connector.void(Entity.JOURNAL, RemoteRef(posted.remote_id, posted.version), "v")
    assert connector.read_documents(Entity.JOURNAL, [posted.remote_id])[0].status == "voided"


def test_what_a_person_reverses_is_polled_as_voids_of_ours_one_request_per_document_type(connector, s4sandbox):
    cust_key, _, note, refs, note_key = a_credit_note(connector, "100.00")
    made = {Entity.REFUND: connector.create(RefundSnapshot(
        key=f"test.refund:{uuid.uuid4().hex[:6]}", organization_id=1, number="RF-P", customer_key=cust_key,
        amount=D("40.00"), credit_note_key=note_key), Mapping(deposit_account=BANK, refs=refs), "r")}
    made[Entity.EXPENSE] = connector.create(ExpenseSnapshot(
        key=f"test.expense:{uuid.uuid4().hex[:6]}", organization_id=1, number="EX-P", payee="Parcel Express",
        lines=(ExpenseLineSnapshot(cost_kind="postage", description="Courier", net_amount=D("20.00"),
                                   tax_amount=D("0.00")),)),
        Mapping(line_accounts=(EXPENSES,), deposit_account=BANK), "e")
    made[Entity.JOURNAL] = connector.create(JournalSnapshot(
        key=f"test.journal:{uuid.uuid4().hex[:6]}", organization_id=1, number="JE-P", lines=(
            JournalLineSnapshot("6100", "cost", debit=D("7.50")), JournalLineSnapshot("1010", "", credit=D("7.50")))),
        Mapping(line_accounts=(EXPENSES, BANK)), "j")
    s4sandbox.clock.advance(2)  # compared to the second: the reversals come after what we posted
    since = s4sandbox.now().replace(microsecond=0)
    for entity, (action, keyword) in s4sandbox.user_takes_back.items():
        s4sandbox.act_as_user(action, **{keyword: made[entity].remote_id})
    before = len(connector.exchanges())
    changes, _ = connector.changes_since(list(made), since)
    # an expense and a journal are both SA entries: each reversed one is reported as either (ours has a reference)
    sa = {made[Entity.EXPENSE].remote_id, made[Entity.JOURNAL].remote_id}
    assert sorted((c.entity, c.remote_id, c.operation) for c in changes) == sorted(
        [(Entity.REFUND, made[Entity.REFUND].remote_id, "void")] +
        [(entity, remote_id, "void") for entity in (Entity.EXPENSE, Entity.JOURNAL) for remote_id in sa])
    reversals = [r.data["AccountingDocument"] for r in s4sandbox.store.rows("A_JournalEntry") if r.data["IsReversal"]]
    assert len(reversals) == 3 and not {c.remote_id.split("-")[0] for c in changes} & set(reversals)
    asked = [e for e in connector.exchanges()[before:] if e["method"] == "GET"]
    assert len(asked) == 2  # DA and SA

"""What the Business Central connector does beyond the shared contract: Entra ID grants and the company choice,
posting drafts when asked, one payment journal per deposit account, and the refusals Business Central's document
model forces (one invoice per payment or credit memo; a posted credit memo applies all of its amount)."""
import datetime as dt
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.base import ConnectionConfig
from connectors.businesscentral.connector import BusinessCentralConnector
from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, LineSnapshot,
                                  Mapping, PaymentSnapshot, RemoteRef)
from connectors.errors import ConfigurationError, ValidationFailed

D = Decimal


def connector(sb, token=None, **settings):
    token = token or sb.issue_tokens()["access_token"]
    config = ConnectionConfig("businesscentral", "test", sb.company_id,
                              {**BusinessCentralConnector.sandbox_settings(sb.base_url), "timeout": 3, **settings},
                              "sandbox-client", "sandbox-secret")
    return BusinessCentralConnector(config, lambda force=False: token)


@pytest.fixture
def bc(bcsandbox):
    return connector(bcsandbox)


def accounts(conn):
    return {name: pk for pk, name in conn.reference_data().accounts.items()}


def sent_customer(conn):
    doc = CustomerSnapshot(key=f"c:{uuid.uuid4().hex[:6]}", organization_id=1, name=f"Cust {uuid.uuid4().hex[:6]}")
    return doc, conn.create(doc, Mapping(), "k").remote_id


def lines(*prices):
    return tuple(LineSnapshot(kind="service", description=f"L{i}", quantity=D("1"), unit_price=D(p),
                              net_amount=D(p), tax_amount=D("0.00")) for i, p in enumerate(prices))


def sent_invoice(conn, number="INV-1", price="100.00"):
    cust, cust_id = sent_customer(conn)
    doc = InvoiceSnapshot(key=f"i:{number}", organization_id=1, number=number, customer_key=cust.key,
                          issue_date=dt.date.today(), lines=lines(price), total=D(price))
    ids = accounts(conn)
    mapping = Mapping(line_accounts=(ids["Sales, Services"],), deposit_account=ids["Undeposited Receipts"],
                      refs={cust.key: cust_id})
    return doc, mapping, conn.create(doc, mapping, "k")


def test_consent_then_code_exchange_picks_the_only_company(bcsandbox):
    conn = connector(bcsandbox)
    url = conn.authorization_url("https://host.example/cb", "st")
    assert "offline_access" in parse_qs(urlsplit(url).query)["scope"][0]
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    tokens = conn.exchange_code(params["code"], "https://host.example/cb", params)
    assert tokens.remote_company_id == bcsandbox.company_id and tokens.refresh_token
    assert conn.refresh(tokens.refresh_token).access_token


def test_client_credentials_connection_needs_no_refresh_token(bcsandbox):
    conn = connector(bcsandbox, grant="client_credentials")
    url = conn.authorization_url("https://host.example/cb", "st")
    assert parse_qs(urlsplit(url).query)["scope"] == ["https://api.businesscentral.dynamics.com/.default"]
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    before = bcsandbox.token_calls
    tokens = conn.exchange_code(params["code"], "https://host.example/cb", params)  # the code is not exchanged
    assert tokens.remote_company_id == bcsandbox.company_id and tokens.refresh_token == "client_credentials"
    again = conn.refresh(tokens.refresh_token)
    assert again.access_token != tokens.access_token and bcsandbox.token_calls == before + 2
    assert connector(bcsandbox, again.access_token).reference_data().home_currency == "USD"
    with pytest.raises(ConfigurationError):
        conn.exchange_code("", "https://host.example/cb", {"error": "access_denied"})


def test_post_documents_posts_the_draft_and_then_it_cannot_be_edited(bcsandbox):
    conn = connector(bcsandbox, post_documents=True)
    doc, mapping, made = sent_invoice(conn)
    raw = made.raw
    assert raw["status"] == "Open" and raw["number"].startswith("PS-INV") and made.balance == D("100.00")
    changed = InvoiceSnapshot(key=doc.key, organization_id=1, number=doc.number, customer_key=doc.customer_key,
                              issue_date=doc.issue_date, lines=lines("120.00"), total=D("120.00"))
    with pytest.raises(ValidationFailed) as info:
        conn.update(changed, mapping, RemoteRef(made.remote_id, made.version), "k")
    assert info.value.platform_code == "Application_DialogException"
    voided = conn.void("invoice", RemoteRef(made.remote_id, made.version), "k")
    assert voided.status == "voided" and voided.total == D("0.00")


def test_a_partial_credit_is_refused_when_documents_are_posted(bcsandbox):
    conn = connector(bcsandbox, post_documents=True)
    doc, mapping, made = sent_invoice(conn)
    note = CreditNoteSnapshot(key="n", organization_id=1, number="CN-1", customer_key=doc.customer_key,
                              issue_date=dt.date.today(), lines=lines("30.00"), total=D("30.00"),
                              allocations=(Allocation(doc.key, D("10.00")),))
    refs = Mapping(line_accounts=mapping.line_accounts, refs={**mapping.refs, doc.key: made.remote_id})
    assert conn.preflight(note, refs) and "posted" in conn.preflight(note, refs)[0]
    with pytest.raises(ValidationFailed):
        conn.create(note, refs, "k")
    whole = CreditNoteSnapshot(**{**note.__dict__, "allocations": (Allocation(doc.key, D("30.00")),)})
    assert conn.create(whole, refs, "k").balance == D("0.00")
    assert conn.fetch("invoice", made.remote_id).balance == D("70.00")  # applied by posting, in Business Central


def test_payments_go_to_one_journal_per_deposit_account(bc, bcsandbox):
    doc, mapping, made = sent_invoice(bc)
    refs = {**mapping.refs, doc.key: made.remote_id}
    for n, deposit in enumerate(("Undeposited Receipts", "Undeposited Receipts", "Savings account")):
        pay = PaymentSnapshot(key=f"p{n}", organization_id=1, number=f"PAY-{n}", customer_key=doc.customer_key,
                              date=dt.date.today(), amount=D("10.00"), allocations=(Allocation(doc.key, D("10")),))
        bc.create(pay, Mapping(deposit_account=accounts(bc)[deposit], refs=refs), "k")
    journals = {r.data["code"]: r.data["balancingAccountNumber"] for r in bcsandbox.store.rows(
        "customerPaymentJournals")}
    assert journals == {"GENERAL": "10100", "SYNC10400": "10400", "SYNC10200": "10200"}
    assert bc.fetch("invoice", made.remote_id).balance == D("70.00")  # journal lines count until posted


def test_a_payment_applied_to_two_invoices_is_refused_before_anything_is_sent(bc, bcsandbox):
    pay = PaymentSnapshot(key="p", organization_id=1, number="PAY-9", customer_key="c", date=dt.date.today(),
                          amount=D("20"), allocations=(Allocation("a", D("10")), Allocation("b", D("10"))))
    calls = bcsandbox.api_calls
    with pytest.raises(ValidationFailed) as info:
        bc.create(pay, Mapping(deposit_account="x", refs={"c": "1", "a": "2", "b": "3"}), "k")
    assert info.value.platform_code == "one_invoice" and bcsandbox.api_calls == calls


def test_a_taken_number_is_refused_and_our_second_draft_removed(bc, bcsandbox):
    doc, mapping, made = sent_invoice(bc, number="INV-DUP")
    with pytest.raises(Exception) as info:
        bc.create(doc, mapping, "k")
    assert type(info.value).__name__ == "DuplicateError"
    assert [r.id for r in bcsandbox.store.rows("salesInvoices")] == [made.remote_id]

"""The S/4HANA connector's own behaviour against its sandbox: the CSRF token fetched again when it expired, the
communication user's Basic authentication, If-Match on a header change, replacement of a posted entry (and its
refusal while a payment references the invoice), a duplicate reference reversed, credit applied in part."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from connectors.documents import Allocation, Entity, Mapping, RemoteRef
from connectors.errors import (AuthError, ConfigurationError, ConflictError, DuplicateError, PostingRefused,
                               ValidationFailed)
from connectors.s4hana import connector as s4
from connectors.s4hana.client import POST_PATH
from connectors.s4hana.sandbox import seed
from tests.connectors.contract import credit_note, customer, invoice, payment
from tests.platforms import CLIENT, PlatformHarness


@pytest.fixture
def harness(s4sandbox):
    return PlatformHarness("s4hana", s4sandbox, None)


@pytest.fixture
def connector(harness, s4sandbox):
    return harness.connector(lambda force: s4sandbox.issue_tokens()["access_token"])


def chart(harness, connector) -> dict:
    return harness.account_ids(connector.reference_data())


def an_invoice(harness, connector, prices=("100.00",), number=None):
    cust_doc = customer()
    cust = connector.create(cust_doc, Mapping(), "c")
    doc = invoice(cust_doc.key, number or f"T{uuid.uuid4().hex[:8]}", prices)
    accounts = chart(harness, connector)
    mapping = Mapping(line_accounts=(accounts[harness.chart.default_income],) * len(prices),
                      deposit_account=accounts[harness.chart.deposit], refs={cust_doc.key: cust.remote_id})
    return doc, mapping, connector.create(doc, mapping, "i")


def test_the_sandbox_company_code_is_the_seeds():
    assert s4.SANDBOX_COMPANY_CODE == seed.COMPANY_CODE


def test_an_expired_csrf_token_is_fetched_again_once(harness, connector, s4sandbox):
    an_invoice(harness, connector)
    fetches = connector.client.csrf_fetches
    s4sandbox.expire_csrf()
    before = len(connector.exchanges())
    connector.create(customer(), Mapping(), "c2")
    calls = [(c["method"], c["status"]) for c in connector.exchanges()[before:]]
    assert calls == [("POST", 403), ("GET", 200), ("POST", 201)]
    assert connector.client.csrf_fetches == fetches + 1


def test_the_communication_user_authenticates_with_basic(harness):
    assert harness.cls.default_settings["auth"] == "oauth2"
    tokens = harness.connector(lambda force: "", auth="basic").refresh("")
    assert CLIENT == (seed.CLIENT_ID, seed.CLIENT_SECRET) and tokens.refresh_token == "basic"
    basic = harness.connector(lambda force: tokens.access_token, auth="basic")
    assert basic.create(customer(), Mapping(), "c").status == "active"
    assert basic.client.auth_scheme == "Basic"
    wrong = harness.connector(lambda force: "d3Jvbmc6d3Jvbmc=", auth="basic")  # wrong:wrong
    with pytest.raises(AuthError):
        wrong.create(customer(), Mapping(), "c")


def test_connect_checks_the_credentials_and_the_company_code(harness):
    tokens = harness.connector(lambda force: "").exchange_code("connect", "https://host/cb", {})
    assert tokens.access_token and tokens.remote_company_id == seed.COMPANY_CODE
    with pytest.raises(ConfigurationError):
        harness.connector(lambda force: "", company_code="9999").exchange_code("connect", "https://host/cb", {})


def test_a_memo_alone_is_not_sent_and_an_entry_changed_there_is_a_conflict(harness, connector, s4sandbox):
    doc, mapping, made = an_invoice(harness, connector)
    changed = invoice(doc.customer_key, doc.number, ("100.00",))
    changed = type(changed)(**{**changed.__dict__, "memo": "Thanks"})
    before = len(connector.exchanges())
    updated = connector.update(changed, mapping, RemoteRef(made.remote_id, made.version), "u")
    assert updated.remote_id == made.remote_id and updated.version == made.version
    assert [c["method"] for c in connector.exchanges()[before:]] == ["GET"] * (len(connector.exchanges()) - before)
    s4sandbox.void_invoice_as_user(made.remote_id)  # a person reverses it in S/4HANA
    with pytest.raises(ConflictError):
        connector.update(changed, mapping, RemoteRef(made.remote_id, made.version), "u2")


def test_posting_goes_through_the_soap_service_and_reads_through_the_item_service(harness, connector):
    doc, mapping, made = an_invoice(harness, connector)
    urls = [(c["method"], c["path"]) for c in connector.exchanges()]
    posts = [u for m, u in urls if m == "POST" and "/sap/bc/srt/" in u]
    assert posts == [f"/{POST_PATH}"]
    assert not [u for _, u in urls if "API_JOURNALENTRY_SRV/" in u]
    assert made.number == doc.number and made.total == Decimal("100.00") and made.status == "active"


def test_a_void_is_a_counter_posting_that_names_the_original(harness, connector, s4sandbox):
    doc, mapping, made = an_invoice(harness, connector)
    voided = connector.void(Entity.INVOICE, RemoteRef(made.remote_id, made.version), "v")
    assert voided.status == "voided" and voided.balance == Decimal("0.00")
    counter = [r for r in s4sandbox.store.rows("A_JournalEntry") if r.id != made.remote_id]
    document, year = made.remote_id.split("-")
    assert [(r.data["DocumentHeaderText"], r.data["DocumentReferenceID"], r.data["AccountingDocumentType"])
            for r in counter] == [(f"Reversal {document}/{year}", doc.number, "DR")]
    assert not s4sandbox.store.get("A_JournalEntry", made.remote_id).data["IsReversed"]  # S/4HANA does not know


def test_a_reversal_by_a_person_reads_as_void(harness, connector, s4sandbox):
    _, _, made = an_invoice(harness, connector)
    s4sandbox.void_invoice_as_user(made.remote_id)
    assert connector.fetch(Entity.INVOICE, made.remote_id).status == "voided"


def test_tax_codes_and_currencies_come_from_the_settings(harness, connector):
    assert [(c, r) for c, r, _ in s4.tax_codes(s4.SANDBOX_TAX_CODES)] == \
        [(code, Decimal(rate)) for code, _, rate in seed.TAX_CODES]
    assert {c.strip() for c in s4.SANDBOX_CURRENCIES.split(",")} | {seed.HOME_CURRENCY} == \
        {code for code, _ in seed.CURRENCIES}
    with pytest.raises(ConfigurationError):
        s4.tax_codes("O1:ten")


def test_changed_amounts_replace_the_entry_unless_a_payment_references_it(harness, connector):
    doc, mapping, made = an_invoice(harness, connector)
    replaced = connector.update(invoice(doc.customer_key, doc.number, ("120.00",)), mapping,
                                RemoteRef(made.remote_id, made.version), "u")
    assert replaced.remote_id != made.remote_id and replaced.total == Decimal("120.00")
    assert connector.fetch(Entity.INVOICE, made.remote_id).status == "voided"
    pay = payment(doc.customer_key, f"P{uuid.uuid4().hex[:6]}", doc.key, "50.00")
    connector.create(pay, Mapping(deposit_account=mapping.deposit_account,
                                  refs={**mapping.refs, doc.key: replaced.remote_id}), "p")
    with pytest.raises(PostingRefused) as refused:
        connector.update(invoice(doc.customer_key, doc.number, ("130.00",)), mapping,
                         RemoteRef(replaced.remote_id, connector.fetch(Entity.INVOICE, replaced.remote_id).version),
                         "u2")
    assert "reference" in refused.value.hint and connector.fetch(Entity.INVOICE, replaced.remote_id).total == \
        Decimal("120.00")


def test_a_duplicate_reference_is_reversed_and_refused(harness, connector, s4sandbox):
    doc, mapping, made = an_invoice(harness, connector)
    with pytest.raises(DuplicateError):
        connector.create(doc, mapping, "again")
    year = made.remote_id.split("-")[1]
    entries = s4sandbox.store.rows("A_JournalEntry")
    assert [(e.id, e.data["DocumentHeaderText"]) for e in entries if e.data["DocumentReferenceID"] == doc.number] \
        == [(made.remote_id, None), (f"1800000002-{year}", None),
            (f"1800000003-{year}", f"Reversal 1800000002/{year}")]
    assert connector.fetch(Entity.INVOICE, f"1800000002-{year}").status == "voided"
    assert connector.fetch(Entity.INVOICE, made.remote_id).status == "active"


def test_a_credit_note_applied_in_part_keeps_the_rest(harness, connector):
    doc, mapping, made = an_invoice(harness, connector)
    note = credit_note(doc.customer_key, f"C{uuid.uuid4().hex[:6]}", ("30.00",),
                       applied=(Allocation(doc.key, Decimal("20.00")),))
    sent = connector.create(note, Mapping(line_accounts=mapping.line_accounts, refs={**mapping.refs,
                                                                                   doc.key: made.remote_id}), "n")
    assert sent.total == Decimal("30.00") and sent.balance == Decimal("10.00")
    assert connector.fetch(Entity.INVOICE, made.remote_id).balance == Decimal("80.00")


def test_tax_is_computed_from_the_mapped_codes_rate(harness, connector):
    cust_doc = customer()
    cust = connector.create(cust_doc, Mapping(), "c")
    doc = invoice(cust_doc.key, f"G{uuid.uuid4().hex[:6]}", ("100.00",))
    accounts = chart(harness, connector)
    line = type(doc.lines[0])(**{**doc.lines[0].__dict__, "tax_rate_key": "gst", "tax_amount": Decimal("10.00")})
    doc = type(doc)(**{**doc.__dict__, "lines": (line,), "total": Decimal("110.00")})
    mapping = Mapping(line_accounts=(accounts[harness.chart.default_income],), refs={cust_doc.key: cust.remote_id},
                      tax_codes={"gst": "O1"})
    made = connector.create(doc, mapping, "i")
    assert made.total == Decimal("110.00")
    assert sorted(i["GLAccount"] for i in made.raw["to_Item"]["results"] if i["IsAutomaticallyCreated"]) == \
        [seed.TAX_ACCOUNT]


def test_changes_since_reports_a_reversed_payment_as_deleted(harness, connector, s4sandbox):
    doc, mapping, made = an_invoice(harness, connector)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    paid = s4sandbox.record_payment_as_user(made.remote_id, Decimal("25.00"), reference="BANK-1")
    payment_id = f"{paid['AccountingDocument']}-{paid['FiscalYear']}"
    s4sandbox.delete_payment_as_user(payment_id)
    changes, _ = connector.changes_since([Entity.PAYMENT], since)
    assert [(c.remote_id, c.operation) for c in changes] == [(payment_id, "delete")]
    gone = connector.remote_payment(payment_id)
    assert gone.deleted and gone.reference == "BANK-1" and gone.allocations == ((made.remote_id,
                                                                                 Decimal("25.00")),)


def test_a_voided_payment_gives_the_invoice_its_balance_back_and_polls_as_deleted(harness, connector):
    doc, mapping, made = an_invoice(harness, connector)
    pay = payment(doc.customer_key, f"P{uuid.uuid4().hex[:6]}", doc.key, "40.00")
    sent = connector.create(pay, Mapping(deposit_account=mapping.deposit_account,
                                         refs={**mapping.refs, doc.key: made.remote_id}), "p")
    assert connector.fetch(Entity.INVOICE, made.remote_id).balance == Decimal("60.00")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    voided = connector.void(Entity.PAYMENT, RemoteRef(sent.remote_id, sent.version), "v")
    assert voided.status == "voided" and connector.remote_payment(sent.remote_id).deleted
    assert connector.fetch(Entity.INVOICE, made.remote_id).balance == Decimal("100.00")
    changes, _ = connector.changes_since([Entity.PAYMENT], since)
    assert [(c.remote_id, c.operation) for c in changes] == [(sent.remote_id, "delete")]


def test_a_posting_refused_in_the_log_is_a_validation_error_with_sap_s_message(harness, connector):
    doc, mapping, _ = an_invoice(harness, connector)
    wrong = Mapping(line_accounts=("99999999",), refs=mapping.refs)
    with pytest.raises(ValidationFailed) as refused:
        connector.create(invoice(doc.customer_key, f"W{uuid.uuid4().hex[:6]}", ("10.00",)), wrong, "w")
    assert refused.value.platform_code == "FH/202" and "99999999" in refused.value.message

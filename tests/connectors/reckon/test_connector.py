"""What the Reckon One connector does beyond the shared contract, against its sandbox: the book and currency it
settles on when connecting, the subscription key, Draft invoices approved after a create, a reference typed into
Reckon by hand, the emulated void, and the references a refusal names."""
import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.base import ConnectionConfig, RuleKind
from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, LineSnapshot,
                                  Mapping, PaymentSnapshot, RemoteRef)
from connectors.errors import AuthError, ConfigurationError, DuplicateError, ValidationFailed
from connectors.reckon.connector import ReckonConnector
from connectors.reckon.sandbox import BOOK_ID

CLIENT = ("sandbox-client", "sandbox-secret")


def connector(sb, token=None, **settings):
    token = token or sb.issue_tokens()["access_token"]
    config = ConnectionConfig("reckon", "test", BOOK_ID,
                              {**ReckonConnector.sandbox_settings(sb.base_url), "timeout": 3, **settings}, *CLIENT)
    return ReckonConnector(config, lambda force: token)


def line(net="100.00", tax="10.00"):
    return LineSnapshot(kind="service", description="Consult", quantity=Decimal("1"), unit_price=Decimal(net),
                        net_amount=Decimal(net), tax_amount=Decimal(tax), tax_rate_key="gst")


@pytest.fixture
def setup(rsandbox):
    """A connector, the sandbox's reference data by name, and a customer made through the connector."""
    rk = connector(rsandbox)
    ref = rk.reference_data()
    accounts = {name: pk for pk, name in ref.accounts.items()}
    taxes = {name: pk for pk, name in ref.tax_codes.items()}
    cust = rk.create(CustomerSnapshot(key="c", organization_id=1, name="Ada"), Mapping(), "k")
    mapping = Mapping(line_accounts=(accounts["Sales"],), tax_codes={"gst": taxes["GST"]},
                      deposit_account=accounts["Business Bank Account"], refs={"c": cust.remote_id})
    return rk, accounts, mapping


def invoice(number, net="100.00", tax="10.00"):
    return InvoiceSnapshot(key=f"i:{number}", organization_id=1, number=number, customer_key="c",
                           issue_date=dt.date.today(), lines=(line(net, tax),), total=Decimal(net) + Decimal(tax))


def test_connecting_settles_on_the_only_book_and_its_countrys_currency(rsandbox):
    unset = connector(rsandbox, currency="")
    location = requests.get(unset.authorization_url("https://host.example/cb", "s1"), allow_redirects=False,
                            timeout=5).headers["Location"]
    params = {k: v[-1] for k, v in parse_qs(urlsplit(location).query).items()}
    assert parse_qs(urlsplit(unset.authorization_url("https://h/cb", "s")).query)["scope"] == [
        "read write offline_access"]
    tokens = unset.exchange_code(params["code"], "https://host.example/cb", params)
    assert tokens.remote_company_id == BOOK_ID and tokens.refresh_token
    assert connector(rsandbox, tokens.access_token, currency="").reference_data().home_currency == "AUD"
    assert connector(rsandbox, tokens.access_token).reference_data().currencies == {"USD"}


def test_a_missing_subscription_key_names_the_setting(rsandbox):
    with pytest.raises(AuthError) as info:
        connector(rsandbox, subscription_key="").reference_data()
    assert info.value.platform_code == "subscription_key" and "subscription_key setting" in info.value.hint


def test_an_unknown_country_asks_for_the_currency_setting(rsandbox, monkeypatch):
    monkeypatch.setattr(rsandbox, "book", lambda: {"id": BOOK_ID, "name": "B", "status": "Active",
                                                   "ownership": "Owned", "country": "US", "bookCreated": True})
    with pytest.raises(ConfigurationError) as info:
        connector(rsandbox, currency="").reference_data()
    assert "currency setting" in info.value.hint


def test_draft_invoices_are_approved_so_payments_can_be_applied(rsandbox, setup):
    rk, _, mapping = setup
    rsandbox.settings({"approval_enabled": True})
    made = rk.create(invoice("RV-1"), mapping, "k")
    assert made.raw["status"] == "Approved" and made.total == Decimal("110.00")
    pay = PaymentSnapshot(key="p", organization_id=1, number="P-1", customer_key="c", date=dt.date.today(),
                          amount=Decimal("110.00"), allocations=(Allocation("i:RV-1", Decimal("110.00")),))
    rk.create(pay, Mapping(deposit_account=mapping.deposit_account, refs={**mapping.refs, "i:RV-1": made.remote_id}),
              "k")
    assert rk.fetch("invoice", made.remote_id).raw["status"] == "Paid"


def test_a_reference_typed_into_reckon_by_hand_withdraws_our_create(rsandbox, setup):
    rk, accounts, mapping = setup
    rsandbox.write("invoices", None, {"customer": mapping.refs["c"], "invoiceDate": dt.date.today().isoformat(),
                                      "amountTaxStatus": "Exclusive", "reference": "RV-7", "lineItems": [
                                          {"lineNumber": 1, "accountDetails": {"ledgerAccount": accounts["Sales"],
                                                                               "amount": "1.00"}}]})
    with pytest.raises(DuplicateError) as info:
        rk.create(invoice("RV-7"), mapping, "k")
    assert info.value.platform_code == "reference_taken"
    assert [r.data["reference"] for r in rsandbox.store.rows("invoices")] == ["RV-7"]  # ours withdrawn


def test_void_zeroes_the_invoice_and_is_refused_while_money_is_allocated(rsandbox, setup):
    rk, _, mapping = setup
    paid = rk.create(invoice("RV-2"), mapping, "k")
    receipt = rsandbox.act_as_user("record_payment", invoice_id=paid.remote_id, amount="10.00")
    with pytest.raises(ValidationFailed) as info:
        rk.void("invoice", RemoteRef(paid.remote_id, paid.version), "k")
    assert info.value.platform_code == "void_refused"
    rsandbox.act_as_user("delete_payment", payment_id=receipt["id"])
    voided = rk.void("invoice", RemoteRef(paid.remote_id, paid.version), "k")
    assert (voided.status, voided.total, voided.balance, voided.number) == ("voided", Decimal("0.00"),
                                                                            Decimal("0.00"), "RV-2")
    assert rk.void("invoice", RemoteRef(paid.remote_id, voided.version), "k").version == voided.version  # once


def test_voiding_a_credit_note_releases_what_it_credited(setup):
    rk, _, mapping = setup
    inv = rk.create(invoice("RV-3"), mapping, "k")
    note = CreditNoteSnapshot(key="n", organization_id=1, number="CN-3", customer_key="c",
                              issue_date=dt.date.today(), lines=(line("30.00", "3.00"),), total=Decimal("33.00"),
                              allocations=(Allocation("i:RV-3", Decimal("33.00")),))
    refs = Mapping(line_accounts=mapping.line_accounts, tax_codes=mapping.tax_codes,
                   refs={**mapping.refs, "i:RV-3": inv.remote_id})
    made = rk.create(note, refs, "k")
    assert rk.fetch("invoice", inv.remote_id).balance == Decimal("77.00")
    assert rk.void("credit_note", RemoteRef(made.remote_id, made.version), "k").status == "voided"
    assert rk.fetch("invoice", inv.remote_id).balance == Decimal("110.00")


def test_an_archived_account_is_named_by_the_refusal(rsandbox, setup):
    rk, accounts, mapping = setup
    rsandbox.act_as_user("archive_account", account_id=accounts["Sales"])
    with pytest.raises(ValidationFailed) as info:
        rk.create(invoice("RV-4"), mapping, "k")
    [refused] = ReckonConnector.refused_references(info.value)
    assert refused.kinds == RuleKind.SALES_ACCOUNTS and refused.remote_id == accounts["Sales"] and refused.definite
    assert info.value.platform_code == "lineItems[0].accountDetails.ledgerAccount"

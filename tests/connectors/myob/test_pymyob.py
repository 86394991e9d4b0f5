"""The independent check: pymyob, a maintained MYOB client library (PyPI ``pymyob``), drives the sandbox through
MYOB's OAuth flow and API. pymyob was written against the live API, so what it sends (its endpoints with trailing
slashes, ``returnBody=true``, OData filters built from keywords, its headers) and what it expects back (201 with
the record, ``{"Items", ...}`` lists, ``Errors[0].Name`` of a 403) are MYOB's, not ours. Our connector's writes
are then read back with it."""
import datetime as dt
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import requests

myob = pytest.importorskip("myob")
from myob import credentials as myob_credentials  # noqa: E402
from myob import managers as myob_managers  # noqa: E402
from myob.api import Myob  # noqa: E402
from myob.constants import AuthScope  # noqa: E402
from myob.credentials import PartnerCredentials  # noqa: E402
from myob.exceptions import MyobBadRequest, MyobConflict, MyobNotFound, MyobRateLimitExceeded  # noqa: E402

from connectors.base import ConnectionConfig  # noqa: E402
from connectors.documents import CustomerSnapshot, InvoiceSnapshot, LineSnapshot, Mapping  # noqa: E402
from connectors.myob.connector import MyobConnector  # noqa: E402
from ledger.money import line_net  # noqa: E402

CALLBACK = "https://app.example.com/myob/callback"


def d(value) -> Decimal:
    """An amount pymyob parsed (it reads JSON numbers as floats), compared through its text: never float math."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.fixture
def api(msandbox, monkeypatch):
    """pymyob pointed at the sandbox, through MYOB's consent redirect and token exchange."""
    monkeypatch.setattr(myob_managers, "MYOB_BASE_URL", f"{msandbox.api_base}/")
    monkeypatch.setattr(myob_credentials, "MYOB_PARTNER_BASE_URL", f"{msandbox.base_url}/oauth2/")
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # loopback http; MYOB itself is https only
    creds = PartnerCredentials(msandbox.client_id, "sandbox-secret", CALLBACK,
                               scopes=(AuthScope.SALES, AuthScope.CONTACTS_CUSTOMER, AuthScope.GENERAL_LEDGER))
    redirect = requests.get(creds.url, allow_redirects=False, timeout=5)
    assert redirect.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlparse(redirect.headers["Location"]).query).items()}
    creds.verify(params["code"], params["businessId"])
    assert creds.business_id == msandbox.company_id and creds.oauth_token
    return Myob(creds)


def _ids(sb) -> tuple[dict, dict]:
    accounts = {r.data["Name"]: r.id for r in sb.store.rows("accounts")}
    taxes = {r.data["Code"]: r.id for r in sb.store.rows("taxcodes")}
    return accounts, taxes


def _customer(api, sb, name="Pymyob Pty Ltd") -> dict:
    _, taxes = _ids(sb)
    return api.contacts.post_customer(data={
        "CompanyName": name, "IsIndividual": False,
        "SellingDetails": {"TaxCode": {"UID": taxes["GST"]}, "FreightTaxCode": {"UID": taxes["GST"]}}})


def test_consent_redirect_names_the_business_and_the_token_refreshes(api, msandbox):
    assert api.business()["Id"] == msandbox.company_id
    before = api.credentials.oauth_token
    api.credentials.refresh()
    assert api.credentials.oauth_token != before
    assert api.general_ledger.taxcode()["Count"] == 3  # the fresh token is accepted


def test_customer_created_listed_by_filter_updated_and_a_stale_row_version_refused(api, msandbox):
    created = _customer(api, msandbox)
    assert uuid.UUID(created["UID"]) and created["CompanyName"] == "Pymyob Pty Ltd" and created["RowVersion"]
    listed = api.contacts.customer(CompanyName="Pymyob Pty Ltd")
    assert [c["UID"] for c in listed["Items"]] == [created["UID"]] and listed["Count"] == 1
    assert api.contacts.customer(CompanyName="Somebody Else")["Items"] == []
    updated = api.contacts.put_customer(uid=created["UID"], data={**created, "CompanyName": "Pymyob Renamed"})
    assert updated["CompanyName"] == "Pymyob Renamed" and updated["RowVersion"] != created["RowVersion"]
    with pytest.raises(MyobConflict):
        api.contacts.put_customer(uid=created["UID"], data={**created, "CompanyName": "Stale"})
    assert api.contacts.get_customer(uid=created["UID"])["CompanyName"] == "Pymyob Renamed"


def test_service_sale_payment_and_credit_settlement_move_the_balance(api, msandbox):
    accounts, taxes = _ids(msandbox)
    customer = _customer(api, msandbox)
    line = {"Type": "Transaction", "Description": "Consult", "Total": "100.00",
            "Account": {"UID": accounts["Sales"]}, "TaxCode": {"UID": taxes["GST"]}}
    sale = api.invoices.post_service(data={"Number": "PY-1", "Date": "2026-12-01", "Customer": {"UID": customer["UID"]},
                                           "IsTaxInclusive": False, "Lines": [line]})
    assert d(sale["TotalAmount"]) == Decimal("110.00") and d(sale["TotalTax"]) == Decimal("10.00")
    assert sale["Status"] == "Open" and d(sale["BalanceDueAmount"]) == Decimal("110.00")
    with pytest.raises(MyobBadRequest):  # the number is taken
        api.invoices.post_service(data={"Number": "PY-1", "Date": "2026-12-01", "Customer": {"UID": customer["UID"]},
                                        "Lines": [line]})
    paid = api.customer_payments.post(data={
        "DepositTo": "Account", "Account": {"UID": accounts["Undeposited Funds"]}, "Customer": {"UID": customer["UID"]},
        "Date": "2026-12-02", "AmountReceived": "40.00",
        "Invoices": [{"UID": sale["UID"], "AmountApplied": "40.00", "Type": "Invoice"}]})
    assert d(api.invoices.get_service(uid=sale["UID"])["BalanceDueAmount"]) == Decimal("70.00")
    credit = api.invoices.post_service(data={
        "Number": "PY-2", "Date": "2026-12-02", "Customer": {"UID": customer["UID"]},
        "Lines": [{**line, "Total": "-20.00"}]})
    assert d(credit["TotalAmount"]) == Decimal("-22.00") and credit["Status"] == "Credit"
    api.credit_settlements.post(data={"CreditFromInvoice": {"UID": credit["UID"]}, "Customer": {"UID": customer["UID"]},
                                      "Date": "2026-12-02", "Lines": [{"Type": "Invoice", "Sale": {"UID": sale["UID"]},
                                                                       "AmountApplied": "22.00"}]})
    assert d(api.invoices.get_service(uid=sale["UID"])["BalanceDueAmount"]) == Decimal("48.00")
    assert api.invoices.get_service(uid=credit["UID"])["Status"] == "Closed"
    listed = api.invoices.all(Number="PY-1")  # Sale/Invoice lists both layouts
    assert [s["UID"] for s in listed["Items"]] == [sale["UID"]]
    api.customer_payments.delete(uid=paid["UID"])
    assert d(api.invoices.get_service(uid=sale["UID"])["BalanceDueAmount"]) == Decimal("88.00")
    with pytest.raises(MyobNotFound):
        api.customer_payments.get(uid=paid["UID"])


def test_credit_refund_spend_money_and_general_journal_through_pymyob(api, msandbox):
    """pymyob's credit_refunds (no put), banking spend money and general ledger journals reach the sandbox and read
    back: the refund lowers the credit, spend money adds its tax, an unbalanced journal is a 400."""
    accounts, taxes = _ids(msandbox)
    customer = _customer(api, msandbox, "Refunded Pty Ltd")
    credit = api.invoices.post_service(data={
        "Number": "PY-CR", "Date": "2026-12-02", "Customer": {"UID": customer["UID"]},
        "Lines": [{"Type": "Transaction", "Description": "Returned", "Total": "-50.00",
                   "Account": {"UID": accounts["Sales"]}, "TaxCode": {"UID": taxes["FRE"]}}]})
    refund = api.credit_refunds.post(data={
        "Customer": {"UID": customer["UID"]}, "Invoice": {"UID": credit["UID"]},
        "Account": {"UID": accounts["Business Bank Account"]}, "Number": "PY-RF", "Date": "2026-12-03",
        "Amount": "20.00"})
    assert d(refund["Amount"]) == Decimal("20.00") and refund["Invoice"]["UID"] == credit["UID"]
    assert d(api.invoices.get_service(uid=credit["UID"])["BalanceDueAmount"]) == Decimal("-30.00")
    assert not hasattr(api.credit_refunds, "put")  # MYOB has no update of a credit refund
    api.credit_refunds.delete(uid=refund["UID"])
    assert d(api.invoices.get_service(uid=credit["UID"])["BalanceDueAmount"]) == Decimal("-50.00")

    spend = api.banking.post_spendmoneytxn(data={
        "PayFrom": "Account", "Account": {"UID": accounts["Business Bank Account"]}, "PaymentNumber": "PY-SM",
        "Date": "2026-12-03", "IsTaxInclusive": False,
        "Lines": [{"Account": {"UID": accounts["Freight Paid"]}, "TaxCode": {"UID": taxes["GST"]}, "Amount": "30.00"}]})
    assert d(spend["AmountPaid"]) == Decimal("33.00") and d(spend["TotalTax"]) == Decimal("3.00")
    assert [s["UID"] for s in api.banking.spendmoneytxn(PaymentNumber="PY-SM")["Items"]] == [spend["UID"]]

    lines = [{"Account": {"UID": accounts["Bank Charges"]}, "TaxCode": {"UID": taxes["N-T"]}, "Amount": "7.50",
              "IsCredit": False},
             {"Account": {"UID": accounts["Business Bank Account"]}, "TaxCode": {"UID": taxes["N-T"]},
              "Amount": "7.00", "IsCredit": True}]
    body = {"DisplayID": "PY-GJ", "DateOccurred": "2026-12-03", "GSTReportingMethod": "Sale", "Lines": lines}
    with pytest.raises(MyobBadRequest):  # out of balance
        api.general_ledger.post_generaljournal(data=body)
    lines[1]["Amount"] = "7.50"
    journal = api.general_ledger.post_generaljournal(data=body)
    assert journal["DisplayID"] == "PY-GJ" and [line["IsCredit"] for line in journal["Lines"]] == [False, True]
    api.general_ledger.delete_generaljournal(uid=journal["UID"])
    with pytest.raises(MyobNotFound):
        api.general_ledger.get_generaljournal(uid=journal["UID"])


def test_item_sale_prices_quantities_from_the_item(api, msandbox):
    accounts, taxes = _ids(msandbox)
    customer = _customer(api, msandbox)
    item = api.inventory.post_item(data={"Number": "VAC-1", "Name": "Vaccine", "IsSold": True,
                                         "IncomeAccount": {"UID": accounts["Sales"]},
                                         "SellingDetails": {"BaseSellingPrice": "32.50"}})
    sale = api.invoices.post_item(data={"Number": "PY-3", "Date": "2026-12-01", "Customer": {"UID": customer["UID"]},
                                        "Lines": [{"Type": "Transaction", "Item": {"UID": item["UID"]},
                                                   "ShipQuantity": "3", "TaxCode": {"UID": taxes["FRE"]}}]})
    assert d(sale["Subtotal"]) == Decimal("97.50") and d(sale["TotalAmount"]) == Decimal("97.50")
    assert sale["Lines"][0]["Item"]["Number"] == "VAC-1"
    with pytest.raises(MyobNotFound):  # an Item-layout sale is not under Service
        api.invoices.get_service(uid=sale["UID"])


def test_the_per_second_limit_is_a_rate_limit_error_for_pymyob(api, msandbox):
    msandbox.limits.set("second", 2)
    api.general_ledger.account()
    api.general_ledger.account()
    with pytest.raises(MyobRateLimitExceeded) as info:
        api.general_ledger.account()
    assert info.value.response.status_code == 403 and info.value.response.headers["Retry-After"]


def test_our_connectors_invoice_reads_back_with_pymyob(api, msandbox):
    issued = msandbox.issue_tokens()
    settings = MyobConnector.sandbox_settings(msandbox.base_url)
    connector = MyobConnector(ConnectionConfig("myob", "t", msandbox.company_id, settings, msandbox.client_id,
                                               "sandbox-secret"), lambda force: issued["access_token"])
    reference = connector.reference_data()
    accounts = {name: uid for uid, name in reference.accounts.items()}
    taxes = {name: uid for uid, name in reference.tax_codes.items()}
    cust = CustomerSnapshot(key="c:1", organization_id=1, name="Connector Card")
    made = connector.create(cust, Mapping(), "k1")
    lines = tuple(LineSnapshot(kind="service", description=f"Line {i}", quantity=Decimal(q), unit_price=Decimal(p),
                               net_amount=line_net(Decimal(q), Decimal(p)), tax_amount=Decimal("0.00"),
                               tax_rate_key="gst") for i, (q, p) in enumerate((("2", "50.00"), ("1", "23.45"))))
    doc = InvoiceSnapshot(key="i:1", organization_id=1, number="CX-1", customer_key="c:1", issue_date=dt.date.today(),
                          lines=lines, subtotal=Decimal("123.45"), total=Decimal("135.80"))
    mapping = Mapping(line_accounts=(accounts["Sales"],) * 2, refs={"c:1": made.remote_id},
                      tax_codes={"gst": taxes["GST"]})
    sent = connector.create(doc, mapping, "k2")
    read = api.invoices.get_service(uid=sent.remote_id)
    assert read["Number"] == "CX-1" and read["Customer"]["UID"] == made.remote_id
    assert d(read["TotalAmount"]) == sent.total == Decimal("135.80") and d(read["Subtotal"]) == Decimal("123.45")
    assert [(d(line["UnitCount"]), d(line["UnitPrice"]), d(line["Total"])) for line in read["Lines"]] == [
        (Decimal("2"), Decimal("50.00"), Decimal("100.00")), (Decimal("1"), Decimal("23.45"), Decimal("23.45"))]

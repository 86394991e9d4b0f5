"""The Acumatica sandbox's refunds, bills, checks and GL batches (issue 23) against an independent client (plain
``requests`` with a cookie jar): a refund applies only to credit memos and gives the credit back when voided; a
bill is paid by a check in its cash account's currency and reversed by a debit adjustment; an out-of-balance
batch is refused with Acumatica's message; released ones refuse changes."""
from decimal import Decimal

import pytest
import requests

from connectors.acumatica.sandbox import PASSWORD, TENANT, USER
from tests.connectors.acumatica.test_sandbox import customer, invoice, put, site, value

D = Decimal


@pytest.fixture
def api(asandbox):
    """A logged-in ``requests.Session`` and the endpoint's URL; logged out at the end."""
    http = requests.Session()
    answer = http.post(f"{asandbox.base_url}/entity/auth/login", json={"name": USER, "password": PASSWORD,
                                                                       "company": TENANT}, timeout=5)
    assert answer.status_code == 204
    http.url = asandbox.api_base
    yield http
    http.post(f"{asandbox.base_url}/entity/auth/logout", timeout=5)


def w(**fields):
    return {name: {"value": v} for name, v in fields.items()}


def act(api, entity, action, record):
    done = api.post(f"{api.url}/{entity}/{action}", json={"entity": {"id": record["id"]}}, timeout=5)
    if done.status_code == 202:
        assert api.get(site(api) + done.headers["Location"], timeout=5).status_code == 204
    return done


def get(api, entity, record, expand=""):
    return api.get(f"{api.url}/{entity}/{record['id']}", params={"$expand": expand} if expand else None,
                   timeout=5).json()


def vendor(api, vid="PARCEL"):
    return put(api, "Vendor", w(VendorID=vid, VendorName="Parcel Express")).json()


def bill(api, currency="EUR", cost="50.00", vid="PARCEL"):
    made = put(api, "Bill", {**w(Type="Bill", Vendor=vid, VendorRef="E-1", CurrencyID=currency, Hold=False),
                             "Details": [w(Account="60100", Qty=1, UnitCost=D(cost), TaxCategory="TAXABLE",
                                           TransactionDescription="Courier")]})
    assert made.status_code == 200, made.text
    return made.json()


def test_a_refund_pays_out_a_credit_memo_and_a_void_gives_the_credit_back(api):
    customer(api)
    memo = invoice(api, price="100.00", kind="Credit Memo")  # 110.00 with tax
    refund = put(api, "Payment", {**w(Type="Refund", CustomerID="ANN", CashAccount="10200", PaymentAmount=D("40"),
                                      PaymentRef="R-1", PaymentMethod="CHECK"),
                                  "DocumentsToApply": [{**w(DocType="Credit Memo", AmountPaid=D("40")),
                                                        "ReferenceNbr": memo["ReferenceNbr"]}]}).json()
    assert value(refund, "Status") == "Balanced" and value(refund, "Type") == "Refund"
    act(api, "Payment", "ReleasePayment", refund)
    assert value(get(api, "Invoice", memo), "Balance") == D("70.00")
    assert value(get(api, "Payment", refund), "Status") == "Closed"
    changed = put(api, "Payment", {**w(Type="Refund", PaymentAmount=D("30")), "ReferenceNbr": refund["ReferenceNbr"]})
    assert changed.status_code == 500 and "released" in changed.json()["exceptionMessage"]
    act(api, "Payment", "VoidPayment", refund)
    assert value(get(api, "Payment", refund), "Status") == "Voided"
    assert value(get(api, "Invoice", memo), "Balance") == D("110.00")


def test_a_refund_applies_to_credit_memos_only_and_no_more_than_their_balance(api):
    customer(api)
    inv = invoice(api)
    memo = invoice(api, price="10.00", kind="Credit Memo")
    wrong = put(api, "Payment", {**w(Type="Refund", CustomerID="ANN", CashAccount="10200", PaymentAmount=D("5")),
                                 "DocumentsToApply": [{**w(DocType="Invoice", AmountPaid=D("5")),
                                                       "ReferenceNbr": inv["ReferenceNbr"]}]})
    assert wrong.status_code == 422
    assert "cannot be applied" in wrong.json()["DocumentsToApply"][0]["DocType"]["error"]
    over = put(api, "Payment", {**w(Type="Refund", CustomerID="ANN", CashAccount="10200", PaymentAmount=D("12")),
                                "DocumentsToApply": [{**w(DocType="Credit Memo", AmountPaid=D("12")),
                                                      "ReferenceNbr": memo["ReferenceNbr"]}]})
    assert over.status_code == 500 and "exceeds the balance" in over.json()["exceptionMessage"]


def test_a_bill_computes_tax_and_a_check_from_a_cash_account_of_its_currency_pays_it(api):
    unknown = put(api, "Bill", {**w(Type="Bill", Vendor="NOBODY", CurrencyID="EUR"),
                                "Details": [w(Account="60100", UnitCost=D("1"))]})
    assert unknown.status_code == 422 and "'Vendor' cannot be found" in unknown.json()["Vendor"]["error"]
    vendor(api)
    made = bill(api)
    assert (value(made, "Amount"), value(made, "Status")) == (D("55.00"), "Balanced")
    early = put(api, "Check", {**w(Type="Payment", Vendor="PARCEL", CashAccount="10300", CurrencyID="EUR",
                                   PaymentAmount=D("55")),
                               "Details": [{**w(DocType="Bill", AmountPaid=D("55")),
                                            "ReferenceNbr": made["ReferenceNbr"]}]})
    assert early.status_code == 500 and "not an open released document" in early.json()["exceptionMessage"]
    act(api, "Bill", "ReleaseBill", made)
    usd = put(api, "Check", {**w(Type="Payment", Vendor="PARCEL", CashAccount="10200", CurrencyID="EUR",
                                 PaymentAmount=D("55"))})
    assert usd.status_code == 422 and "currency of cash account 10200" in usd.json()["CurrencyID"]["error"]
    check = put(api, "Check", {**w(Type="Payment", Vendor="PARCEL", CashAccount="10300", CurrencyID="EUR",
                                   PaymentAmount=D("55"), PaymentRef="E-1"),
                               "Details": [{**w(DocType="Bill", AmountPaid=D("55")),
                                            "ReferenceNbr": made["ReferenceNbr"]}]}).json()
    act(api, "Check", "ReleaseCheck", check)
    assert (value(get(api, "Bill", made), "Balance"), value(get(api, "Bill", made), "Status")) == (D("0.00"),
                                                                                                    "Closed")
    made_adjustment = act(api, "Bill", "ReverseBill", made)
    assert made_adjustment.status_code == 202  # a Balanced debit adjustment; it cannot be released while paid
    [adjustment] = api.get(f"{api.url}/Bill", params={"$filter": "Type eq 'Debit Adj.'"}, timeout=5).json()
    blocked = act(api, "Bill", "ReleaseBill", adjustment)
    assert blocked.status_code == 500 and "void them" in blocked.json()["exceptionMessage"]
    act(api, "Check", "VoidCheck", check)
    assert value(get(api, "Bill", made), "Balance") == D("55.00")
    act(api, "Bill", "ReleaseBill", adjustment)
    assert value(get(api, "Bill", made), "Status") == "Closed"
    assert value(get(api, "Bill", adjustment), "Status") == "Closed"
    # the adjustment's Orig. Ref. Nbr. is not in the endpoint's Bill: read with $custom, filtered with cf.String
    linked = api.get(f"{api.url}/Bill", params={"$filter": f"cf.String(f='Document.OrigRefNbr') eq "
                                                           f"'{value(made, 'ReferenceNbr')}'",
                                                "$custom": "Document.OrigRefNbr"}, timeout=5).json()
    assert [(value(r, "Type"), r["custom"]["Document"]["OrigRefNbr"]) for r in linked] == [
        ("Debit Adj.", {"type": "CustomStringField", "value": value(made, "ReferenceNbr")})]
    unknown = api.get(f"{api.url}/Bill", params={"$custom": "Document.UsrNothing"}, timeout=5)
    assert unknown.status_code == 400


def test_a_voided_refund_leaves_a_voided_refund_of_its_number(api, asandbox):
    customer(api)
    memo = invoice(api, price="100.00", kind="Credit Memo")
    refund = put(api, "Payment", {**w(Type="Refund", CustomerID="ANN", CashAccount="10200", PaymentAmount=D("40"),
                                      PaymentRef="R-2", PaymentMethod="CHECK"),
                                  "DocumentsToApply": [{**w(DocType="Credit Memo", AmountPaid=D("40")),
                                                        "ReferenceNbr": memo["ReferenceNbr"]}]}).json()
    act(api, "Payment", "ReleasePayment", refund)
    number = value(refund, "ReferenceNbr")
    asandbox.void_refund_as_user(f"Refund/{number}")
    same = api.get(f"{api.url}/Payment", params={"$filter": f"ReferenceNbr eq '{number}'"}, timeout=5).json()
    assert sorted((value(r, "Type"), value(r, "Status")) for r in same) == [("Refund", "Voided"),
                                                                            ("Voided Refund", "Closed")]
    assert value(get(api, "Invoice", memo), "Balance") == D("110.00")


def test_a_batch_off_hold_must_balance_and_a_released_one_refuses_changes(api):
    lines = [w(Account="60200", DebitAmount=D("100"), CreditAmount=D("0")),
             w(Account="10200", DebitAmount=D("0"), CreditAmount=D("90"))]
    refused = put(api, "JournalTransaction", {**w(Module="GL", Description="JE-7", Hold=False), "Details": lines})
    assert refused.status_code == 500
    assert refused.json()["exceptionMessage"] == "Batch is out of balance, please review."
    held = put(api, "JournalTransaction", {**w(Module="GL", Description="JE-7", Hold=True), "Details": lines}).json()
    assert value(held, "Status") == "On Hold"
    assert act(api, "JournalTransaction", "ReleaseJournalTransaction", held).status_code == 500
    fixed = put(api, "JournalTransaction", {**w(Module="GL", Hold=False), "BatchNbr": held["BatchNbr"],
                                            "Details": [{"id": held["Details"][1]["id"],
                                                         **w(CreditAmount=D("100"))}]})
    assert fixed.status_code == 200, fixed.text
    assert value(fixed.json(), "Status") == "Balanced"
    act(api, "JournalTransaction", "ReleaseJournalTransaction", held)
    batch = get(api, "JournalTransaction", held, "Details")
    assert value(batch, "Status") == "Posted" and value(batch["Details"][0], "Subaccount") == "000000"
    again = put(api, "JournalTransaction", {**w(Module="GL", Description="changed"), "BatchNbr": held["BatchNbr"]})
    assert again.status_code == 500 and "released" in again.json()["exceptionMessage"]
    gone = api.delete(f"{api.url}/JournalTransaction/{held['id']}", timeout=5)
    assert gone.status_code == 500 and "cannot be deleted" in gone.json()["exceptionMessage"]

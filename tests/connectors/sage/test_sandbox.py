"""The Sage sandbox over real loopback HTTP: OAuth with 5-minute tokens and rotating refresh tokens, X-Business,
Sage's envelopes and error bodies, invoices, receipts and credit-note allocations with outstanding amounts, void
by DELETE, paging and polling (updated_or_created_since, deleted_since), limits, faults in Sage's shape, what a
bookkeeper does, and bodies checked against the vendored subset of Sage's published Swagger description. The command
line and the control endpoints every sandbox shares are tested in tests/connectors/sandboxkit/test_every_sandbox.py.
"""
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import requests

from connectors.base import ConnectionConfig
from connectors.documents import Allocation, Mapping, PaymentSnapshot
from connectors.exactjson import dumps
from connectors.sage import costs
from connectors.sage import translate as t
from connectors.sage.connector import SageConnector
from tests.connectors.contract import credit_note, customer, expense, invoice, item, journal, refund

SPEC = json.loads((Path(__file__).resolve().parents[3] / "connectors" / "sage" / "spec"
                   / "sage-accounting-v3.1.subset.json").read_text())
CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}


class Sage:
    """Calls the way Sage's guides show them: Bearer token, X-Business header, bodies wrapped in the resource's
    singular name."""

    def __init__(self, sb, token=None, business=None):
        self.sb, self.token = sb, token or sb.issue_tokens()["access_token"]
        self.business = sb.company_id if business is None else business

    def call(self, method, path, params=None, body=None, token=None):
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if self.business:
            headers["X-Business"] = self.business
        response = requests.request(method, f"{self.sb.api_base}/{path}", params=params, headers=headers,
                                    data=json.dumps(body, default=str) if body is not None else None, timeout=5)
        response.body = json.loads(response.content, parse_float=Decimal) if response.content else None
        return response

    def ok(self, method, path, params=None, body=None):
        response = self.call(method, path, params, body)
        assert response.status_code in (200, 201, 204), response.text
        return response.body

    def refused(self, method, path, status, params=None, body=None):
        response = self.call(method, path, params, body)
        assert response.status_code == status, response.text
        [error] = response.body
        assert error["$severity"] == "error" and error["$dataCode"] and error["$message"]
        return error

    def named(self, path, name, field="name"):
        return next(r for r in self.ok("GET", path, {"attributes": "all", "items_per_page": 200})["$items"]
                    if r.get(field) == name)


@pytest.fixture
def sage(ssandbox):
    return Sage(ssandbox)


def contact(sage, name="Acme Ltd"):
    return sage.ok("POST", "contacts", body={"contact": {"name": name, "contact_type_ids": ["CUSTOMER"]}})["id"]


def sales_invoice(sage, cid, reference="INV-100", lines=None, **extra):
    sales, gst = sage.named("ledger_accounts", "Sales")["id"], sage.named("tax_rates", "GST 10%")["id"]
    lines = lines or [{"description": "Consulting", "ledger_account_id": sales, "unit_price": "100.00",
                       "quantity": 2, "tax_rate_id": gst},
                      {"description": "Travel", "ledger_account_id": sales, "unit_price": "15.55", "quantity": 1}]
    body = {"contact_id": cid, "date": "2026-12-01", "reference": reference, "invoice_lines": lines, **extra}
    return sage.ok("POST", "sales_invoices", body={"sales_invoice": body})


def receipt(sage, cid, allocations, total, **extra):
    bank = sage.named("bank_accounts", "Checking (1010)", "displayed_as")["id"]
    body = {"transaction_type_id": "CUSTOMER_RECEIPT", "contact_id": cid, "bank_account_id": bank,
            "date": "2026-12-02", "total_amount": total, **extra,
            "allocated_artefacts": [{"artefact_id": i, "amount": a} for i, a in allocations]}
    return sage.call("POST", "contact_payments", body={"contact_payment": body})


# -- OAuth, business, errors ------------------------------------------------------------------------------------------
def test_consent_code_exchange_and_rotating_refresh(ssandbox):
    consent = requests.get(ssandbox.authorize_url, params={"client_id": "sandbox-client", "response_type": "code",
                                                           "redirect_uri": "http://app.test/cb", "state": "s1",
                                                           "scope": "full_access", "filter": "apiv3.1"},
                           allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(consent.headers["Location"]).query)
    assert consent.status_code == 302 and query["state"] == ["s1"] and query["country"] == ["US"]
    first = requests.post(ssandbox.token_url, data={**CLIENT, "grant_type": "authorization_code",
                                                    "code": query["code"][0], "redirect_uri": "http://app.test/cb"},
                          timeout=5).json()
    assert first["expires_in"] == 300 and first["refresh_token_expires_in"] == 2678400
    second = requests.post(ssandbox.token_url, data={**CLIENT, "grant_type": "refresh_token",
                                                     "refresh_token": first["refresh_token"]}, timeout=5).json()
    assert second["refresh_token"] != first["refresh_token"]  # rotated
    again = requests.post(ssandbox.token_url, data={**CLIENT, "grant_type": "refresh_token",
                                                    "refresh_token": first["refresh_token"]}, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # the old one no longer works


def test_token_expires_after_five_minutes(sage, ssandbox):
    assert sage.call("GET", "contacts").status_code == 200
    ssandbox.clock.advance(301)
    error = sage.refused("GET", "contacts", 401)
    assert error["$dataCode"] == "AuthorizationFailure"


def test_x_business_names_the_business_and_defaults_to_the_lead_one(sage, ssandbox):
    assert Sage(ssandbox, token=sage.token, business="").call("GET", "contacts").status_code == 200
    Sage(ssandbox, token=sage.token, business="0" * 32).refused("GET", "contacts", 403)
    assert sage.ok("GET", "businesses")["$items"][0]["id"] == ssandbox.company_id


def test_wrapped_body_and_validation_errors_name_the_field(sage):
    assert sage.refused("POST", "contacts", 422, body={"name": "not wrapped"})["$source"] == "contact"
    cid = contact(sage)
    sales = sage.named("ledger_accounts", "Sales")["id"]
    line = {"description": "x", "ledger_account_id": sales, "unit_price": "1.00"}
    cases = [({"contact_id": cid, "invoice_lines": [line]}, "date"),
             ({"contact_id": "f" * 32, "date": "2026-12-01", "invoice_lines": [line]}, "contact_id"),
             ({"contact_id": cid, "date": "2026-12-01", "invoice_lines": []}, "invoice_lines"),
             ({"contact_id": cid, "date": "2026-12-01", "invoice_lines": [{**line, "description": " "}]},
              "invoice_lines.0.description"),
             ({"contact_id": cid, "date": "2026-12-01", "invoice_lines": [{**line, "ledger_account_id": "9" * 32}]},
              "invoice_lines.0.ledger_account_id"),
             ({"contact_id": cid, "date": "2026-12-01", "invoice_lines": [{**line, "tax_rate_id": "nope"}]},
              "invoice_lines.0.tax_rate_id")]
    for body, source in cases:
        error = sage.refused("POST", "sales_invoices", 422, body={"sales_invoice": body})
        assert (error["$dataCode"], error["$source"]) == ("RecordInvalid", source)
    assert sage.refused("GET", f"sales_invoices/{'a' * 32}", 404)["$dataCode"] == "RecordNotFound"


# -- documents --------------------------------------------------------------------------------------------------------
def test_invoice_numbered_by_sage_taxed_per_line_and_reference_not_unique(sage):
    cid = contact(sage)
    first = sales_invoice(sage, cid)
    assert first["invoice_number"] == "SI-1" and first["reference"] == "INV-100"
    assert (first["net_amount"], first["tax_amount"], first["total_amount"]) == (
        Decimal("215.55"), Decimal("20.00"), Decimal("235.55"))
    assert first["outstanding_amount"] == Decimal("235.55") and first["status"]["id"] == "UNPAID"
    second = sales_invoice(sage, cid)  # Sage keeps no uniqueness on a reference: our connector checks it
    assert second["invoice_number"] == "SI-2"
    found = sage.ok("GET", "sales_invoices", {"search": "INV-100"})["$items"]
    assert {r["id"] for r in found} == {first["id"], second["id"]} and set(found[0]) == {"id", "displayed_as", "$path"}


def test_draft_release_delete_and_void_by_delete(sage):
    cid = contact(sage)
    draft = sales_invoice(sage, cid, status_id="DRAFT")
    assert draft["status"]["id"] == "DRAFT"
    released = sage.ok("POST", f"sales_invoices/{draft['id']}/release")
    assert released["status"]["id"] == "UNPAID"
    sage.refused("DELETE", f"sales_invoices/{draft['id']}", 422)  # void_reason required unless draft
    assert sage.call("DELETE", f"sales_invoices/{draft['id']}", {"void_reason": "wrong"}).status_code == 204
    void = sage.ok("GET", f"sales_invoices/{draft['id']}")
    assert void["status"]["id"] == "VOID" and void["void_reason"] == "wrong" and void["outstanding_amount"] == 0
    sage.refused("PUT", f"sales_invoices/{draft['id']}", 422, body={"sales_invoice": {"notes": "x"}})
    other = sales_invoice(sage, cid, reference="INV-101", status_id="DRAFT")
    assert sage.call("DELETE", f"sales_invoices/{other['id']}").status_code == 204  # a draft is deleted
    sage.refused("GET", f"sales_invoices/{other['id']}", 404)


def test_receipts_allocate_to_invoices_and_deleting_one_reopens_them(sage):
    cid = contact(sage)
    inv = sales_invoice(sage, cid)
    paid = receipt(sage, cid, [(inv["id"], "100.00")], "150.00", reference="R-1")
    assert paid.status_code == 201, paid.text
    assert paid.body["payment_on_account"]["total_amount"] == Decimal("50.00")
    assert paid.body["allocated_artefacts"][0]["artefact"]["id"] == inv["id"]
    after = sage.ok("GET", f"sales_invoices/{inv['id']}")
    assert after["outstanding_amount"] == Decimal("135.55") and after["status"]["id"] == "PART_PAID"
    too_much = receipt(sage, cid, [(inv["id"], "200.00")], "200.00")
    assert too_much.status_code == 422 and too_much.body[0]["$source"] == "allocated_artefacts.0.amount"
    sage.refused("DELETE", f"sales_invoices/{inv['id']}", 422, {"void_reason": "x"})  # allocated: not voided
    assert sage.call("DELETE", f"contact_payments/{paid.body['id']}").status_code == 204
    assert sage.ok("GET", f"sales_invoices/{inv['id']}")["outstanding_amount"] == Decimal("235.55")


def test_credit_note_allocated_to_an_invoice_balances_to_zero(sage):
    cid = contact(sage)
    inv = sales_invoice(sage, cid)
    sales = sage.named("ledger_accounts", "Sales")["id"]
    note = sage.ok("POST", "sales_credit_notes", body={"sales_credit_note": {
        "contact_id": cid, "date": "2026-12-02", "reference": "CN-1",
        "credit_note_lines": [{"description": "Refund", "ledger_account_id": sales, "unit_price": "30.00"}]}})
    assert note["credit_note_number"] == "SCN-1" and note["total_amount"] == Decimal("30.00")
    unbalanced = {"transaction_type_id": "CUSTOMER_ALLOCATION", "contact_id": cid, "allocated_artefacts": [
        {"artefact_id": inv["id"], "amount": "30.00"}, {"artefact_id": note["id"], "amount": "-20.00"}]}
    sage.refused("POST", "contact_allocations", 422, body={"contact_allocation": unbalanced})
    balanced = {**unbalanced, "allocated_artefacts": [{"artefact_id": inv["id"], "amount": "20.00"},
                                                      {"artefact_id": note["id"], "amount": "-20.00"}]}
    made = sage.ok("POST", "contact_allocations", body={"contact_allocation": balanced})
    assert sage.ok("GET", f"sales_credit_notes/{note['id']}")["outstanding_amount"] == Decimal("10.00")
    assert sage.ok("GET", f"sales_invoices/{inv['id']}")["outstanding_amount"] == Decimal("215.55")
    listed = sage.ok("GET", "contact_allocations", {"contact_id": cid, "attributes": "all"})["$items"]
    assert [r["id"] for r in listed] == [made["id"]]
    sage.ok("DELETE", f"contact_allocations/{made['id']}")
    assert sage.ok("GET", f"sales_credit_notes/{note['id']}")["outstanding_amount"] == Decimal("30.00")


# -- lists and polling ----------------------------------------------------------------------------------------------
def test_paging_envelope_and_items_per_page_capped_at_200(sage):
    cids = [contact(sage, f"Customer {n:03}") for n in range(5)]
    page = sage.ok("GET", "contacts", {"items_per_page": 2, "page": 2})
    assert (page["$total"], page["$page"], page["$items_per_page"]) == (5, 2, 2)
    assert [r["id"] for r in page["$items"]] == cids[2:4] and page["$next"] and page["$back"]
    assert sage.ok("GET", "contacts", {"items_per_page": 1000})["$items_per_page"] == 200
    assert sage.ok("GET", "contacts", {"items_per_page": 2, "page": 3})["$next"] is None


def test_updated_or_created_since_is_inclusive_and_deleted_since_lists_deletions(sage, ssandbox):
    cid = contact(sage)
    inv = sales_invoice(sage, cid)
    paid = receipt(sage, cid, [(inv["id"], "10.00")], "10.00").body
    mark = dt.datetime.fromtimestamp(ssandbox.clock(), dt.UTC).replace(microsecond=0)
    ssandbox.clock.advance(5)
    since = {"updated_or_created_since": (mark + dt.timedelta(seconds=2)).isoformat()}
    assert sage.ok("GET", "contact_payments", since)["$items"] == []
    sage.ok("DELETE", f"contact_payments/{paid['id']}")  # reopens the invoice: it changed too
    changed = sage.ok("GET", "sales_invoices", since)["$items"]
    assert [r["id"] for r in changed] == [inv["id"]]
    gone = sage.ok("GET", "contact_payments", {"deleted_since": (mark + dt.timedelta(seconds=2)).isoformat()})
    assert [(r["id"], bool(r["deleted_at"])) for r in gone["$items"]] == [(paid["id"], True)]
    assert sage.ok("GET", "contact_payments", {"deleted_since": (mark + dt.timedelta(seconds=9)).isoformat()})[
        "$items"] == []


# -- limits, faults, what a bookkeeper does -------------------------------------------------------------------------
def test_per_minute_limit_answers_429_with_retry_after(sage, ssandbox):
    ssandbox.limits.set("minute", 3)
    for _ in range(3):
        assert sage.call("GET", "contacts").status_code == 200
    limited = sage.call("GET", "contacts")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.body[0]["$dataCode"] == "TooManyRequests"
    ssandbox.clock.advance(61)
    assert sage.call("GET", "contacts").status_code == 200


@pytest.mark.parametrize("kind, status, code", [("http_500", 500, "InternalServerError"),
                                                ("http_503", 503, "ServiceUnavailable"),
                                                ("rate_limit", 429, "TooManyRequests")])
def test_faults_answer_in_sages_shape(sage, ssandbox, kind, status, code):
    ssandbox.faults.add(kind)
    assert sage.refused("GET", "contacts", status)["$dataCode"] == code


def test_act_as_user(sage, ssandbox):
    cid = contact(sage)
    inv = sales_invoice(sage, cid)
    edited = ssandbox.act_as_user("edit_invoice_line", invoice_id=inv["id"], line=1, amount="20.00")
    assert edited["total_amount"] == Decimal("240.00")
    paid = ssandbox.act_as_user("record_payment", invoice_id=inv["id"], amount="40.00", reference="USER-1")
    assert paid["reference"] == "USER-1"
    assert sage.ok("GET", f"sales_invoices/{inv['id']}")["outstanding_amount"] == Decimal("200.00")
    ssandbox.act_as_user("delete_payment", payment_id=paid["id"])
    assert ssandbox.act_as_user("void_invoice", invoice_id=inv["id"])["status"]["id"] == "VOID"
    discount = sage.named("ledger_accounts", "Sales Discounts")["id"]
    ssandbox.act_as_user("archive_account", account_id=discount)
    line = {"description": "x", "ledger_account_id": discount, "unit_price": "1.00"}
    error = sage.refused("POST", "sales_invoices", 422, body={"sales_invoice": {
        "contact_id": cid, "date": "2026-12-01", "invoice_lines": [line]}})
    assert "not included in the chart" in error["$message"]


# -- the vendored spec: our requests and the sandbox's answers -------------------------------------------------------
def no_nulls(value):
    """Sage answers null for a reference that is not set; Swagger 2.0 cannot say so (see spec/README.md)."""
    if isinstance(value, dict):
        return {k: no_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [no_nulls(v) for v in value]
    return value


def check(definition, instance):
    """Validate against one definition (Swagger 2.0 schemas are JSON Schema draft 4, ``$ref``s inside the spec)."""
    schema = {"$ref": f"#/definitions/{definition}", "definitions": SPEC["definitions"]}
    jsonschema.Draft4Validator(schema).validate(json.loads(dumps(no_nulls(instance)), parse_float=Decimal))


def test_our_request_bodies_match_the_post_definitions():
    """What translate builds is what Sage's description asks for: required fields present, types right."""
    cust, thing = customer(), item()
    inv = invoice(cust.key, "RV-1", ("100.00", "20.00"))
    note = credit_note(cust.key, "CN-1", applied=(Allocation(inv.key, Decimal("10.00")),))
    pay = PaymentSnapshot(key="p", organization_id=1, number="PAY-1", customer_key=cust.key, date=dt.date.today(),
                          amount=Decimal("40.00"), allocations=(Allocation(inv.key, Decimal("40.00")),))
    mapping = Mapping(line_accounts=("a" * 32, "a" * 32), item_account="a" * 32, deposit_account="b" * 32,
                      refs={cust.key: "c" * 32, inv.key: "d" * 32})
    for wrapper, body in [("postContacts", {"contact": t.contact_payload(cust)}),
                          ("postServices", {"service": t.item_payload(thing, mapping)}),
                          ("postProducts", {"product": t.item_payload(thing, mapping, "e" * 32)}),
                          ("postSalesInvoices", {"sales_invoice": t.sales_payload(inv, mapping)}),
                          ("postSalesCreditNotes", {"sales_credit_note": t.sales_payload(note, mapping)}),
                          ("postContactPayments", {"contact_payment": t.payment_payload(pay, mapping)})]:
        check(wrapper, body)
    with pytest.raises(jsonschema.ValidationError):
        check("postSalesInvoices", {"sales_invoice": {"contact_id": "c" * 32}})  # the check can fail


def test_sandbox_answers_match_the_resource_definitions(sage, ssandbox):
    cid = contact(sage)
    inv = sales_invoice(sage, cid)
    paid = receipt(sage, cid, [(inv["id"], "10.00")], "10.00").body
    connector = SageConnector(ConnectionConfig("sage", "spec", ssandbox.company_id,
                                               SageConnector.sandbox_settings(ssandbox.base_url)),
                              lambda force: sage.token)
    answers = [("Contact", sage.ok("GET", f"contacts/{cid}")), ("ContactPayment", paid),
               ("SalesInvoice", sage.ok("GET", f"sales_invoices/{inv['id']}"))]
    answers += [(name, row) for path, name in [("ledger_accounts", "LedgerAccount"), ("tax_rates", "TaxRate"),
                                               ("bank_accounts", "BankAccount"), ("currencies", "Base")]
                for row in sage.ok("GET", path, {"attributes": "all"})["$items"]]
    for definition, body in answers:
        check(definition, body)
    assert connector.fetch("invoice", inv["id"]).total == Decimal("235.55")


def test_the_sandbox_filters_lists_only_by_parameters_sages_description_gives():
    from connectors.sage.sandbox.server import FILTERS
    for resource, names in FILTERS.items():
        given = {p["name"] for p in SPEC["paths"][f"/{resource}"]["get"]["parameters"]}
        assert names <= given, (resource, names - given)


def test_an_unknown_list_parameter_is_ignored_and_receipts_are_found_by_contact_and_date(sage):
    cid, other = contact(sage), contact(sage, "Other")
    inv = sales_invoice(sage, cid)
    paid = receipt(sage, cid, [(inv["id"], "10.00")], "10.00", reference="R-9").body
    everything = sage.ok("GET", "contact_payments", {"search": "no such reference"})["$items"]
    assert [r["id"] for r in everything] == [paid["id"]]  # no search on receipts in Sage's description
    day = {"from_date": "2026-12-02", "to_date": "2026-12-02"}
    assert [r["id"] for r in sage.ok("GET", "contact_payments", {"contact_id": cid, **day})["$items"]] == [paid["id"]]
    assert sage.ok("GET", "contact_payments", {"contact_id": other, **day})["$items"] == []
    assert sage.ok("GET", "contact_payments", {"contact_id": cid, "from_date": "2026-12-03"})["$items"] == []
    assert "_resource" not in json.dumps(paid, default=str)


# -- refunds, other payments, journals (issue 23) --------------------------------------------------------------------
def test_refund_expense_and_journal_bodies_and_answers_match_sages_description(sage):
    cust, bank = contact(sage), sage.named("bank_accounts", 1010, "nominal_code")["id"]
    sales = sage.named("ledger_accounts", "Sales")["id"]
    note = sage.ok("POST", "sales_credit_notes", body={"sales_credit_note": {
        "contact_id": cust, "date": "2026-12-01", "reference": "CN-9",
        "credit_note_lines": [{"description": "Return", "ledger_account_id": sales, "unit_price": "100.00"}]}})
    mapping = Mapping(line_accounts=(sales, sales), deposit_account=bank, refs={"c": cust, "n": note["id"]})
    money_back = refund("c", "RF-9", "n", "40.00")
    cost, entry = expense("EXP-9", ("20.00",)), journal("JE-9", "15.00")
    bodies = [("postContactPayments", {"contact_payment": costs.refund_payload(money_back, mapping)}),
              ("postOtherPayments", {"other_payment": costs.expense_payload(cost, mapping)}),
              ("postJournals", {"journal": costs.journal_payload(entry, mapping)})]
    for definition, body in bodies:
        check(definition, body)
    made = [sage.ok("POST", path, body=body) for path, (_, body) in zip(
        ("contact_payments", "other_payments", "journals"), bodies, strict=True)]
    for definition, answer in zip(("ContactPayment", "OtherPayment", "Journal"), made, strict=True):
        check(definition, answer)
    assert made[0]["transaction_type"]["id"] == "CUSTOMER_REFUND"
    assert sage.ok("GET", f"sales_credit_notes/{note['id']}")["outstanding_amount"] == Decimal("60.00")
    assert (made[1]["total_amount"], made[2]["total"]) == (Decimal("20.00"), Decimal("15.00"))


def test_a_refund_takes_no_more_than_the_credit_note_has_and_deleting_it_gives_the_credit_back(sage):
    cust, bank = contact(sage), sage.named("bank_accounts", 1010, "nominal_code")["id"]
    sales = sage.named("ledger_accounts", "Sales")["id"]
    note = sage.ok("POST", "sales_credit_notes", body={"sales_credit_note": {
        "contact_id": cust, "date": "2026-12-01", "reference": "CN-8",
        "credit_note_lines": [{"description": "Return", "ledger_account_id": sales, "unit_price": "50.00"}]}})

    def refund(value, **extra):
        return {"contact_payment": {"transaction_type_id": "CUSTOMER_REFUND", "contact_id": cust, "date": "2026-12-02",
                                    "bank_account_id": bank, "total_amount": value, "reference": "RF-8",
                                    "allocated_artefacts": [{"artefact_id": note["id"], "amount": f"-{value}"}],
                                    **extra}}
    error = sage.refused("POST", "contact_payments", 422, body=refund("50.01"))
    assert error["$source"] == "allocated_artefacts.0.amount"
    made = sage.ok("POST", "contact_payments", body=refund("50.00"))
    assert sage.ok("GET", f"sales_credit_notes/{note['id']}")["status"]["id"] == "PAID"
    sage.refused("DELETE", f"sales_credit_notes/{note['id']}", 422, params={"void_reason": "x"})  # refunded
    listed = sage.ok("GET", "contact_payments", {"transaction_type_id": "CUSTOMER_REFUND", "attributes": "all"})
    assert [r["id"] for r in listed["$items"]] == [made["id"]]
    sage.ok("DELETE", f"contact_payments/{made['id']}")
    assert sage.ok("GET", f"sales_credit_notes/{note['id']}")["outstanding_amount"] == Decimal("50.00")


def test_other_payment_lines_must_add_up_and_a_journal_must_balance_and_cannot_be_edited(sage):
    bank = sage.named("bank_accounts", 1010, "nominal_code")["id"]
    postage, gst = sage.named("ledger_accounts", "Postage and Shipping")["id"], sage.named("tax_rates", "GST 10%")["id"]
    line = {"ledger_account_id": postage, "tax_rate_id": gst, "net_amount": "50.00", "tax_amount": "5.00",
            "total_amount": "55.00"}
    payment = {"transaction_type_id": "OTHER_PAYMENT", "bank_account_id": bank, "date": "2026-12-02",
               "reference": "EXP-8", "total_amount": "55.00", "payment_lines": [line]}
    error = sage.refused("POST", "other_payments", 422, body={"other_payment": {**payment, "total_amount": "56.00"}})
    assert error["$source"] == "total_amount"
    made = sage.ok("POST", "other_payments", body={"other_payment": payment})
    assert (made["net_amount"], made["tax_amount"]) == (Decimal("50.00"), Decimal("5.00"))
    edited = sage.ok("PUT", f"other_payments/{made['id']}", body={"other_payment": {
        "total_amount": "22.00", "payment_lines": [{**line, "net_amount": "20.00", "tax_amount": "2.00",
                                                   "total_amount": "22.00"}]}})
    assert edited["total_amount"] == Decimal("22.00")
    lines = [{"ledger_account_id": postage, "debit": "100.00", "credit": "0"},
             {"ledger_account_id": sage.named("ledger_accounts", "Sales")["id"], "debit": "0", "credit": "90.00"}]
    error = sage.refused("POST", "journals", 422, body={"journal": {"date": "2026-12-02", "reference": "JE-8",
                                                                    "journal_lines": lines}})
    assert error["$source"] == "journal_lines" and "debits" in error["$message"]
    lines[1]["credit"] = "100.00"
    journal = sage.ok("POST", "journals", body={"journal": {"date": "2026-12-02", "reference": "JE-8",
                                                            "journal_lines": lines}})
    assert journal["total"] == Decimal("100.00")
    sage.refused("PUT", f"journals/{journal['id']}", 405, body={"journal": {"reference": "JE-8b"}})
    sage.ok("DELETE", f"journals/{journal['id']}")
    sage.refused("GET", f"journals/{journal['id']}", 404)

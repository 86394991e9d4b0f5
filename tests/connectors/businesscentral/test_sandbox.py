"""The Business Central sandbox over real loopback HTTP: Entra ID's grants, the company in the path, OData answers
(ETags, ``value``, ``@odata.nextLink``, ``$filter``), If-Match and the stale-ETag conflict, draft documents with
lines, post and cancel, payment journals, limits and faults in Business Central's shape, webhook subscriptions
with the validation handshake and renewal, and every answer checked against the vendored OpenAPI document. The
command line and the control endpoints every sandbox shares are tested once for all in tests/connectors/sandboxkit/.
"""
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import requests
import yaml

from connectors.businesscentral.connector import SANDBOX_ENVIRONMENT, SANDBOX_TENANT
from connectors.businesscentral.sandbox import COMPANY_ID, ENVIRONMENT, TENANT_ID
from connectors.businesscentral.sandbox.server import BCError
from tests.connectors.sandboxkit.wire import WireClient, inline_schema

SPEC = Path(__file__).resolve().parents[3] / "connectors" / "businesscentral" / "spec" / \
    "microsoft.dynamics365businesscentral.yaml"
COMPANY = f"companies({COMPANY_ID})"
CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}


class BC(WireClient):
    """Calls the way Microsoft's API pages show them: Bearer token, the company in the path, If-Match headers."""

    def __init__(self, sb, token=None):
        super().__init__(sb, "Bearer", {}, token)

    def send(self, method, path, body=None, headers=None, params=None):
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        data = json.dumps(body, default=str) if body is not None else None
        if data is not None:
            sent["Content-Type"] = "application/json"
        url = path if "://" in path else f"{self.sb.api_base}/{COMPANY}/{path}"
        response = requests.request(method, url, data=data, headers=sent, params=params, timeout=5)
        response.body = json.loads(response.content, parse_float=Decimal) if response.content else None
        return response

    def ok(self, method, path, body=None, headers=None, params=None):
        response = self.send(method, path, body, headers, params)
        assert response.status_code in (200, 201, 204), response.text
        return response.body

    def named(self, entity_set, field, value):
        return next(r for r in self.ok("GET", entity_set)["value"] if r[field] == value)


@pytest.fixture
def bc(bcsandbox):
    return BC(bcsandbox)


def customer(bc, name="Acme Ltd"):
    return bc.ok("POST", "customers", {"displayName": name})


def invoice(bc, customer_id, number="INV-100", lines=None):
    sales = bc.named("accounts", "displayName", "Sales, Services")["id"]
    lines = lines or [{"lineType": "Account", "accountId": sales, "description": "Consulting", "quantity": 2,
                       "unitPrice": "100.00", "taxCode": "GST10"},
                      {"lineType": "Account", "accountId": sales, "description": "Travel", "quantity": 1,
                       "unitPrice": "15.55"}]
    return bc.ok("POST", "salesInvoices", {"customerId": customer_id, "externalDocumentNumber": number,
                                           "invoiceDate": "2026-12-01", "salesInvoiceLines": lines})


def test_the_connector_points_at_the_sandbox_tenant():
    assert (SANDBOX_TENANT, SANDBOX_ENVIRONMENT) == (TENANT_ID, ENVIRONMENT)


# -- Entra ID ----------------------------------------------------------------------------------------------------
def test_consent_code_exchange_refresh_and_entra_error_body(bcsandbox):
    redirect = "https://host.example/callback"
    r = requests.get(bcsandbox.authorize_url, params={"client_id": "sandbox-client", "redirect_uri": redirect,
                                                      "response_type": "code", "state": "xyz",
                                                      "scope": "https://api.businesscentral.dynamics.com/.default"},
                     allow_redirects=False, timeout=5)
    assert r.status_code == 302 and bcsandbox.authorize_url.endswith(f"/{TENANT_ID}/oauth2/v2.0/authorize")
    query = {k: v[-1] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    grant = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": redirect, **CLIENT}
    tokens = requests.post(bcsandbox.token_url, data=grant, timeout=5).json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"] and query["state"] == "xyz"
    again = requests.post(bcsandbox.token_url, data=grant, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert again.json()["error_description"].startswith("AADSTS") and again.json()["error_codes"]
    refreshed = requests.post(bcsandbox.token_url, data={"grant_type": "refresh_token",
                                                         "refresh_token": tokens["refresh_token"], **CLIENT},
                              timeout=5).json()
    assert BC(bcsandbox, refreshed["access_token"]).send("GET", "customers").status_code == 200


def test_client_credentials_gives_an_app_token_without_refresh_token(bcsandbox):
    answer = requests.post(bcsandbox.token_url, data={
        "grant_type": "client_credentials", "scope": "https://api.businesscentral.dynamics.com/.default", **CLIENT},
        timeout=5)
    assert answer.status_code == 200 and "refresh_token" not in answer.json()
    assert BC(bcsandbox, answer.json()["access_token"]).send("GET", "customers").status_code == 200
    unscoped = requests.post(bcsandbox.token_url, data={"grant_type": "client_credentials", "scope": "x", **CLIENT},
                             timeout=5)
    assert unscoped.status_code == 400 and unscoped.json()["error"] == "invalid_scope"
    wrong = requests.post(bcsandbox.token_url, data={"grant_type": "client_credentials",
                                                     "scope": "https://api.businesscentral.dynamics.com/.default",
                                                     "client_id": "sandbox-client", "client_secret": "nope"},
                          timeout=5)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


def test_admin_consent_page_redirects_back_with_the_tenant(bcsandbox):
    page = f"{bcsandbox.base_url}/{TENANT_ID}/adminconsent"
    r = requests.get(page, params={"client_id": "sandbox-client", "redirect_uri": "https://host.example/cb",
                                   "state": "s1"}, allow_redirects=False, timeout=5)
    query = {k: v[-1] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    assert r.status_code == 302 and query == {"admin_consent": "True", "tenant": TENANT_ID, "state": "s1"}
    wrong = requests.get(page, params={"client_id": "other", "redirect_uri": "https://host.example/cb"}, timeout=5)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"


def test_token_required_and_expires(bc, bcsandbox):
    missing = BC(bcsandbox, "not-a-token").send("GET", "customers")
    assert missing.status_code == 401 and missing.body["error"]["code"] == "Authentication_InvalidCredentials"
    bcsandbox.clock.advance(3601)
    assert bc.send("GET", "customers").status_code == 401


# -- OData: companies, entities, ETags -------------------------------------------------------------------------
def test_companies_and_the_company_in_every_path(bc, bcsandbox):
    listed = bc.ok("GET", f"{bcsandbox.api_base}/companies")
    assert [c["id"] for c in listed["value"]] == [COMPANY_ID] and "@odata.context" in listed
    other = bc.send("GET", f"{bcsandbox.api_base}/companies(11111111-2222-3333-4444-555555555555)/customers")
    assert other.status_code == 404 and other.body["error"]["code"] == "BadRequest_NotFound"
    assert "CorrelationId" in other.body["error"]["message"]
    assert bc.ok("GET", "companyInformation")["value"][0]["currencyCode"] == "USD"


def test_customer_created_with_etag_and_updated_only_with_if_match(bc):
    made = customer(bc)
    assert made["number"].startswith("C") and made["@odata.etag"].startswith('W/"') and made["blocked"] == " "
    path = f"customers({made['id']})"
    assert bc.send("PATCH", path, {"displayName": "No header"}).body["error"]["code"] == "BadRequest_InvalidToken"
    changed = bc.ok("PATCH", path, {"displayName": "Acme Two"}, {"If-Match": made["@odata.etag"]})
    assert changed["displayName"] == "Acme Two" and changed["@odata.etag"] != made["@odata.etag"]
    stale = bc.send("PATCH", path, {"displayName": "Stale"}, {"If-Match": made["@odata.etag"]})
    assert stale.status_code == 409 and stale.body["error"]["code"] == "Request_EntityChanged"
    assert bc.ok("GET", path)["displayName"] == "Acme Two"
    assert bc.send("DELETE", path, headers={"If-Match": made["@odata.etag"]}).status_code == 409
    read_only = bc.send("PATCH", path, {"number": "X1"}, {"If-Match": "*"})
    assert read_only.status_code == 400 and "read-only" in read_only.body["error"]["message"]
    unknown = bc.send("POST", "customers", {"displayName": "A", "nickname": "B"})
    assert unknown.status_code == 400 and unknown.body["error"]["code"] == "BadRequest_PropertyNotFound"


def test_filter_orderby_and_server_driven_paging(bc, bcsandbox):
    for n in range(5):
        customer(bc, f"Page {n}")
    first = bc.ok("GET", "customers", headers={"Prefer": "odata.maxpagesize=2"},
                  params={"$filter": "type eq 'Company'",
                          "$orderby": "displayName desc"})
    names = [r["displayName"] for r in first["value"]]
    link = first["@odata.nextLink"]
    while link:
        page = bc.ok("GET", link, headers={"Prefer": "odata.maxpagesize=2"})
        names += [r["displayName"] for r in page["value"]]
        link = page.get("@odata.nextLink")
    assert names == [f"Page {n}" for n in range(4, -1, -1)]
    one = bc.ok("GET", "customers", params={"$filter": "displayName eq 'Page 3'"})["value"]
    assert [r["displayName"] for r in one] == ["Page 3"]
    quoted = customer(bc, "O'Brien")
    found = bc.ok("GET", "customers", params={"$filter": "displayName eq 'O''Brien'"})["value"]
    assert [r["id"] for r in found] == [quoted["id"]]
    bad = bc.send("GET", "customers", params={"$filter": "nickname eq 'x'"})
    assert bad.status_code == 400 and "nickname" in bad.body["error"]["message"]


def test_last_modified_filter_reports_only_what_changed_since(bc, bcsandbox):
    old = customer(bc, "Old")
    bcsandbox.clock.advance(10)
    since = bc.ok("GET", f"customers({old['id']})")["lastModifiedDateTime"]
    bcsandbox.clock.advance(10)
    new = customer(bc, "New")
    rows = bc.ok("GET", "customers", params={"$filter": f"lastModifiedDateTime gt {since}"})["value"]
    assert [r["id"] for r in rows] == [new["id"]]


# -- documents ---------------------------------------------------------------------------------------------------
def test_invoice_deep_insert_totals_lines_post_and_cancel(bc):
    cust = customer(bc)
    made = invoice(bc, cust["id"])
    assert made["status"] == "Draft" and made["number"].startswith("S-INV")
    assert made["totalAmountExcludingTax"] == Decimal("215.55") and made["totalTaxAmount"] == Decimal("20.00")
    assert made["totalAmountIncludingTax"] == Decimal("235.55") == made["remainingAmount"]
    read = bc.ok("GET", f"salesInvoices({made['id']})", params={"$expand": "salesInvoiceLines"})
    assert [line["amountIncludingTax"] for line in read["salesInvoiceLines"]] == [Decimal("220.00"),
                                                                                 Decimal("15.55")]
    assert bc.ok("POST", f"salesInvoices({made['id']})/Microsoft.NAV.post") is None  # 204 No Content
    posted = bc.ok("GET", f"salesInvoices({made['id']})")
    assert posted["id"] == made["id"] and posted["status"] == "Open" and posted["number"].startswith("PS-INV")
    refused = bc.send("PATCH", f"salesInvoices({made['id']})", {"externalDocumentNumber": "X"}, {"If-Match": "*"})
    assert refused.status_code == 400 and refused.body["error"]["code"] == "Application_DialogException"
    assert bc.send("DELETE", f"salesInvoices({made['id']})", headers={"If-Match": "*"}).status_code == 400
    bc.ok("POST", f"salesInvoices({made['id']})/Microsoft.NAV.cancel")
    cancelled = bc.ok("GET", f"salesInvoices({made['id']})")
    assert cancelled["status"] == "Canceled" and cancelled["remainingAmount"] == Decimal("0.00")


def test_draft_lines_are_changed_one_by_one_with_their_own_etags(bc):
    made = invoice(bc, customer(bc)["id"])
    lines = bc.ok("GET", f"salesInvoices({made['id']})/salesInvoiceLines")["value"]
    path = f"salesInvoices({made['id']})/salesInvoiceLines('{lines[1]['id']}')"
    bc.ok("PATCH", path, {"unitPrice": "20.00"}, {"If-Match": lines[1]["@odata.etag"]})
    assert bc.send("PATCH", path, {"unitPrice": "30.00"}, {"If-Match": lines[1]["@odata.etag"]}).status_code == 409
    bc.ok("DELETE", f"salesInvoices({made['id']})/salesInvoiceLines('{lines[0]['id']}')", headers={"If-Match": "*"})
    assert bc.ok("GET", f"salesInvoices({made['id']})")["totalAmountIncludingTax"] == Decimal("20.00")


def test_blocked_account_and_unknown_tax_group_are_refused_in_business_centrals_words(bc, bcsandbox):
    cust = customer(bc)
    account = bc.named("accounts", "displayName", "Sales, Services")
    bcsandbox.act_as_user("archive_account", account_id=account["id"])
    blocked = bc.send("POST", "salesInvoices", {"customerId": cust["id"], "salesInvoiceLines": [
        {"lineType": "Account", "accountId": account["id"], "quantity": 1, "unitPrice": "5.00"}]})
    assert blocked.status_code == 400 and "Blocked must be equal to 'No' in G/L Account" in \
        blocked.body["error"]["message"] and blocked.body["error"]["code"] == "Application_FieldValidationException"
    other = bc.named("accounts", "displayName", "Consulting Income")["id"]
    no_tax = bc.send("POST", "salesInvoices", {"customerId": cust["id"], "salesInvoiceLines": [
        {"lineType": "Account", "accountId": other, "quantity": 1, "unitPrice": "5.00", "taxCode": "NOPE"}]})
    assert "(Tax Group)" in no_tax.body["error"]["message"]
    assert no_tax.body["error"]["code"] == "Internal_InvalidTableRelation"


def test_posted_credit_memo_applied_to_a_posted_invoice_lowers_what_remains(bc):
    cust = customer(bc)
    inv = invoice(bc, cust["id"])
    sales = bc.named("accounts", "displayName", "Sales, Services")["id"]
    memo = bc.ok("POST", "salesCreditMemos", {"customerId": cust["id"], "invoiceId": inv["id"],
                                              "salesCreditMemoLines": [{"lineType": "Account", "accountId": sales,
                                                                        "quantity": 1, "unitPrice": "35.55"}]})
    assert memo["invoiceNumber"] == inv["number"] and memo["status"] == "Draft"
    refused = bc.send("POST", f"salesCreditMemos({memo['id']})/Microsoft.NAV.post")
    assert refused.status_code == 400  # its invoice is still a draft
    bc.ok("POST", f"salesInvoices({inv['id']})/Microsoft.NAV.post")
    bc.ok("POST", f"salesCreditMemos({memo['id']})/Microsoft.NAV.post")
    assert bc.ok("GET", f"salesInvoices({inv['id']})")["remainingAmount"] == Decimal("200.00")


def test_customer_payments_are_lines_of_a_payment_journal(bc, bcsandbox):
    cust = customer(bc)
    inv = invoice(bc, cust["id"])
    bank = bc.named("accounts", "displayName", "Savings account")
    journal = bc.ok("POST", "customerPaymentJournals", {"code": "sync1", "displayName": "Sync",
                                                        "balancingAccountId": bank["id"]})
    assert journal["code"] == "SYNC1" and journal["balancingAccountNumber"] == bank["number"]
    taken = bc.send("POST", "customerPaymentJournals", {"code": "SYNC1"})
    assert taken.status_code == 400 and "already exists" in taken.body["error"]["message"]
    line = bc.ok("POST", f"customerPaymentJournals({journal['id']})/customerPayments", {
        "customerId": cust["id"], "amount": "-50.00", "appliesToInvoiceId": inv["id"], "postingDate": "2026-12-02",
        "externalDocumentNumber": "PAY-1"})
    assert line["journalDisplayName"] == "SYNC1" and line["lineNumber"] == 10000
    assert line["appliesToInvoiceNumber"] == inv["number"] and line["amount"] == Decimal("-50.00")
    listed = bc.ok("GET", "customerPayments", params={"$filter": "externalDocumentNumber eq 'PAY-1'"})["value"]
    assert [r["id"] for r in listed] == [line["id"]]
    in_journal = bc.ok("GET", f"customerPaymentJournals({journal['id']})/customerPayments")["value"]
    assert [r["id"] for r in in_journal] == [line["id"]]
    assert bc.send("DELETE", f"customerPaymentJournals({journal['id']})", headers={"If-Match": "*"}) \
        .status_code == 400  # a journal with lines is not deleted
    receipt = bc.send("POST", "customerPayments", {"customerId": cust["id"], "amount": "50.00"})
    assert receipt.status_code == 400 and receipt.body["error"]["message"].startswith(
        'The "amount" should be a negative number.')
    bc.ok("DELETE", f"customerPayments({line['id']})")  # DELETE checks If-Match only when it is sent
    assert bc.send("GET", f"customerPayments({line['id']})").status_code == 404


def test_what_a_bookkeeper_does(bc, bcsandbox):
    inv = invoice(bc, customer(bc)["id"])
    paid = bcsandbox.act_as_user("record_payment", invoice_id=inv["id"], amount="10.00", reference="CHK-1")
    assert paid["amount"] == Decimal("-10.00") and paid["externalDocumentNumber"] == "CHK-1"
    edited = bcsandbox.act_as_user("edit_invoice_line", invoice_id=inv["id"], line=1, amount="30.00")
    assert edited["totalAmountIncludingTax"] == Decimal("250.00")
    voided = bcsandbox.act_as_user("void_invoice", invoice_id=inv["id"])
    assert voided["status"] == "Canceled"
    with pytest.raises(BCError, match="cannot delete a posted sales invoice"):
        bcsandbox.act_as_user("delete_invoice", invoice_id=inv["id"])  # posted: cannot be deleted


# -- limits and faults -------------------------------------------------------------------------------------------
def test_rate_limit_429_with_retry_after_then_the_window_moves_on(bc, bcsandbox):
    bcsandbox.settings({"limits": {"window": [2, 300]}})
    bc.ok("GET", "customers")
    bc.ok("GET", "customers")
    refused = bc.send("GET", "customers")
    assert refused.status_code == 429 and refused.body["error"]["code"] == "Application_TooManyRequests"
    assert int(refused.headers["Retry-After"]) >= 1
    bcsandbox.clock.advance(301)
    assert bc.send("GET", "customers").status_code == 200


def test_injected_503_says_when_to_retry(bc, bcsandbox):
    bcsandbox.faults.add("http_503")
    answer = bc.send("GET", "customers")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
    assert answer.body["error"]["code"] == "ServiceUnavailable"


# -- webhooks ----------------------------------------------------------------------------------------------------
class Receiver:
    """A subscriber: answers the validation handshake with the token (or refuses when ``refuse``), keeps posts."""

    def __init__(self):
        self.posts, self.refuse = [], False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token = parse_qs(urlsplit(self.path).query).get("validationToken", [""])[0]
                answer = b"" if owner.refuse else token.encode()
                if not token:
                    owner.posts.append(json.loads(body))
                self.send_response(400 if owner.refuse and token else 200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bc-hook"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def test_subscription_handshake_notification_and_renewal(bc, bcsandbox, receiver):
    subscriptions = f"{bcsandbox.api_base}/subscriptions"
    resource = f"api/v2.0/companies({COMPANY_ID})/salesInvoices"
    made = bc.ok("POST", subscriptions, {"notificationUrl": receiver.url, "resource": resource,
                                         "clientState": "our-secret"})
    assert made["clientState"] == "our-secret" and made["expirationDateTime"]
    inv = invoice(bc, customer(bc)["id"])
    sent = bcsandbox.notify()
    assert [s["status"] for s in sent] == [200]
    [note] = receiver.posts[0]["value"]
    assert note["resource"].endswith(f"salesInvoices({inv['id']})") and note["changeType"] == "created"
    assert note["clientState"] == "our-secret" and note["subscriptionId"] == made["subscriptionId"]
    bcsandbox.clock.advance(86400)
    bc.token = bcsandbox.issue_tokens()["access_token"]  # a day later: a fresh token
    renewed = bc.ok("PATCH", f"{subscriptions}('{made['subscriptionId']}')", {},
                    {"If-Match": made["@odata.etag"]})
    assert renewed["expirationDateTime"] > made["expirationDateTime"]
    stale = bc.send("PATCH", f"{subscriptions}('{made['subscriptionId']}')", {}, {"If-Match": made["@odata.etag"]})
    assert stale.status_code == 409
    bcsandbox.clock.advance(4 * 86400)  # not renewed again: expired, nothing more is sent
    bc.token = bcsandbox.issue_tokens()["access_token"]
    invoice(bc, customer(bc, "Later")["id"], number="INV-101")
    assert bcsandbox.notify() == []


def test_subscription_refused_when_the_handshake_fails(bc, bcsandbox, receiver):
    receiver.refuse = True
    answer = bc.send("POST", f"{bcsandbox.api_base}/subscriptions", {
        "notificationUrl": receiver.url, "resource": f"api/v2.0/companies({COMPANY_ID})/customers"})
    assert answer.status_code == 400 and answer.body["error"]["code"] == "Application_InvalidSubscription"
    assert bc.ok("GET", f"{bcsandbox.api_base}/subscriptions")["value"] == []


# -- the vendored OpenAPI document -------------------------------------------------------------------------------
def _loose(schema):
    """The generated document marks properties ``nullable`` (OpenAPI 3.0), which JSON Schema spells as a type."""
    for prop in (schema.get("properties") or {}).values():
        if isinstance(prop, dict) and prop.get("nullable") and isinstance(prop.get("type"), str):
            prop["type"] = [prop["type"], "null"]


@pytest.fixture(scope="module")
def spec():
    assert SPEC.exists(), f"vendored spec missing: {SPEC}"
    return yaml.safe_load(SPEC.read_text())


def test_answers_match_the_vendored_schemas(bc, spec):
    cust = customer(bc)
    inv = invoice(bc, cust["id"])
    bank = bc.named("accounts", "displayName", "Checking account")
    journal = bc.named("customerPaymentJournals", "code", "GENERAL")
    pay = bc.ok("POST", f"customerPaymentJournals({journal['id']})/customerPayments",
                {"customerId": cust["id"], "amount": "-5.00", "appliesToInvoiceId": inv["id"]})
    memo = bc.ok("POST", "salesCreditMemos", {"customerId": cust["id"], "salesCreditMemoLines": [
        {"lineType": "Account", "accountId": bc.named("accounts", "displayName", "Sales, Services")["id"],
         "quantity": 1, "unitPrice": "1.00"}]})
    item = bc.ok("POST", "items", {"displayName": "Grooming", "type": "Service", "unitPrice": "25.00"})
    lines = bc.ok("GET", f"salesInvoices({inv['id']})/salesInvoiceLines")["value"]
    checked = {"customer": cust, "salesInvoice": inv, "customerPayment": pay, "salesCreditMemo": memo,
               "item": item, "account": bank, "customerPaymentJournal": journal,
               "taxGroup": bc.named("taxGroups", "code", "GST10"), "salesInvoiceLine": lines[0]}
    for name, body in checked.items():
        schema = inline_schema(spec, f"#/components/schemas/{name}", _loose)
        shared = {k: v for k, v in body.items() if not k.startswith("@odata.")}
        jsonschema.validate(shared, schema)
        known = set(schema["properties"])
        assert len(known & set(shared)) >= min(5, len(known)), name  # the same entity, not a lookalike


def test_buying_and_journal_answers_match_the_vendored_schemas(bc, spec):
    vendor = bc.ok("POST", "vendors", {"displayName": "Parcel Express", "currencyCode": "EUR"})
    account = bc.named("accounts", "displayName", "Freight and Shipping")
    bill = bc.ok("POST", "purchaseInvoices", {"vendorId": vendor["id"], "vendorInvoiceNumber": "EXP-1",
                                              "purchaseInvoiceLines": [{"lineType": "Account",
                                                                        "accountId": account["id"],
                                                                        "unitCost": "50.00", "taxCode": "GST10"}]})
    assert bill["currencyCode"] == "EUR" and bill["totalAmountIncludingTax"] == Decimal("55.00")
    batch = bc.ok("POST", "journals", {"code": "sy1", "displayName": "JE-1"})
    assert batch["code"] == "SY1" and batch["templateDisplayName"] == "GENERAL"
    taken = bc.send("POST", "journals", {"code": "SY1"})
    assert taken.status_code == 400 and "already exists" in taken.body["error"]["message"]
    line = bc.ok("POST", f"journals({batch['id']})/journalLines", {
        "accountId": account["id"], "amount": "10.00", "documentNumber": "JE-1", "postingDate": "2026-12-03"})
    assert line["accountType"] == "G/L Account" and line["lineNumber"] == 10000
    customer_line = bc.send("POST", f"journals({batch['id']})/journalLines", {"accountType": "Customer"})
    assert customer_line.status_code == 400
    checked = {"vendor": vendor, "purchaseInvoice": bill, "journal": batch, "journalLine": line,
               "purchaseInvoiceLine": bc.ok("GET", f"purchaseInvoices({bill['id']})/purchaseInvoiceLines")["value"][0]}
    for name, body in checked.items():
        schema = inline_schema(spec, f"#/components/schemas/{name}", _loose)
        shared = {k: v for k, v in body.items() if not k.startswith("@odata.")}
        jsonschema.validate(shared, schema)
        known = set(schema["properties"])
        assert len(known & set(shared)) >= min(5, len(known)), name

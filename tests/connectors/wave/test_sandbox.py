"""The Wave sandbox answers real GraphQL (parsed, validated and executed against the vendored SDL) over loopback
HTTP: Wave's auth, business errors as ``didSucceed: false``, exact money, paging, deletes and the limit."""
from decimal import Decimal

import requests

CUSTOMER = "mutation($i: CustomerCreateInput!) { customerCreate(input: $i) { didSucceed customer { id name } } }"
PRODUCT = "mutation($i: ProductCreateInput!) { productCreate(input: $i) { didSucceed product { id unitPrice } } }"
INVOICE = """mutation($i: InvoiceCreateInput!) { invoiceCreate(input: $i) { didSucceed
  inputErrors { message code path } invoice { id status invoiceNumber subtotal { value } taxTotal { value }
  total { value } amountDue { value } items { quantity unitPrice subtotal { value } } } } }"""
PAY = """mutation($i: InvoicePaymentCreateManualInput!) { invoicePaymentCreateManual(input: $i) { didSucceed
  inputErrors { message code } invoicePayment { id amount { value } } } }"""


def gql(sb, query, variables=None, token=None):
    token = token or sb.issue_tokens()["access_token"]
    response = requests.post(sb.api_base, json={"query": query, "variables": variables or {}},
                             headers={"Authorization": f"Bearer {token}"}, timeout=5)
    return response.status_code, response.json(parse_float=Decimal)


def first_node(sb, field, args=""):
    query = "query($b: ID!) { business(id: $b) { " + field + args + " { edges { node { id name } } } } }"
    _, body = gql(sb, query, {"b": sb.business_id})
    return body["data"]["business"][field]["edges"][0]["node"]


def setup_invoice(sb, status="SAVED", number="INV-1"):
    _, c = gql(sb, CUSTOMER, {"i": {"businessId": sb.business_id, "name": "Acme Ltd"}})
    _, p = gql(sb, PRODUCT, {"i": {"businessId": sb.business_id, "name": "Widget", "unitPrice": "12.50"}})
    tax = first_node(sb, "salesTaxes")["id"]
    items = [{"productId": p["data"]["productCreate"]["product"]["id"], "quantity": "3", "unitPrice": "12.50",
              "taxes": [{"salesTaxId": tax}]}]
    _, body = gql(sb, INVOICE, {"i": {"businessId": sb.business_id, "status": status, "invoiceNumber": number,
                                      "customerId": c["data"]["customerCreate"]["customer"]["id"], "items": items}})
    return body["data"]["invoiceCreate"]


def test_invoice_totals_are_exact_and_taxed_per_line(wsandbox):
    created = setup_invoice(wsandbox)
    assert created["didSucceed"] is True and created["inputErrors"] == []
    invoice = created["invoice"]
    assert invoice["subtotal"]["value"] == "37.50" and invoice["taxTotal"]["value"] == "3.75"
    assert invoice["total"]["value"] == "41.25" and invoice["amountDue"]["value"] == "41.25"
    assert invoice["items"] == [{"quantity": "3", "unitPrice": "12.50", "subtotal": {"value": "37.50"}}]
    assert invoice["status"] == "SAVED"


def test_duplicate_invoice_number_is_a_business_error_with_http_200(wsandbox):
    setup_invoice(wsandbox)
    again = setup_invoice(wsandbox)
    assert again["didSucceed"] is False and again["invoice"] is None
    assert again["inputErrors"][0]["code"] == "DUPLICATE"
    assert again["inputErrors"][0]["path"] == ["input", "invoiceNumber"]


def test_draft_is_approved_then_paid_then_cannot_be_deleted(wsandbox):
    invoice = setup_invoice(wsandbox, status="DRAFT")["invoice"]
    assert invoice["status"] == "DRAFT"
    account = first_node(wsandbox, "accounts", "(subtypes: [CASH_AND_BANK])")["id"]
    payment = {"invoiceId": invoice["id"], "amount": "10.00", "paymentDate": "2026-12-01",
               "paymentAccountId": account, "paymentMethod": "CASH"}
    refused = gql(wsandbox, PAY, {"i": payment})[1]["data"]["invoicePaymentCreateManual"]
    assert refused["didSucceed"] is False
    approve = "mutation($i: InvoiceApproveInput!) { invoiceApprove(input: $i) { didSucceed invoice { status } } }"
    approved = gql(wsandbox, approve, {"i": {"invoiceId": invoice["id"]}})[1]["data"]["invoiceApprove"]
    assert approved == {"didSucceed": True, "invoice": {"status": "SAVED"}}
    paid = gql(wsandbox, PAY, {"i": payment})[1]["data"]["invoicePaymentCreateManual"]
    assert paid["didSucceed"] is True and paid["invoicePayment"]["amount"]["value"] == "10.00"
    _, read = gql(wsandbox, "query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { status "
                            "amountPaid { value } amountDue { value } } } }", {"b": wsandbox.business_id,
                                                                             "i": invoice["id"]})
    assert read["data"]["business"]["invoice"] == {"status": "PARTIAL", "amountPaid": {"value": "10.00"},
                                                   "amountDue": {"value": "31.25"}}
    delete = "mutation($i: InvoiceDeleteInput!) { invoiceDelete(input: $i) { didSucceed inputErrors { message } } }"
    assert gql(wsandbox, delete, {"i": {"invoiceId": invoice["id"]}})[1]["data"]["invoiceDelete"]["didSucceed"] is False


def test_deleted_invoice_reads_as_null(wsandbox):
    invoice = setup_invoice(wsandbox)["invoice"]
    delete = "mutation($i: InvoiceDeleteInput!) { invoiceDelete(input: $i) { didSucceed } }"
    assert gql(wsandbox, delete, {"i": {"invoiceId": invoice["id"]}})[1]["data"]["invoiceDelete"]["didSucceed"]
    _, read = gql(wsandbox, "query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { id } } }",
                  {"b": wsandbox.business_id, "i": invoice["id"]})
    assert read["data"]["business"]["invoice"] is None


def test_unknown_field_is_a_validation_error_not_a_guess(wsandbox):
    status, body = gql(wsandbox, "{ business { invoicez { edges { node { id } } } } }")
    assert status == 400 and "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "invoicez" in body["errors"][0]["message"]


def test_float_decimal_literal_is_refused_and_text_is_exact(wsandbox):
    _, body = gql(wsandbox, PRODUCT, {"i": {"businessId": wsandbox.business_id, "name": "Bolt", "unitPrice": "0.10"}})
    assert body["data"]["productCreate"]["product"]["unitPrice"] == "0.10"


def test_bad_and_expired_tokens_are_401_unauthenticated(wsandbox):
    status, body = gql(wsandbox, "{ user { id } }", token="nope")
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    token = wsandbox.issue_tokens()["access_token"]
    wsandbox.clock.advance(7201)
    assert gql(wsandbox, "{ user { id } }", token=token)[0] == 401


def test_paging_counts_and_slices(wsandbox):
    for n in range(3):
        gql(wsandbox, CUSTOMER, {"i": {"businessId": wsandbox.business_id, "name": f"C{n}"}})
    _, body = gql(wsandbox, "query($b: ID!) { business(id: $b) { customers(page: 2, pageSize: 2) { pageInfo "
                            "{ currentPage totalPages totalCount } edges { node { name } } } } }",
                  {"b": wsandbox.business_id})
    page = body["data"]["business"]["customers"]
    assert page["pageInfo"] == {"currentPage": 2, "totalPages": 2, "totalCount": 3}
    assert [e["node"]["name"] for e in page["edges"]] == ["C2"]


def test_rate_limit_is_429_with_retry_after(wsandbox):
    wsandbox.settings({"limits": {"minute": [1, 60]}})
    token = wsandbox.issue_tokens()["access_token"]
    assert gql(wsandbox, "{ user { id } }", token=token)[0] == 200
    response = requests.post(wsandbox.api_base, json={"query": "{ user { id } }"},
                             headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_token_endpoint_refreshes_and_rotates(wsandbox):
    tokens = wsandbox.issue_tokens()
    response = requests.post(wsandbox.token_url, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": wsandbox.client_id, "client_secret": wsandbox.auth.client_secret}, timeout=5)
    assert response.status_code == 200
    fresh = response.json()
    assert fresh["access_token"] != tokens["access_token"] and fresh["refresh_token"] != tokens["refresh_token"]
    assert gql(wsandbox, "{ user { id } }", token=fresh["access_token"])[0] == 200


def test_a_query_waits_as_a_read_and_a_mutation_as_a_write(wsandbox):
    """GraphQL sends everything as a POST to one endpoint; the simulated latency tells them apart by operation."""
    slept = []
    wsandbox.latency.set({"read": 0.011, "write": 0.022})
    wsandbox.latency.sleep = slept.append
    token = wsandbox.issue_tokens()["access_token"]
    first_node(wsandbox, "salesTaxes")
    gql(wsandbox, CUSTOMER, {"i": {"businessId": wsandbox.business_id, "name": "Acme Ltd"}}, token=token)
    gql(wsandbox, "{ user { id } }", token=token)  # the query shorthand
    requests.post(wsandbox.api_base, data="not json", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert slept[-4:] == [0.011, 0.022, 0.011, 0.022]

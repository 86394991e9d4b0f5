"""Independent check: ``gql`` (a maintained GraphQL client, with its requests transport) talks to the Wave sandbox.

gql validates each document against the vendored SDL before sending it, and parses the answer itself: our own
request code takes no part. Skipped with a reason when gql is not installed (requirement: ``gql[requests]>=3.5``).
"""
from decimal import Decimal
from pathlib import Path

import pytest

gql_module = pytest.importorskip("gql", reason="gql is not installed: pip install 'gql[requests]>=3.5'")
transport_module = pytest.importorskip("gql.transport.requests",
                                       reason="gql's requests transport is not installed: gql[requests]")

SDL = (Path(__file__).resolve().parents[3] / "connectors" / "wave" / "spec" / "schema.graphql").read_text()


def run(session, query, variables=None):
    """gql 4 carries variables on the request; gql 3 takes them as an argument."""
    request = gql_module.gql(query)
    if hasattr(request, "variable_values"):
        request.variable_values = variables
        return session.execute(request)
    return session.execute(request, variable_values=variables)


@pytest.fixture
def client(wsandbox):
    transport = transport_module.RequestsHTTPTransport(
        url=wsandbox.api_base, headers={"Authorization": f"Bearer {wsandbox.issue_tokens()['access_token']}"},
        timeout=5, retries=0)
    with gql_module.Client(transport=transport, schema=SDL) as session:
        yield session


def test_gql_creates_a_customer_product_and_invoice_and_reads_the_totals(client, wsandbox):
    business = wsandbox.business_id
    customer = run(client, "mutation($i: CustomerCreateInput!)"
                   " { customerCreate(input: $i) { didSucceed customer { id } } }",
        {"i": {"businessId": business, "name": "Acme Ltd", "currency": "USD"}})
    product = run(client, "mutation($i: ProductCreateInput!)"
                  " { productCreate(input: $i) { didSucceed product { id } } }",
        {"i": {"businessId": business, "name": "Widget", "unitPrice": "12.50"}})
    invoice = run(client, """mutation($i: InvoiceCreateInput!) { invoiceCreate(input: $i) { didSucceed
        inputErrors { message }
        invoice { id invoiceNumber total { value currency { code } } } } }""",
        {"i": {"businessId": business, "customerId": customer["customerCreate"]["customer"]["id"],
               "invoiceNumber": "A-1", "items": [{"productId": product["productCreate"]["product"]["id"],
                                                  "quantity": "2", "unitPrice": "12.50"}]}})
    created = invoice["invoiceCreate"]
    assert created["didSucceed"] is True
    assert Decimal(created["invoice"]["total"]["value"]) == Decimal("25.00")
    assert created["invoice"]["total"]["currency"]["code"] == "USD"
    read = run(client, "query($b: ID!) { business(id: $b) { invoices(invoiceNumber: \"A-1\") "
               "{ pageInfo { totalCount } "
        "edges { node { id amountDue { value } } } } } }", {"b": business})
    page = read["business"]["invoices"]
    assert page["pageInfo"]["totalCount"] == 1
    assert page["edges"][0]["node"] == {"id": created["invoice"]["id"], "amountDue": {"value": "25.00"}}


def test_the_vendored_schema_rejects_a_field_wave_does_not_have(client):
    with pytest.raises(Exception, match="notAField"):
        run(client, "{ user { notAField } }")

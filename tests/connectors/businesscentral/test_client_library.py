"""An independent check of the sandbox: ``pybusinesscentral``, a Python client generated from Microsoft's API v2.0
description (published on PyPI), talks to the sandbox. Its paths, headers (``If-Match``), bound actions and
models are not ours, so a sandbox that drifted from Business Central's wire shape fails here. The client models
money as float: amounts are read back from the raw answers with Decimal."""
import json
from decimal import Decimal

import pytest

pybc = pytest.importorskip("pybusinesscentral")
from pybusinesscentral.api.account_api import AccountApi  # noqa: E402
from pybusinesscentral.api.customer_api import CustomerApi  # noqa: E402
from pybusinesscentral.api.sales_invoice_api import SalesInvoiceApi  # noqa: E402
from pybusinesscentral.api_client import ApiClient  # noqa: E402
from pybusinesscentral.configuration import Configuration  # noqa: E402
from pybusinesscentral.exceptions import ApiException  # noqa: E402
from pybusinesscentral.model.post_customer_request import PostCustomerRequest  # noqa: E402
from pybusinesscentral.model.post_sales_invoice_request import PostSalesInvoiceRequest  # noqa: E402
from pybusinesscentral.model.sales_invoice_line import SalesInvoiceLine  # noqa: E402

JSON = "application/json"


@pytest.fixture
def api(bcsandbox):
    config = Configuration(host=bcsandbox.api_base, access_token=bcsandbox.issue_tokens()["access_token"])
    return ApiClient(config)


def raw(response) -> dict:
    return json.loads(response.data, parse_float=Decimal)


def test_the_generated_client_creates_reads_posts_and_filters(api, bcsandbox):
    company = bcsandbox.company_id
    customers, invoices = CustomerApi(api), SalesInvoiceApi(api)
    made = customers.post_customer(company, JSON, PostCustomerRequest(display_name="Library Ltd", type="Company"))
    assert made.display_name == "Library Ltd" and made.number.startswith("C")
    accounts = AccountApi(api).list_accounts(company, filter="displayName eq 'Sales, Services'").value
    assert [a.number for a in accounts] == ["40100"]
    request = PostSalesInvoiceRequest(customer_id=made.id, external_document_number="LIB-1", sales_invoice_lines=[
        SalesInvoiceLine(line_type="Account", account_id=accounts[0].id, description="Grooming", quantity=3,
                         unit_price=25, tax_code="GST10")])
    invoice = invoices.post_sales_invoice(company, JSON, request)
    assert invoice.status == "Draft" and invoice.customer_number == made.number
    body = raw(invoices.get_sales_invoice_without_preload_content(company, invoice.id))
    assert body["totalAmountIncludingTax"] == Decimal("82.50") and body["totalTaxAmount"] == Decimal("7.50")
    found = invoices.list_sales_invoices(company, filter="externalDocumentNumber eq 'LIB-1'").value
    assert [i.id for i in found] == [invoice.id]
    invoices.post_action_sales_invoices(company, invoice.id)
    posted = invoices.get_sales_invoice(company, invoice.id)
    assert posted.status == "Open" and posted.number.startswith("PS-INV")


def test_the_generated_client_meets_if_match_and_the_stale_etag_conflict(api, bcsandbox):
    company = bcsandbox.company_id
    customers = CustomerApi(api)
    made = customers.post_customer(company, JSON, PostCustomerRequest(display_name="Etag Ltd"))
    etag = raw(customers.get_customer_without_preload_content(company, made.id))["@odata.etag"]
    renamed = customers.patch_customer(company, made.id, JSON, etag, PostCustomerRequest(display_name="Etag Two"))
    assert renamed.display_name == "Etag Two"
    with pytest.raises(ApiException) as info:
        customers.patch_customer(company, made.id, JSON, etag, PostCustomerRequest(display_name="Stale"))
    assert info.value.status == 409
    assert json.loads(info.value.body)["error"]["code"] == "Request_EntityChanged"

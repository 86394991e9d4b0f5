"""An independent check: FreshBooks' own Python SDK (``freshbooks-sdk``, maintained by FreshBooks) drives the
sandbox. What it sends and how it reads the answers (the ``response.result`` envelope, money objects, paging,
``search[...]`` filters, soft deletes by ``vis_state``, the error body, the token answer with ``created_at``) is
FreshBooks' own code, not ours. Skipped with a reason until the package is installed (the test extras)."""
import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

freshbooks = pytest.importorskip("freshbooks", reason="freshbooks-sdk is not installed (the test extras list it)")

REDIRECT = "https://host.example/callback"


@pytest.fixture
def sdk(fsandbox, monkeypatch):
    """The SDK pointed at the sandbox (its documented FRESHBOOKS_API_URL / FRESHBOOKS_AUTH_URL overrides), with a
    token obtained through its own authorization-code call. No automatic retries: every answer is seen once."""
    monkeypatch.setenv("FRESHBOOKS_API_URL", fsandbox.base_url)
    monkeypatch.setenv("FRESHBOOKS_AUTH_URL", fsandbox.base_url)
    client = freshbooks.Client(client_id="sandbox-client", client_secret="sandbox-secret", redirect_uri=REDIRECT,
                               auto_retry=False, timeout=5)
    consent = requests.get(client.get_auth_request_url(), allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
    tokens = client.get_access_token(code)
    assert tokens.access_token_expires_at > dt.datetime.now(dt.UTC)
    return client


def test_the_sdk_refreshes_with_rotation_and_the_old_refresh_token_is_spent(sdk):
    first = sdk.refresh_token
    assert sdk.refresh_access_token().refresh_token != first
    with pytest.raises(freshbooks.FreshBooksError):
        sdk.refresh_access_token(first)


def test_the_sdk_creates_and_reads_clients_invoices_and_payments(sdk, fsandbox):
    account = fsandbox.company_id
    client = sdk.clients.create(account, {"organization": "SDK Vets", "email": "sdk@example.com"})
    invoice = sdk.invoices.create(account, {
        "customerid": client.id, "invoice_number": "SDK-1", "create_date": "2026-12-01",
        "lines": [{"type": 0, "name": "Visit", "qty": 2, "unit_cost": {"amount": "45.50", "code": "USD"},
                   "taxName1": "GST 10%", "taxAmount1": "10"}]})
    assert invoice.invoiceid == invoice.id and invoice.amount.amount == "100.10"
    payment = sdk.payments.create(account, {"invoiceid": invoice.id, "amount": {"amount": "40.10"},
                                            "date": "2026-12-02", "type": "Check"})
    assert payment.amount.amount == "40.10" and payment.invoiceid == invoice.id
    read = sdk.invoices.get(account, invoice.id)
    assert Decimal(read.outstanding.amount) == Decimal("60.00") and read.payment_status == "partial"
    assert read.updated.tzinfo is not None  # the SDK read our Eastern wall time and converted it


def test_the_sdk_pages_and_filters(sdk, fsandbox):
    account = fsandbox.company_id
    for n in range(5):
        sdk.clients.create(account, {"organization": f"Paged {n}"})
    page = sdk.clients.list(account, builders=[freshbooks.PaginateBuilder(2, 2)])
    assert (page.pages.page, page.pages.pages, page.pages.per_page, page.pages.total) == (2, 3, 2, 5)
    assert [c.organization for c in page] == ["Paged 2", "Paged 3"]
    found = sdk.clients.list(account, builders=[freshbooks.FilterBuilder().like("organization_like", "paged 4")])
    assert [c.organization for c in found] == ["Paged 4"]


def test_the_sdk_deletes_by_vis_state_and_reads_the_not_found_error(sdk, fsandbox):
    account = fsandbox.company_id
    client = sdk.clients.create(account, {"organization": "Gone Ltd"})
    sdk.clients.delete(account, client.id)
    assert sdk.clients.get(account, client.id).vis_state == freshbooks.VisState.DELETED
    assert [c.id for c in sdk.clients.list(account)] == []
    with pytest.raises(freshbooks.FreshBooksError) as info:
        sdk.invoices.get(account, 999999)
    assert (info.value.status_code, info.value.error_code, str(info.value)) == (404, 1012, "Invoice not found.")

"""The Sage connector against its sandbox beyond the shared contract: the business chosen at connect, a refused
duplicate leaves no draft behind, drafts left for approval, a lost release adopted and released, item kinds."""
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.base import ConnectionConfig
from connectors.documents import Entity, ItemSnapshot, Mapping, RemoteRef
from connectors.errors import DuplicateError, RetryableError
from connectors.sage.connector import SageConnector
from tests.connectors.contract import customer, invoice


@pytest.fixture
def env(ssandbox):
    token = ssandbox.issue_tokens()["access_token"]

    def make(**settings):
        config = ConnectionConfig("sage", "t", ssandbox.company_id,
                                  {**SageConnector.sandbox_settings(ssandbox.base_url), "timeout": 3, **settings},
                                  "sandbox-client", "sandbox-secret")
        return SageConnector(config, lambda force: token)
    connector = make()
    reference = connector.reference_data()
    accounts = {name: pk for pk, name in reference.accounts.items()}
    return ssandbox, make, connector, accounts


def mapping_for(connector, accounts, refs, lines=1):
    return Mapping(line_accounts=(accounts["Sales"],) * lines, item_account=accounts["Sales"],
                   deposit_account=accounts["Checking"], refs=refs)


def sent_customer(connector, accounts):
    cust = customer()
    made = connector.create(cust, mapping_for(connector, accounts, {}), "k")
    return cust, {cust.key: made.remote_id}


def test_exchange_code_takes_the_users_business(ssandbox):
    connector = SageConnector(ConnectionConfig("sage", "t", "", SageConnector.sandbox_settings(ssandbox.base_url),
                                               "sandbox-client", "sandbox-secret"))
    url = connector.authorization_url("http://app.test/cb", "st")
    assert "filter=apiv3.1" in url and "scope=full_access" in url
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    tokens = connector.exchange_code(params["code"], "http://app.test/cb", params)
    assert tokens.remote_company_id == ssandbox.company_id and tokens.refresh_token
    assert connector.refresh(tokens.refresh_token).refresh_token != tokens.refresh_token  # rotated


def test_a_refused_duplicate_leaves_no_draft_behind(env):
    sandbox, _, connector, accounts = env
    cust, refs = sent_customer(connector, accounts)
    doc = invoice(cust.key, f"D{uuid.uuid4().hex[:6]}")
    mapping = mapping_for(connector, accounts, refs)
    first = connector.create(doc, mapping, "a")
    with pytest.raises(DuplicateError):
        connector.create(doc, mapping, "b")
    rows = [r.data for r in sandbox.store.rows("sales_invoices")]
    assert [r["status"]["id"] for r in rows] == ["UNPAID"] and first.status == "active"


def test_drafts_setting_leaves_documents_for_approval_and_they_can_be_deleted(env):
    sandbox, make, connector, accounts = env
    drafts = make(drafts=True)
    cust, refs = sent_customer(connector, accounts)
    made = drafts.create(invoice(cust.key, "DR-1"), mapping_for(connector, accounts, refs), "a")
    assert made.raw["status"]["id"] == "DRAFT"
    drafts.delete(Entity.INVOICE, _ref(made), "d")
    assert drafts.remote_document(Entity.INVOICE, made.remote_id).status == "deleted"


def _ref(result):
    return RemoteRef(result.remote_id, result.version)


def test_lost_release_is_adopted_and_released_by_search(env):
    sandbox, _, connector, accounts = env
    cust, refs = sent_customer(connector, accounts)
    doc = invoice(cust.key, "LR-1", ("80.00",))
    mapping = mapping_for(connector, accounts, refs)
    sandbox.faults.add("lost_response", match="POST /release")
    with pytest.raises(RetryableError):
        connector.create(doc, mapping, "a")
    found = connector.find_existing(doc, mapping)
    assert found.adopted and found.total == Decimal("80.00") and found.raw["status"]["id"] == "UNPAID"


def test_products_need_a_purchase_ledger_else_items_are_services(env):
    sandbox, make, connector, accounts = env
    thing = ItemSnapshot(key="i", organization_id=1, name="Kibble 2kg", kind="product", unit_price=Decimal("9.90"))
    mapping = mapping_for(connector, accounts, {})
    as_service = connector.create(thing, mapping, "a")
    assert sandbox.store.find("services", as_service.remote_id) is not None
    products = make(purchase_ledger_account_id=accounts["Sales"])
    other = ItemSnapshot(key="j", organization_id=1, name="Kibble 5kg", kind="product", unit_price=Decimal("19.90"))
    as_product = products.create(other, mapping, "b")
    assert sandbox.store.find("products", as_product.remote_id) is not None
    assert products.fetch(Entity.ITEM, as_product.remote_id).number == "Kibble 5kg"
    products.delete(Entity.ITEM, _ref(as_product), "d")
    assert products.fetch(Entity.ITEM, as_product.remote_id).status == "inactive"

"""The independent check: ``freeagent`` (freeagentPY, MIT, on PyPI), a FreeAgent client written against the real
API by someone else, talks to our sandbox: its OAuth2 session refreshes an expired token at our token endpoint,
it reads the user, the grouped categories and the bank accounts, pages a list, parses our decimal strings and
times, finds an unexplained bank transaction and explains it. What it reads of the documents our connector wrote
agrees with what the connector says it wrote.

FreeAgent publishes no machine-readable spec; the schema check is in test_sandbox.py. The client is a test
dependency (``freeagent==0.3.1``); without it this module is skipped, never silently passed.
"""
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from connectors.documents import Entity
from tests.connectors.contract import customer, invoice, payment
from tests.platforms import CLIENT

freeagent = pytest.importorskip("freeagent", reason="the freeagent client library is not installed")


@pytest.fixture
def library(fsandbox, monkeypatch):
    """The library's client on our sandbox, holding a token that has already expired (it must refresh)."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox is plain HTTP on loopback
    issued = fsandbox.issue_tokens()
    saved = []
    client = freeagent.FreeAgent()
    client.api_base_url = f"{fsandbox.api_base}/"
    token = {**issued, "expires_in": -10, "expires_at": dt.datetime.now().timestamp() - 10}
    client.authenticate(*CLIENT, saved.append, token)
    client.saved_tokens = saved
    return client


def connector_for(fsandbox):
    from connectors import registry
    from connectors.base import ConnectionConfig

    tokens = fsandbox.issue_tokens()
    cls = registry.get("freeagent")
    config = ConnectionConfig("freeagent", "library-check", fsandbox.company_id,
                              {**cls.sandbox_settings(fsandbox.base_url), "timeout": 3}, *CLIENT)
    return cls(config, lambda force: tokens["access_token"])


def test_it_refreshes_its_token_and_reads_the_user(library, fsandbox):
    assert len(library.saved_tokens) == 1  # the expired token was refreshed at /v2/token_endpoint
    assert library.saved_tokens[0]["access_token"] != ""
    [me] = library.get_api("users/me")
    assert me.user["first_name"] == "Sandbox"


def test_categories_and_bank_accounts_are_what_our_reference_data_lists(library, fsandbox):
    assert library.category.get_nominal_code_id("001") == f"{fsandbox.api_base}/categories/001"
    assert library.category.get_desc_nominal_code("Consultancy") == "002"
    account_id = library.bank_account.get_id_by_name("Business Current Account", "StandardBankAccount")
    assert account_id == "1"
    reference = connector_for(fsandbox).reference_data()
    assert reference.accounts["001"] == library.category.get_nominal_name("001")
    assert reference.accounts["bank_accounts/1"] == library.bank_account.get_name_by_id(account_id)


def test_documents_our_connector_wrote_read_back_by_the_library(library, fsandbox):
    connector = connector_for(fsandbox)
    reference = connector.reference_data()
    names = {name: code for code, name in reference.accounts.items()}
    from connectors.documents import Mapping

    who = customer()
    made_customer = connector.create(who, Mapping(), f"c-{uuid.uuid4()}")
    doc = invoice(who.key, "LIB-1", ("100.00", "23.45"))
    refs = {who.key: made_customer.remote_id}
    mapping = Mapping(line_accounts=(names["Sales"],) * 2, deposit_account=names["Business Current Account"],
                      refs=refs)
    made = connector.create(doc, mapping, f"i-{uuid.uuid4()}")
    paid = connector.create(payment(who.key, "LIB-P1", doc.key, "40.00"),
                            Mapping(deposit_account=names["Business Current Account"],
                                    refs={**refs, doc.key: made.remote_id}), f"p-{uuid.uuid4()}")
    [read] = library.get_api(f"invoices/{made.remote_id}")
    assert read.invoice["reference"] == "LIB-1" and Decimal(read.invoice["total_value"]) == made.total
    assert Decimal(read.invoice["due_value"]) == Decimal("83.45")
    explanations = library.get_api("bank_transaction_explanations",
                                   {"bank_account": f"{fsandbox.api_base}/bank_accounts/1"})
    [mine] = [e for e in explanations if e.url.endswith(f"/{paid.remote_id}")]
    assert mine.gross_value == Decimal("40.00") and mine.description == "LIB-P1"  # decimal strings, as parsed
    assert isinstance(mine.updated_at, dt.datetime) and mine.paid_invoice.endswith(f"/invoices/{made.remote_id}")
    assert connector.fetch(Entity.PAYMENT, paid.remote_id).total == mine.gross_value


def test_paging_a_list_and_explaining_a_fed_transaction(library, fsandbox):
    connector = connector_for(fsandbox)
    from connectors.documents import Mapping

    for _ in range(3):
        connector.create(customer(), Mapping(), f"c-{uuid.uuid4()}")
    assert len(library.get_api("contacts")) == 3
    fed = fsandbox.act_as_user("bank_feed", amount="12.50", description="CARD SALE")
    [unexplained] = library.bank.get_unexplained_transactions("1")
    assert unexplained.url == fed["url"] and unexplained.unexplained_amount == Decimal("12.50")
    library.bank.explain_transaction(freeagent.ExplanationPayload(
        nominal_code="001", dated_on=dt.date.today(), gross_value=Decimal("12.50"), description="Card sale",
        bank_transaction=fed["url"]), printout=False)
    assert library.bank.get_unexplained_transactions("1") == []

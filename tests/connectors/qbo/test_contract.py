"""The QuickBooks Online connector passes the shared connector contract against its sandbox."""
import pytest

from connectors.base import ConnectionConfig
from connectors.documents import Mapping
from connectors.qbo.connector import QBOConnector
from tests.connectors.contract import ConnectorContract, ContractEnv


@pytest.fixture
def contract(qbo_sandbox):
    from connectors.qbo.connector import forget_remembered_items

    sandbox = qbo_sandbox
    sandbox.reset()
    forget_remembered_items()
    state = {"token": sandbox.issue_tokens()["access_token"], "refreshes": 0}

    def token_getter(force=False):
        if force:  # what connectors.tokens does after a 401: one refresh at the token endpoint
            import requests

            state["token"] = requests.post(sandbox.token_url, timeout=5, auth=("sandbox-client", "sandbox-secret"),
                                           data={"grant_type": "refresh_token",
                                                 "refresh_token": state["refresh"]}).json()["access_token"]
        return state["token"]

    def expire():
        tokens = sandbox.issue_tokens()
        state["refresh"] = tokens["refresh_token"]
        state["token"] = "expired-or-revoked"

    settings = {"api_base": sandbox.api_base, "token_url": sandbox.token_url, "timeout": 3}
    connector = QBOConnector(ConnectionConfig("qbo", "contract", sandbox.realm_id, settings,
                                              "sandbox-client", "sandbox-secret"), token_getter)
    sales = next(a["Id"] for a in sandbox.store.entities("Account") if a["Name"] == "Sales")

    def mapping(refs=None, lines=0):
        return Mapping(line_accounts=(sales,) * lines, item_account=sales, refs=dict(refs or {}))

    def inject(kind, retry_after=None):
        sandbox.faults.add(kind, count=1, **({"retry_after": retry_after} if retry_after else {}))

    yield ContractEnv(connector, mapping, inject, lambda: sandbox.token_calls, expire,
                      forget_keys=sandbox.store.forget_request_ids)
    sandbox.faults.clear()


class TestQBOContract(ConnectorContract):
    platform = "qbo"

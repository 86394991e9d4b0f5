"""The Xero connector passes the shared connector contract against the Xero sandbox (loopback HTTP)."""
import pytest
import requests

from connectors.base import ConnectionConfig
from connectors.documents import Mapping
from connectors.xero.connector import XeroConnector
from tests.connectors.contract import ConnectorContract, ContractEnv

CLIENT = ("sandbox-client", "sandbox-secret")


@pytest.fixture
def contract(xsandbox, request):
    sandbox = xsandbox
    state = {"token": sandbox.issue_tokens()["access_token"], "refresh": ""}

    def token_getter(force=False):
        if force:  # what connectors.tokens does after a 401: one refresh at the token endpoint
            state["token"] = requests.post(sandbox.token_url, timeout=5, auth=CLIENT, data={
                "grant_type": "refresh_token", "refresh_token": state["refresh"]}).json()["access_token"]
        return state["token"]

    def expire():
        tokens = sandbox.issue_tokens()
        state["refresh"] = tokens["refresh_token"]
        state["token"] = "expired-or-revoked"

    settings = {"api_base": sandbox.api_base, "token_url": sandbox.token_url,
                "connections_url": sandbox.connections_url, "timeout": 3}
    if "delete" in request.node.name:
        # Xero deletes only drafts (an approved invoice is voided instead), so the delete test sends drafts.
        settings["invoice_status"] = "DRAFT"
    connector = XeroConnector(ConnectionConfig("xero", "contract", sandbox.tenant_id, settings, *CLIENT),
                              token_getter)

    def mapping(refs=None, lines=0):
        return Mapping(line_accounts=("200",) * lines, item_account="200", deposit_account="090",
                       refs=dict(refs or {}))

    def inject(kind, retry_after=None):
        sandbox.faults.add(kind, count=1, **({"retry_after": retry_after} if retry_after else {}))

    yield ContractEnv(connector, mapping, inject, lambda: sandbox.token_calls, expire,
                      forget_keys=sandbox.forget_idempotency_keys)


class TestXeroContract(ConnectorContract):
    platform = "xero"

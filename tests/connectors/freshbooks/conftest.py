"""The FreshBooks sandbox on loopback: one per test session (``freshbooks_sandbox``), reset for each test
(``fsandbox``), and a connector on it (``connector``). Its timeout fault stalls 5 s: longer than any test client
waits."""
import pytest

from connectors.base import ConnectionConfig
from connectors.freshbooks.connector import FreshBooksConnector
from tests.connectors.sandboxkit.wire import sandbox_fixtures

freshbooks_sandbox, fsandbox = sandbox_fixtures("connectors.freshbooks.sandbox.FreshBooksSandbox",
                                                "freshbooks_sandbox", "fsandbox")


@pytest.fixture
def connector(fsandbox):
    """The FreshBooks connector on the sandbox, with a token it issued (no refresh: tests of the contract do that)."""
    token = fsandbox.issue_tokens()["access_token"]
    config = ConnectionConfig("freshbooks", "tests", fsandbox.company_id,
                              {**FreshBooksConnector.sandbox_settings(fsandbox.base_url), "timeout": 3})
    return FreshBooksConnector(config, lambda force: token)

"""The Wave sandbox on loopback: one per test session (``wave_sandbox``), reset for each test (``wsandbox``), and
a connector on it (``connector``)."""
import pytest

from connectors.base import ConnectionConfig
from connectors.wave.connector import WaveConnector
from tests.connectors.sandboxkit.wire import sandbox_fixtures

wave_sandbox, wsandbox = sandbox_fixtures("connectors.wave.sandbox.WaveSandbox", "wave_sandbox", "wsandbox")


@pytest.fixture
def connector(wsandbox):
    """The Wave connector on the sandbox, with a token it issued."""
    token = wsandbox.issue_tokens()["access_token"]
    config = ConnectionConfig("wave", "tests", wsandbox.company_id,
                              {**WaveConnector.sandbox_settings(wsandbox.base_url), "timeout": 3})
    return WaveConnector(config, lambda force: token)

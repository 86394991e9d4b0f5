"""The S/4HANA sandbox on loopback, one per test session (``s4hana_sandbox``), reset for each test (``s4sandbox``)."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

s4hana_sandbox, s4sandbox = sandbox_fixtures("connectors.s4hana.sandbox.S4HanaSandbox", "s4hana_sandbox",
                                             "s4sandbox")

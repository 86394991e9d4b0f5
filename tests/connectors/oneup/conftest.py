"""The OneUp sandbox on loopback: one per test session (``oneup_sandbox``), reset for each test (``osandbox``)."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

oneup_sandbox, osandbox = sandbox_fixtures("connectors.oneup.sandbox.OneUpSandbox", "oneup_sandbox", "osandbox")

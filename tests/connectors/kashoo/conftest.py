"""The Kashoo sandbox on loopback: one per test session (``kashoo_sandbox``), reset for each test (``ksandbox``)."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

kashoo_sandbox, ksandbox = sandbox_fixtures("connectors.kashoo.sandbox.KashooSandbox", "kashoo_sandbox", "ksandbox")

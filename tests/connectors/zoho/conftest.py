"""The Zoho Books sandbox on loopback: one per test session (``zoho_sandbox``), reset for each test (``zsandbox``).
Its timeout fault stalls 5 s: longer than any test client waits."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

zoho_sandbox, zsandbox = sandbox_fixtures("connectors.zoho.sandbox.ZohoSandbox", "zoho_sandbox", "zsandbox")

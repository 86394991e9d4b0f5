"""The Sage sandbox on loopback: one per test session (``sage_sandbox``), reset for each test (``ssandbox``).
Its timeout fault stalls 5 s: longer than any test client waits."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

sage_sandbox, ssandbox = sandbox_fixtures("connectors.sage.sandbox.SageSandbox", "sage_sandbox", "ssandbox")

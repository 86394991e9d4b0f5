"""The MYOB sandbox on loopback: one per test session (``myob_sandbox``), reset for each test (``msandbox``).
Its timeout fault stalls 5 s: longer than any test client waits."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

myob_sandbox, msandbox = sandbox_fixtures("connectors.myob.sandbox.MyobSandbox", "myob_sandbox", "msandbox")

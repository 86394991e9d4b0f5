"""The Reckon One sandbox on loopback: one per test session (``reckon_sandbox``), reset for each test
(``rsandbox``). Its timeout fault stalls 5 s: longer than any test client waits."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

reckon_sandbox, rsandbox = sandbox_fixtures("connectors.reckon.sandbox.ReckonSandbox", "reckon_sandbox", "rsandbox")

"""The FreeAgent sandbox on loopback: one per test session (``freeagent_sandbox``), reset for each test
(``fsandbox``). Its timeout fault stalls 5 s: longer than any test client waits."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

freeagent_sandbox, fsandbox = sandbox_fixtures("connectors.freeagent.sandbox.FreeAgentSandbox", "freeagent_sandbox",
                                               "fsandbox")

"""The FreshBooks sandbox on loopback: one per test session (``freshbooks_sandbox``), reset for each test
(``fsandbox``). Its timeout fault stalls 5 s: longer than any test client waits."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

freshbooks_sandbox, fsandbox = sandbox_fixtures("connectors.freshbooks.sandbox.FreshBooksSandbox",
                                                "freshbooks_sandbox", "fsandbox")

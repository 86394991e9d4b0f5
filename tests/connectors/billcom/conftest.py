"""The Bill.com sandbox on loopback: one per test session (``billcom_sandbox``), reset for each test
(``bsandbox``). Its timeout fault stalls 5 s: longer than any test client waits."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

billcom_sandbox, bsandbox = sandbox_fixtures("connectors.billcom.sandbox.BillcomSandbox", "billcom_sandbox",
                                             "bsandbox")

"""The Sage Intacct sandbox on loopback, once per test session (``intacct_sandbox``); ``isandbox`` is reset for
each test."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

intacct_sandbox, isandbox = sandbox_fixtures("connectors.intacct.sandbox.IntacctSandbox", "intacct_sandbox",
                                             "isandbox")

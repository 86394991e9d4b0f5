"""The Business Central sandbox on loopback: one per test session (``businesscentral_sandbox``), reset for each
test (``bcsandbox``). Its timeout fault stalls 5 s: longer than any test client waits."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

businesscentral_sandbox, bcsandbox = sandbox_fixtures("connectors.businesscentral.sandbox.BusinessCentralSandbox",
                                                      "businesscentral_sandbox", "bcsandbox")

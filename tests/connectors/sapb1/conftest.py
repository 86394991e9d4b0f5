"""The Service Layer sandbox on loopback, one per test session (``sapb1_sandbox``), reset for each test
(``slsandbox``)."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

sapb1_sandbox, slsandbox = sandbox_fixtures("connectors.sapb1.sandbox.ServiceLayerSandbox", "sapb1_sandbox",
                                            "slsandbox")

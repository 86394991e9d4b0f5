"""The Acumatica sandbox on loopback, once per test session (``acumatica_sandbox``), reset for each test
(``asandbox``)."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

acumatica_sandbox, asandbox = sandbox_fixtures("connectors.acumatica.sandbox.AcumaticaSandbox", "acumatica_sandbox",
                                               "asandbox")

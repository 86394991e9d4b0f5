"""The NetSuite SOAP sandbox on loopback, once per test session (``netsuitesoap_sandbox``); ``nssandbox`` is reset
for each test."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

netsuitesoap_sandbox, nssandbox = sandbox_fixtures("connectors.netsuitesoap.sandbox.NetSuiteSoapSandbox",
                                                   "netsuitesoap_sandbox", "nssandbox")

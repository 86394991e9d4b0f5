"""The Zoho Books sandbox on loopback: one per test session (``zoho_sandbox``), reset for each test (``zsandbox``)."""
import pytest


@pytest.fixture(scope="session")
def zoho_sandbox():
    from connectors.zoho.sandbox import ZohoSandbox

    sandbox = ZohoSandbox(port=0).start()  # a timeout fault stalls 5 s: longer than any test client waits
    yield sandbox
    sandbox.stop()


@pytest.fixture
def zsandbox(zoho_sandbox):
    zoho_sandbox.reset()
    yield zoho_sandbox
    zoho_sandbox.faults.clear()

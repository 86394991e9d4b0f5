"""Xero sandbox fixtures: one sandbox per test session on loopback, reset around every test that uses it."""
import pytest


@pytest.fixture(scope="session")
def xero_sandbox():
    from connectors.xero.sandbox import XeroSandbox

    sandbox = XeroSandbox(port=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def xsandbox(xero_sandbox):
    """The session sandbox, emptied: fresh reference data, no faults, Xero's limits with empty counters."""
    xero_sandbox.reset()
    yield xero_sandbox
    xero_sandbox.faults.clear()
    xero_sandbox.limits.restore()

"""The Odoo sandboxes on loopback, one per test session each: ``odoo_sandbox`` plays an Odoo 17 server (XML-RPC),
``odoo19_sandbox`` an Odoo 19 one (JSON-2 as well); ``osandbox`` / ``osandbox19`` are reset for each test."""
import pytest

from connectors.odoo.sandbox import OdooSandbox
from tests.connectors.sandboxkit.wire import sandbox_fixtures

odoo_sandbox, osandbox = sandbox_fixtures("connectors.odoo.sandbox.OdooSandbox", "odoo_sandbox", "osandbox")


@pytest.fixture(scope="session")
def odoo19_sandbox():
    sandbox = OdooSandbox(port=0, version="19.0").start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def osandbox19(odoo19_sandbox):
    odoo19_sandbox.reset()
    yield odoo19_sandbox
    odoo19_sandbox.faults.clear()

"""Kashoo passes the shared connector contract against its sandbox (loopback HTTP). What it cannot do is declared
in its capabilities (customers, invoices and payments only; no void, no delete; no idempotency keys; no inbound
changes) and skipped by the contract for that reason."""
from tests.connectors.contract import ConnectorContract


class TestKashooContract(ConnectorContract):
    platform = "kashoo"

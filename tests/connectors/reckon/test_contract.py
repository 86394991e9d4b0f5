"""Reckon One passes the shared connector contract against its sandbox (loopback HTTP). What it cannot do is
declared in its capabilities (no idempotency keys, no inbound polling, no webhooks) and skipped by the contract
for that reason; its void is the connector's own (amounts to 0 and a void note), declared and tested as a void."""
from tests.connectors.contract import ConnectorContract


class TestReckonContract(ConnectorContract):
    platform = "reckon"

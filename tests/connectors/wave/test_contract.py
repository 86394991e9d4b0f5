"""Wave passes the shared connector contract against its sandbox (loopback HTTP). What it cannot do is declared in
its capabilities and skipped by the contract for that reason: voids (Wave has none), inbound changes (not
offered yet), idempotency keys and versions (Wave has none), token revocation (no revocation endpoint)."""
from tests.connectors.contract import ConnectorContract


class TestWaveContract(ConnectorContract):
    platform = "wave"

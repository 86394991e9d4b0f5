"""Bill.com passes the shared connector contract against its sandbox (loopback HTTP). What it cannot do is declared
in its capabilities (customers, invoices and payments only; no void, no deletion but a customer's archive; no
idempotency keys; no inbound changes or webhooks yet) and skipped by the contract for that reason."""
from tests.connectors.contract import ConnectorContract


class TestBillcomContract(ConnectorContract):
    platform = "billcom"

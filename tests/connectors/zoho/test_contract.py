"""Zoho Books passes the shared connector contract against its sandbox (loopback HTTP)."""
import pytest

from tests.connectors.contract import ConnectorContract

NO_DELETIONS = "Zoho Books lists no deleted records and has no deleted-since query: polling cannot report a " \
               "deletion (reconciliation finds it; see docs/connectors/zoho.md)"


class TestZohoContract(ConnectorContract):
    platform = "zoho"
    idempotency_keys = False  # a lost create is retried as the pipeline does it: search by number or name first

    def test_invoice_deleted_by_a_user_is_reported_and_read_back(self, contract):
        pytest.skip(NO_DELETIONS)

    def test_payment_deleted_by_a_user_is_reported_and_read_back(self, contract):
        pytest.skip(NO_DELETIONS)

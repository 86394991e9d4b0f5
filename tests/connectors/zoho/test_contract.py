"""Zoho Books passes the shared connector contract against its sandbox (loopback HTTP). What it cannot do is
declared in its capabilities (no idempotency keys, no deletions in its lists, no webhooks) and skipped by the
contract for that reason."""
import datetime as dt

import pytest

from connectors.documents import Entity
from connectors.zoho.connector import ZohoConnector
from tests.connectors.contract import ConnectorContract
from tests.platforms import next_second


class TestZohoContract(ConnectorContract):
    platform = "zoho"

    @pytest.mark.parametrize("entity", (Entity.REFUND, Entity.EXPENSE, Entity.JOURNAL))
    def test_cost_deleted_by_a_user_is_not_in_the_feed_but_read_back_deleted(self, contract, entity):
        """Zoho Books voids no refund, expense or manual journal: a person deletes it (``user_takes_back``), and
        Zoho's lists hold no deleted record, so polling cannot report it (these are not in ``capabilities.inbound``:
        the shared feed test skips). Reconciliation's read by id is what finds it gone (issue 23)."""
        assert entity not in ZohoConnector.capabilities.inbound
        made = self._cost(contract, entity)
        since = dt.datetime.now(dt.UTC)
        contract.harness.take_back(entity, made.result.remote_id)
        next_second()
        changes, _ = contract.connector.changes_since(list(Entity.ALL), since)
        assert made.result.remote_id not in {c.remote_id for c in changes}
        [read] = contract.connector.read_documents(entity, [made.result.remote_id])
        assert read.status == "deleted", read

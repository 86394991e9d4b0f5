"""Sage Business Cloud Accounting passes the shared connector contract against its sandbox (loopback HTTP). What it
cannot do is declared in its capabilities (no idempotency keys, no webhooks) and skipped by the contract for that
reason. Sage deletes only drafts (it voids any other document): documents the contract deletes are sent as drafts."""
from tests.connectors.contract import ConnectorContract


class TestSageContract(ConnectorContract):
    platform = "sage"
    delete_settings = {"drafts": True}

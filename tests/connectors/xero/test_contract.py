"""Xero passes the shared connector contract against its sandbox (loopback HTTP)."""
from tests.connectors.contract import ConnectorContract


class TestXeroContract(ConnectorContract):
    platform = "xero"
    #: Xero deletes only drafts (an approved invoice is voided instead): documents a test deletes are drafts.
    delete_settings = {"invoice_status": "DRAFT"}

"""SAP S/4HANA Cloud passes the shared connector contract against its OData V2 sandbox over loopback HTTP. What
S/4HANA cannot do is declared in its capabilities (no items in FI-AR postings, no idempotency keys, no deletion of
posted documents, no webhooks, inbound payments only) and skipped for that reason."""
from tests.connectors.contract import ConnectorContract


class TestS4HanaContract(ConnectorContract):
    platform = "s4hana"

    def test_changes_carry_a_csrf_token_fetched_first(self, contract):
        """The sandbox refuses a change without a token bound to the session cookie: the create fetched one."""
        before = len(contract.connector.exchanges())
        self._customer(contract)
        self._customer(contract)
        calls = contract.connector.exchanges()[before:]
        assert [(c["method"], c["path"], c["status"]) for c in calls] == [
            ("GET", "/API_BUSINESS_PARTNER/", 200), ("POST", "/API_BUSINESS_PARTNER/A_BusinessPartner", 201),
            ("POST", "/API_BUSINESS_PARTNER/A_BusinessPartner", 201)]  # one fetch, kept for the next change

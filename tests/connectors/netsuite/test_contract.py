"""Oracle NetSuite (REST web services) passes the shared connector contract against its sandbox over loopback HTTP,
connected with OAuth 2.0, refunds, expenses and journals included (customer refunds, checks, journal entries: voided
by deleting them, so the void tests skip them); webhooks are not declared (NetSuite's are SuiteScript the customer
deploys, not a subscription). The
tests below add what only NetSuite does: our key as external id and idempotency key, a line's item chosen by its
mapped income account, tax NetSuite computes from a line's tax code, and a TBA-signed connection."""
import dataclasses
import uuid
from decimal import Decimal

import pytest

from connectors.base import ConnectionConfig
from connectors.documents import Entity, LineSnapshot, Mapping
from connectors.errors import AuthError, ConfigurationError
from ledger.money import line_net
from tests.connectors.contract import ConnectorContract, _tag, customer, invoice


class TestNetSuiteContract(ConnectorContract):
    platform = "netsuite"

    def test_each_create_carries_our_key_as_external_id_and_idempotency_key(self, contract):
        connector = contract.connector_with()
        made = connector.create(customer(), contract.mapping(), "key-of-ours")
        assert made.raw["externalId"].startswith("test.customer:")  # letters, digits, "." and ":" are kept whole
        [post] = [e for e in connector.exchanges() if e["method"] == "POST" and "record/v1" in e["path"]]
        assert post["idempotency_key"] == "key-of-ours" and post["location"].endswith(f"/{made.remote_id}")

    def test_a_line_books_to_the_item_on_its_mapped_income_account(self, contract):
        cust = self._customer(contract)
        accounts = contract.harness.account_ids(contract.reference)
        doc = invoice(cust.doc.key, f"A{_tag()}", ("10.00", "20.00"))
        mapping = Mapping(line_accounts=(accounts["Sales"], accounts["Service Revenue"]),
                          deposit_account=accounts["Undeposited Funds"], refs={cust.doc.key: cust.result.remote_id})
        made = contract.connector.create(doc, mapping, f"i-{uuid.uuid4()}")
        assert [line["item"]["refName"] for line in made.raw["item"]["items"]] == ["Widget", "Consulting hour"]

    def test_line_tax_is_computed_by_netsuite_from_the_mapped_tax_code(self, contract):
        cust = self._customer(contract)
        taxes = {name: pk for pk, name in contract.reference.tax_codes.items()}
        line = LineSnapshot(kind="service", description="Taxed", quantity=Decimal("2"), unit_price=Decimal("25.00"),
                            net_amount=line_net(Decimal("2"), Decimal("25.00")), tax_amount=Decimal("5.00"),
                            tax_rate_key="gst")
        doc = dataclasses.replace(invoice(cust.doc.key, f"T{_tag()}"), lines=(line,), subtotal=Decimal("50.00"),
                                  tax_total=Decimal("5.00"), total=Decimal("55.00"))
        mapping = Mapping(refs={cust.doc.key: cust.result.remote_id}, tax_codes={"gst": taxes["Sales Tax 10%"]})
        made = contract.connector.create(doc, mapping, f"i-{uuid.uuid4()}")
        assert made.total == Decimal("55.00") and Decimal(str(made.raw["taxTotal"])) == Decimal("5.00")
        assert made.raw["item"]["items"][0]["taxCode"]["refName"] == "Sales Tax 10%"

    @staticmethod
    def _tba(contract, secret: str | None = None):
        sandbox = contract.harness.sandbox
        token, good = next(iter(sandbox.tokens.items()))
        settings = {**contract.harness.settings(), "token_id": token, "token_secret": secret or good}
        return contract.harness.cls(ConnectionConfig("netsuite", "tba", sandbox.company_id, settings,
                                                     *sandbox.consumer))

    def test_a_tba_signed_connection_is_checked_then_sends_and_reads(self, contract):
        connector = self._tba(contract)
        assert connector.login().access_token == connector.setting("token_id")
        made = connector.create(customer(), contract.mapping(), f"c-{uuid.uuid4()}")
        assert connector.fetch(Entity.CUSTOMER, made.remote_id).number == made.number
        with pytest.raises(AuthError):
            self._tba(contract, secret="wrong").login()

    def test_a_document_is_booked_in_its_own_currency_and_one_the_account_lacks_is_refused(self, contract):
        cust = self._customer(contract)
        mapping = contract.mapping(refs={cust.doc.key: cust.result.remote_id}, lines=1)
        euros = dataclasses.replace(invoice(cust.doc.key, f"E{_tag()}"), currency="EUR")
        made = contract.connector.create(euros, mapping, f"i-{uuid.uuid4()}")
        assert made.raw["currency"]["refName"] == "Euro"
        yen = dataclasses.replace(invoice(cust.doc.key, f"Y{_tag()}"), currency="JPY")
        with pytest.raises(ConfigurationError) as info:
            contract.connector.create(yen, mapping, f"i-{uuid.uuid4()}")
        assert info.value.platform_code == "currency"

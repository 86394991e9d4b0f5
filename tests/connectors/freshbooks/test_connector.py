"""The connector's own checks before it sends: what FreshBooks cannot check for us because its lines name their tax
by name and carry no account."""
from dataclasses import replace

import pytest

from connectors.base import RuleKind
from connectors.documents import Mapping
from connectors.errors import ValidationFailed
from connectors.freshbooks.connector import FreshBooksConnector
from tests.connectors.contract import customer, invoice


def test_a_gone_tax_or_account_is_refused_before_sending_and_names_itself(fsandbox, connector):
    """FreshBooks lines name their tax and carry no account: what the mapping names is checked against the
    business, so a deleted tax never goes out as an untaxed line."""
    client = customer()
    cust = connector.create(client, Mapping(), "k")
    doc = invoice(client.key, "TAX-1")
    doc = replace(doc, lines=(replace(doc.lines[0], tax_rate_key="gst"),))
    with pytest.raises(ValidationFailed) as info:
        connector.create(doc, Mapping(line_accounts=(None,), tax_codes={"gst": "424242"},
                                      refs={client.key: cust.remote_id}), "k2")
    [refused] = FreshBooksConnector.refused_references(info.value)
    assert refused.kinds == {RuleKind.TAX_CODE} and refused.remote_id == "424242"
    with pytest.raises(ValidationFailed) as info:
        connector.create(doc, Mapping(line_accounts=("424242",), refs={client.key: cust.remote_id}), "k3")
    assert info.value.platform_code == "unknown_account"
    assert fsandbox.store.rows("invoices") == []
    gst = next(k for k, (name, _) in connector._taxes.items() if name == "GST 10%")
    made = connector.create(doc, Mapping(line_accounts=(None,), tax_codes={"gst": gst},
                                         refs={client.key: cust.remote_id}), "k4")
    assert made.total == doc.lines[0].net_amount * 11 / 10

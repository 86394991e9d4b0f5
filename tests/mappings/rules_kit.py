"""Snapshots and rules for the mapping-resolution tests."""
from decimal import Decimal

import pytest

from connectors.base import BaseConnector, Capabilities, Dimension
from connectors.documents import InvoiceSnapshot, LineSnapshot
from mappings.models import Scope
from tests import factories as f


def line(kind="product", **kw):
    values = dict(description="", quantity=Decimal("1"), unit_price=Decimal("10.00"), net_amount=Decimal("10.00"),
                  tax_amount=Decimal("0.00"))
    return LineSnapshot(kind=kind, **{**values, **kw})


def invoice(org, *lines):
    return InvoiceSnapshot(key="ledger.invoice:1", organization_id=org.pk, number="INV-1", lines=lines)


class DimensionsConnector(BaseConnector):
    """A platform declaring one dimension of each shape: per line, per document, and a two-part value."""

    id, name = "dimensions-test", "Dimensions Test"
    capabilities = Capabilities(entities=frozenset({"invoice"}))
    dimensions = (Dimension("class", "Class", "Classes (optional)", "A class per line.", "class id"),
                  Dimension("location", "Location", "Location (optional)", "One per document.", "location id",
                            per_line=False),
                  Dimension("tracking", "Tracking", "Tracking (optional)", "Category and option per line.",
                            "tracking category/option", pair_separator="/"))


@pytest.fixture
def dimensions_platform(settings):
    """``DimensionsConnector`` registered (as a host would add a connector through settings)."""
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "CONNECTORS": {
        DimensionsConnector.id: f"{__name__}.DimensionsConnector"}}
    return DimensionsConnector.id


def connection_with_rules(platform: str = "qbo"):
    """A connection serving two organizations, and ``rule(kind, scope, value, remote, organization)`` for it."""
    conn = f.ConnectionFactory(platform=platform)
    org, other = f.OrganizationFactory(), f.OrganizationFactory()
    conn.organizations.add(org, other)

    def rule(kind, scope=Scope.DEFAULT, value="", remote="X", organization=None):
        return f.MappingFactory(connection=conn, kind=kind, scope=scope, local_value=value, remote_id=remote,
                                organization=organization)

    return conn, org, other, rule

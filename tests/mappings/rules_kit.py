"""Snapshots and rules for the mapping-resolution tests."""
from decimal import Decimal

from connectors.documents import InvoiceSnapshot, LineSnapshot
from mappings.models import Scope
from tests import factories as f


def line(kind="product", **kw):
    values = dict(description="", quantity=Decimal("1"), unit_price=Decimal("10.00"), net_amount=Decimal("10.00"),
                  tax_amount=Decimal("0.00"))
    return LineSnapshot(kind=kind, **{**values, **kw})


def invoice(org, *lines):
    return InvoiceSnapshot(key="ledger.invoice:1", organization_id=org.pk, number="INV-1", lines=lines)


def connection_with_rules():
    """A connection serving two organizations, and ``rule(kind, scope, value, remote, organization)`` for it."""
    conn = f.ConnectionFactory()
    org, other = f.OrganizationFactory(), f.OrganizationFactory()
    conn.organizations.add(org, other)

    def rule(kind, scope=Scope.DEFAULT, value="", remote="X", organization=None):
        return f.MappingFactory(connection=conn, kind=kind, scope=scope, local_value=value, remote_id=remote,
                                organization=organization)

    return conn, org, other, rule

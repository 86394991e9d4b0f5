"""Adapters for the ``ledger`` models (the same mechanism a host uses for its own models)."""
from __future__ import annotations

from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, Entity, InvoiceSnapshot,
                                  ItemSnapshot, LineSnapshot, PaymentSnapshot)
from ledger.money import line_net, line_tax
from ledger.totals import compute_totals

from .sources import SourceAdapter, key_for


class _OrganizationScoped(SourceAdapter):
    def organization_id(self, obj) -> int:
        return obj.organization_id

    def queryset(self, organization_ids):
        return self.model._default_manager.filter(organization_id__in=organization_ids).order_by("pk")


def line_snapshots(lines) -> tuple[LineSnapshot, ...]:
    """Snapshot lines of any ledger-like line objects (kind, item, description, quantity, unit_price...)."""
    result = []
    for line in lines:
        rate = line.tax_rate
        net = line_net(line.quantity, line.unit_price)
        item = line.item
        result.append(LineSnapshot(
            kind=line.kind,
            description=" — ".join(p for p in (line.description, line.note) if p) or (item.name if item else ""),
            quantity=line.quantity, unit_price=line.unit_price, net_amount=net,
            tax_amount=line_tax(net, rate.rate if rate else None),
            item_key=key_for(item) if item else None, item_name=item.name if item else "",
            category=item.category.name if item and item.category_id else "",
            tax_rate_key=key_for(rate) if rate else None, tax_rate_name=rate.name if rate else "",
            tax_rate_percent=rate.rate if rate else None,
        ))
    return tuple(result)


def totals_of(lines: tuple[LineSnapshot, ...]) -> dict:
    totals = compute_totals((l.kind, l.quantity, l.unit_price, l.tax_rate_percent) for l in lines)
    return {"subtotal": totals.subtotal, "discount_total": totals.discount, "tax_total": totals.tax,
            "total": totals.total}


class CustomerAdapter(_OrganizationScoped):
    entity = Entity.CUSTOMER

    def snapshot(self, obj) -> CustomerSnapshot:
        return CustomerSnapshot(key=key_for(obj), organization_id=obj.organization_id, name=obj.name,
                                email=obj.email, currency=obj.currency,
                                parent_key=f"ledger.customer:{obj.parent_id}" if obj.parent_id else None)


class ItemAdapter(_OrganizationScoped):
    entity = Entity.ITEM

    def snapshot(self, obj) -> ItemSnapshot:
        return ItemSnapshot(key=key_for(obj), organization_id=obj.organization_id, name=obj.name, sku=obj.sku,
                            kind=obj.kind, category=obj.category.name if obj.category_id else "",
                            unit_price=obj.unit_price, taxable=bool(obj.tax_rate_id))


class _SalesAdapter(_OrganizationScoped):
    def document_date(self, obj):
        return obj.issue_date

    def _common(self, obj) -> dict:
        lines = line_snapshots(obj.lines.select_related("item__category", "tax_rate"))
        return dict(key=key_for(obj), organization_id=obj.organization_id, number=obj.number,
                    customer_key=f"ledger.customer:{obj.customer_id}", issue_date=obj.issue_date,
                    currency=obj.currency, exchange_rate=obj.exchange_rate, memo=obj.memo, status=obj.status,
                    lines=lines, **totals_of(lines))


class InvoiceAdapter(_SalesAdapter):
    entity = Entity.INVOICE
    triggers = {"ledger.InvoiceLine": "invoice"}

    def snapshot(self, obj) -> InvoiceSnapshot:
        return InvoiceSnapshot(**self._common(obj), private_note=obj.private_note, due_date=obj.due_date)


class CreditNoteAdapter(_SalesAdapter):
    entity = Entity.CREDIT_NOTE
    triggers = {"ledger.CreditNoteLine": "credit_note", "ledger.CreditNoteAllocation": "credit_note"}

    def snapshot(self, obj) -> CreditNoteSnapshot:
        allocations = tuple(Allocation(f"ledger.invoice:{a.invoice_id}", a.amount)
                            for a in obj.allocations.order_by("id"))
        return CreditNoteSnapshot(**self._common(obj), allocations=allocations)


class PaymentAdapter(_OrganizationScoped):
    entity = Entity.PAYMENT
    triggers = {"ledger.PaymentAllocation": "payment"}

    def document_date(self, obj):
        return obj.date

    def snapshot(self, obj) -> PaymentSnapshot:
        return PaymentSnapshot(
            key=key_for(obj), organization_id=obj.organization_id, number=obj.number,
            customer_key=f"ledger.customer:{obj.customer_id}", date=obj.date, amount=obj.amount,
            currency=obj.currency, exchange_rate=obj.exchange_rate, method=obj.method, memo=obj.memo,
            status=obj.status,
            allocations=tuple(Allocation(f"ledger.invoice:{a.invoice_id}", a.amount)
                              for a in obj.allocations.order_by("id")))

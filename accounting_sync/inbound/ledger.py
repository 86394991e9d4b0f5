"""The ledger adapters' side of records created on the platform: matching and creating customers, items, invoices
and credit notes (``SourceAdapter.find_from_platform`` / ``create_from_platform``).

Kept apart from ``ledger_adapters`` so the outbound adapters stay short; the adapters there mix these in.
"""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Q

from connectors.base import RemoteCustomer, RemoteDocument, RemoteItem
from ledger.models import CreditNote, CreditNoteAllocation, Customer, DocumentStatus, Item, LineKind, TaxRate

from ..core.sources import Incoming


class CustomerFromPlatform:
    def find_from_platform(self, organization_id: int, remote: RemoteCustomer) -> Customer | None:
        """Tax / company number, then e-mail, then exact name; the oldest customer when several match."""
        mine = Customer.objects.filter(organization_id=organization_id).order_by("pk")
        for wanted in (Q(tax_number=remote.tax_number.strip()) if remote.tax_number.strip() else None,
                       Q(email__iexact=remote.email.strip()) if remote.email.strip() else None,
                       Q(name=remote.name) if remote.name else None):
            if wanted is not None and (found := mine.filter(wanted).first()):
                return found
        return None

    def create_from_platform(self, organization_id: int, remote: RemoteCustomer) -> Customer:
        size = Customer._meta.get_field("name").max_length
        customer = Customer(organization_id=organization_id, name=remote.name[:size] or remote.remote_id,
                            email=remote.email, tax_number=remote.tax_number[:50])
        if remote.currency:
            customer.currency = remote.currency
        if remote.active is False:
            customer.active = False
        customer.save()
        return customer

    def update_from_platform(self, customer: Customer, remote: RemoteCustomer) -> bool:
        """Name, e-mail, tax number and the active flag as the platform has them (what it leaves empty stays)."""
        size = Customer._meta.get_field("name").max_length
        wanted = {"name": remote.name.strip()[:size], "email": remote.email.strip(),
                  "tax_number": remote.tax_number.strip()[:50], "active": remote.active}
        return _update(customer, wanted)


class ItemFromPlatform:
    def find_from_platform(self, organization_id: int, remote: RemoteItem) -> Item | None:
        """Code (our SKU), then exact name."""
        mine = Item.objects.filter(organization_id=organization_id).order_by("pk")
        if remote.code and (found := mine.filter(sku=remote.code).first()):
            return found
        return mine.filter(name=remote.name).first() if remote.name else None

    def create_from_platform(self, organization_id: int, remote: RemoteItem) -> Item:
        item = Item(organization_id=organization_id, name=remote.name[:100] or remote.code or remote.remote_id,
                    sku=remote.code[:100], kind=LineKind.PRODUCT if remote.kind == "product" else LineKind.SERVICE)
        if remote.unit_price is not None and remote.unit_price >= 0:
            item.unit_price = remote.unit_price
        if remote.active is False:
            item.active = False
        item.save()
        return item

    def update_from_platform(self, item: Item, remote: RemoteItem) -> bool:
        """Name, code, sales price and the active flag as the platform has them (what it leaves empty stays)."""
        price = remote.unit_price if remote.unit_price is not None and remote.unit_price >= 0 else None
        wanted = {"name": remote.name.strip()[:100], "sku": remote.code.strip()[:100], "unit_price": price,
                  "active": remote.active}
        return _update(item, wanted)


def _update(obj, wanted: dict) -> bool:
    """Set the fields whose wanted value is given (not empty, not None) and differs; save those. True if any."""
    changed = []
    for name, value in wanted.items():
        if value is None or value == "" or getattr(obj, name) == value:
            continue
        setattr(obj, name, value)
        changed.append(name)
    if changed:
        obj.save(update_fields=[*changed, "updated_at"])
    return bool(changed)


class DocumentFromPlatform:
    """Invoices and credit notes; ``self.model`` is the document model, its lines are ``lines``."""

    related_sources = {"customer": "ledger.customer", "item": "ledger.item"}

    def find_from_platform(self, organization_id: int, remote: RemoteDocument):
        """A local document with the platform document's number (ours, its reference not yet written)."""
        if not remote.number:
            return None
        return self.model._default_manager.filter(organization_id=organization_id, number=remote.number).first()

    def create_from_platform(self, organization_id: int, incoming: Incoming):
        remote = incoming.remote
        customer = Customer.objects.get(pk=_pk(incoming.customer_key))
        document = self.model(organization_id=organization_id, customer=customer, status=DocumentStatus.ISSUED,
                              number=_free_number(self.model, organization_id, remote.number
                                                  or f"{incoming.platform.split()[0]} {remote.remote_id}"),
                              currency=remote.currency or customer.currency, memo=remote.memo)
        if remote.issue_date:
            document.issue_date = remote.issue_date
        if remote.due_date and hasattr(document, "due_date"):
            document.due_date = remote.due_date
        document.save()
        lines = self.model._meta.get_field("lines").related_model
        rates = _tax_rates(organization_id, incoming.tax_rates)
        for position, line in enumerate(remote.details):
            item_key = incoming.item_keys.get(line.item_remote_id)
            lines(**{self.model._meta.get_field("lines").field.name: document}, position=position,
                  kind=line.kind if line.kind in LineKind.values else LineKind.SERVICE,
                  item_id=_pk(item_key) if item_key else None, description=line.description[:4000],
                  quantity=line.quantity, unit_price=max(line.unit_price, Decimal("0")),
                  tax_rate=rates.get(line.tax_code)).save()
        if self.model is CreditNote:
            for invoice_key, amount in incoming.applications.items():
                if amount > 0:
                    CreditNoteAllocation(credit_note=document, invoice_id=_pk(invoice_key), amount=amount).save()
        return document


def _pk(key: str) -> int:
    return int(key.rsplit(":", 1)[1])


def _tax_rates(organization_id: int, wanted: dict[str, str]) -> dict[str, TaxRate]:
    """Platform tax code -> the organization's tax rate, by the key or name the connection's rule names."""
    found = {}
    for code, local in wanted.items():
        rates = TaxRate.objects.filter(organization_id=organization_id)
        rate = (rates.filter(pk=_pk(local)).first() if local.startswith("ledger.taxrate:")
                else rates.filter(name=local).order_by("pk").first())
        if rate is not None:
            found[code] = rate
    return found


def _free_number(model, organization_id: int, wanted: str) -> str:
    """The platform's number as the local one, made unique within the organization."""
    size = model._meta.get_field("number").max_length
    number, n = wanted[:size], 1
    while model._default_manager.filter(organization_id=organization_id, number=number).exists():
        n += 1
        suffix = f"-{n}"
        number = wanted[:size - len(suffix)] + suffix
    return number

"""Adapters for the ``ledger`` models (the same mechanism a host uses for its own models)."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch, prefetch_related_objects

from connectors.documents import (
    Allocation,
    CreditNoteSnapshot,
    CustomerSnapshot,
    Entity,
    ExpenseLineSnapshot,
    ExpenseSnapshot,
    InvoiceSnapshot,
    ItemSnapshot,
    JournalLineSnapshot,
    JournalSnapshot,
    LineSnapshot,
    PaymentSnapshot,
    RefundSnapshot,
)
from ledger.models import CreditNoteAllocation, Invoice, Payment, PaymentAllocation
from ledger.money import line_net, line_tax, quantize
from ledger.totals import compute_totals

from .ledger_inbound import CustomerFromPlatform, DocumentFromPlatform, ItemFromPlatform
from .sources import SourceAdapter, key_for


class _OrganizationScoped(SourceAdapter):
    def organization_id(self, obj) -> int:
        return obj.organization_id

    def queryset(self, organization_ids):
        return self.model._default_manager.filter(organization_id__in=organization_ids).order_by("pk")


def line_snapshots(lines) -> tuple[LineSnapshot, ...]:
    """Snapshot lines of any ledger-like line objects (kind, item, description, quantity, unit_price...).

    A line's note (``note``, optional on a host's lines) is sent after its description: the platforms have one
    description per line."""
    result = []
    for line in lines:
        rate = line.tax_rate
        net = line_net(line.quantity, line.unit_price)
        item = line.item
        described = " — ".join(p for p in (line.description, getattr(line, "note", "")) if p)
        result.append(LineSnapshot(
            kind=line.kind,
            description=described or (item.name if item else ""),
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


class CustomerAdapter(CustomerFromPlatform, _OrganizationScoped):
    entity = Entity.CUSTOMER

    def snapshot(self, obj) -> CustomerSnapshot:
        return CustomerSnapshot(key=key_for(obj), organization_id=obj.organization_id, name=obj.name,
                                email=obj.email, currency=obj.currency,
                                parent_key=f"ledger.customer:{obj.parent_id}" if obj.parent_id else None,
                                active=obj.active)


class ItemAdapter(ItemFromPlatform, _OrganizationScoped):
    entity = Entity.ITEM

    def snapshot(self, obj) -> ItemSnapshot:
        return ItemSnapshot(key=key_for(obj), organization_id=obj.organization_id, name=obj.name, sku=obj.sku,
                            kind=obj.kind, category=obj.category.name if obj.category_id else "",
                            unit_price=obj.unit_price, taxable=bool(obj.tax_rate_id), active=obj.active)


def _prefetched(obj, name: str) -> bool:
    return name in getattr(obj, "_prefetched_objects_cache", {})


#: Where ``prefetch`` leaves related rows: plain lists (``Prefetch(to_attr=...)``). Django's own prefetch cache
#: builds a queryset per object and relation, which cost more than the snapshots in a 10,000-document
#: reconciliation; a list costs nothing.
LINES, PAYMENTS, CREDITS = "accounting_sync_lines", "accounting_sync_payment_allocations", \
    "accounting_sync_credit_allocations"


def _allocations(obj) -> list:
    """A payment's or credit note's allocations in id order (prefetched ones without a query)."""
    if _prefetched(obj, "allocations"):
        return sorted(obj.allocations.all(), key=lambda a: a.pk)
    return list(obj.allocations.order_by("id"))


class _SalesAdapter(_OrganizationScoped):
    def document_date(self, obj):
        return obj.issue_date

    def prefetch(self, objs: list) -> None:
        lines = self.model._meta.get_field("lines").related_model
        prefetch_related_objects(objs, Prefetch("lines", queryset=lines.objects.select_related("item__category",
                                                                                                "tax_rate"),
                                                to_attr=LINES))

    def _common(self, obj) -> dict:
        prefetched = getattr(obj, LINES, None)
        lines = line_snapshots(prefetched if prefetched is not None
                               else obj.lines.select_related("item__category", "tax_rate"))
        return dict(key=key_for(obj), organization_id=obj.organization_id, number=obj.number,
                    customer_key=f"ledger.customer:{obj.customer_id}", issue_date=obj.issue_date,
                    currency=obj.currency, exchange_rate=obj.exchange_rate, memo=obj.memo, status=obj.status,
                    lines=lines, **totals_of(lines))


class _TwoWaySalesAdapter(DocumentFromPlatform, _SalesAdapter):
    def apply_line_amounts_from_platform(self, obj, lines) -> None:
        mine = [line for line in obj.lines.order_by("position", "pk") if line.kind != "discount"]
        if len(mine) != len(lines):
            raise ValueError(f"the platform has {len(lines)} lines, this document {len(mine)}")
        for line, (quantity, unit_price) in zip(mine, lines):
            if (line.quantity, line.unit_price) != (quantity, unit_price):
                line.quantity, line.unit_price = quantity, unit_price
                line.save()

    def void_from_platform(self, obj) -> None:
        obj.status = "void"
        obj.save()


class InvoiceAdapter(_TwoWaySalesAdapter):
    entity = Entity.INVOICE
    triggers = {"ledger.InvoiceLine": "invoice"}

    def snapshot(self, obj) -> InvoiceSnapshot:
        return InvoiceSnapshot(**self._common(obj), private_note=obj.private_note, due_date=obj.due_date)

    def prefetch(self, objs: list) -> None:
        super().prefetch(objs)
        prefetch_related_objects(
            objs, Prefetch("payment_allocations", queryset=PaymentAllocation.objects.select_related("payment"),
                           to_attr=PAYMENTS),
            Prefetch("credit_allocations", queryset=CreditNoteAllocation.objects.select_related("credit_note"),
                     to_attr=CREDITS))

    def applied(self, obj) -> list[tuple[str, Decimal]]:
        """Allocations of payments and credit notes that are not void (each travels with its payment or note)."""
        if hasattr(obj, PAYMENTS) and hasattr(obj, CREDITS):
            payments = [(a.payment_id, a.amount) for a in getattr(obj, PAYMENTS) if a.payment.status != "void"]
            credits = [(a.credit_note_id, a.amount) for a in getattr(obj, CREDITS) if a.credit_note.status != "void"]
        else:
            payments = obj.payment_allocations.exclude(payment__status="void").values_list("payment_id", "amount")
            credits = obj.credit_allocations.exclude(credit_note__status="void").values_list("credit_note_id",
                                                                                             "amount")
        return ([(f"ledger.payment:{pk}", amount) for pk, amount in payments]
                + [(f"ledger.creditnote:{pk}", amount) for pk, amount in credits])


class CreditNoteAdapter(_TwoWaySalesAdapter):
    entity = Entity.CREDIT_NOTE
    triggers = {"ledger.CreditNoteLine": "credit_note", "ledger.CreditNoteAllocation": "credit_note"}

    def snapshot(self, obj) -> CreditNoteSnapshot:
        allocations = tuple(Allocation(f"ledger.invoice:{a.invoice_id}", a.amount) for a in _allocations(obj))
        return CreditNoteSnapshot(**self._common(obj), allocations=allocations)

    def prefetch(self, objs: list) -> None:
        super().prefetch(objs)
        prefetch_related_objects(objs, "allocations")

    def applied(self, obj) -> list[tuple[str, Decimal]]:
        """The note's own applications to invoices and the refunds paid out of it (not void): its remaining
        credit is its total less these."""
        return ([(key_for(obj), a.amount) for a in obj.allocations.all()]
                + [(key_for(r), r.amount) for r in obj.refunds.exclude(status="void").order_by("pk")])


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
            allocations=tuple(Allocation(f"ledger.invoice:{a.invoice_id}", a.amount) for a in _allocations(obj)))

    def prefetch(self, objs: list) -> None:
        prefetch_related_objects(objs, "allocations")

    # -- platform -> local --------------------------------------------------------------------------------------
    def accepts_payment_for(self, invoices) -> bool:
        return bool(invoices) and all(isinstance(i, Invoice) for i in invoices)

    def apply_from_platform(self, existing, remote, invoice_keys, platform):
        """Record (or change) the payment the platform holds: amount, date and allocations follow the platform."""
        invoices = [Invoice.objects.get(pk=int(key.split(":")[1])) for key in invoice_keys.values()]
        first = invoices[0]
        payment = existing or Payment(organization_id=first.organization_id, customer_id=first.customer_id,
                                      number=_free_number(first.organization_id, remote.reference
                                                          or f"{platform.split()[0]} {remote.remote_id}"),
                                      method="transfer", memo=f"Recorded in {platform}"[:500])
        payment.date, payment.amount = remote.date, remote.amount
        payment.currency = remote.currency or first.currency
        payment.save()
        wanted = {int(invoice_keys[remote_id].split(":")[1]): amount for remote_id, amount in remote.allocations}
        payment.allocations.exclude(invoice_id__in=wanted).delete()
        for invoice_id, amount in wanted.items():
            PaymentAllocation.objects.update_or_create(payment=payment, invoice_id=invoice_id,
                                                       defaults={"amount": amount})
        return payment

    def delete_from_platform(self, obj) -> None:
        obj.delete()


class RefundAdapter(_OrganizationScoped):
    entity = Entity.REFUND

    def document_date(self, obj):
        return obj.date

    def snapshot(self, obj) -> RefundSnapshot:
        return RefundSnapshot(
            key=key_for(obj), organization_id=obj.organization_id, number=obj.number,
            customer_key=f"ledger.customer:{obj.customer_id}", date=obj.date, amount=quantize(obj.amount),
            currency=obj.currency, exchange_rate=obj.exchange_rate, method=obj.method, memo=obj.memo,
            status=obj.status,
            credit_note_key=f"ledger.creditnote:{obj.credit_note_id}" if obj.credit_note_id else None,
            payment_key=f"ledger.payment:{obj.payment_id}" if obj.payment_id else None)


class ExpenseAdapter(_OrganizationScoped):
    entity = Entity.EXPENSE
    triggers = {"ledger.ExpenseLine": "expense"}

    def document_date(self, obj):
        return obj.date

    def label(self, obj) -> str:
        return f"Expense {obj.number} ({obj.payee})"

    def snapshot(self, obj) -> ExpenseSnapshot:
        lines = []
        for line in obj.lines.select_related("tax_rate"):
            rate, net = line.tax_rate, quantize(line.amount)
            lines.append(ExpenseLineSnapshot(
                cost_kind=line.cost_kind, description=line.description or line.get_cost_kind_display(),
                net_amount=net, tax_amount=line_tax(net, rate.rate if rate else None),
                tax_rate_key=key_for(rate) if rate else None, tax_rate_name=rate.name if rate else "",
                tax_rate_percent=rate.rate if rate else None))
        subtotal = sum((line.net_amount for line in lines), Decimal("0.00"))
        tax = sum((line.tax_amount for line in lines), Decimal("0.00"))
        return ExpenseSnapshot(
            key=key_for(obj), organization_id=obj.organization_id, number=obj.number, payee=obj.payee, date=obj.date,
            currency=obj.currency, exchange_rate=obj.exchange_rate, paid_from=obj.paid_from,
            attachment=obj.attachment, memo=obj.memo, status=obj.status, lines=tuple(lines), subtotal=subtotal,
            tax_total=tax, total=subtotal + tax)


class JournalAdapter(_OrganizationScoped):
    entity = Entity.JOURNAL
    triggers = {"ledger.JournalLine": "entry"}

    def document_date(self, obj):
        return obj.date

    def snapshot(self, obj) -> JournalSnapshot:
        lines = tuple(JournalLineSnapshot(account_code=line.account_code.strip(), description=line.description,
                                          debit=quantize(line.debit), credit=quantize(line.credit))
                      for line in obj.lines.all())
        return JournalSnapshot(key=key_for(obj), organization_id=obj.organization_id, number=obj.number,
                               date=obj.date, currency=obj.currency, exchange_rate=obj.exchange_rate, memo=obj.memo,
                               status=obj.status, lines=lines)


def _free_number(organization_id: int, wanted: str) -> str:
    """The platform's reference as the local payment number, made unique within the organization."""
    size = Payment._meta.get_field("number").max_length
    number, n = wanted[:size], 1
    while Payment.objects.filter(organization_id=organization_id, number=number).exists():
        n += 1
        suffix = f"-{n}"
        number = wanted[:size - len(suffix)] + suffix
    return number

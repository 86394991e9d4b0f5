"""Adapters for the ``ledger`` models (the same mechanism a host uses for its own models)."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.db.models import prefetch_related_objects

from connectors.documents import (
    Allocation,
    BillPaymentSnapshot,
    BillSnapshot,
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
from ledger.models import (BillPayment, CreditNoteAllocation, DocumentStatus, Invoice, Item, Payment, PaymentAllocation,
                           Refund, TaxRate)
from ledger.money import line_net, line_tax, quantize
from ledger.totals import sum_lines

from .inbound.ledger import CustomerFromPlatform, DocumentFromPlatform, ItemFromPlatform
from .core.batching import among
from .core.sources import SourceAdapter, key_for


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
    totals = sum_lines((ln.kind, ln.net_amount, ln.tax_amount) for ln in lines)  # each line rounded once
    return {"subtotal": totals.subtotal, "discount_total": totals.discount, "tax_total": totals.tax,
            "total": totals.total}


class CustomerAdapter(CustomerFromPlatform, _OrganizationScoped):
    entity = Entity.CUSTOMER

    def snapshot(self, obj) -> CustomerSnapshot:
        return CustomerSnapshot(key=key_for(obj), organization_id=obj.organization_id, name=obj.name,
                                email=obj.email, currency=obj.currency,
                                parent_key=f"ledger.customer:{obj.parent_id}" if obj.parent_id else None,
                                active=obj.active, tax_number=obj.tax_number)


class ItemAdapter(ItemFromPlatform, _OrganizationScoped):
    entity = Entity.ITEM

    def snapshot(self, obj) -> ItemSnapshot:
        return ItemSnapshot(key=key_for(obj), organization_id=obj.organization_id, name=obj.name, sku=obj.sku,
                            kind=obj.kind, category=obj.category.name if obj.category_id else "",
                            unit_price=obj.unit_price, taxable=bool(obj.tax_rate_id), active=obj.active)


def _prefetched(obj, name: str) -> bool:
    return name in getattr(obj, "_prefetched_objects_cache", {})


#: Where ``prefetch`` leaves what it loaded: plain lists on the object. Django's own prefetch cache builds a
#: queryset per object and relation, and a model instance per related row (a line, its tax rate, its item), which
#: cost more than the snapshots in a reconciliation of thousands of documents.
LINES, APPLIED = "accounting_sync_lines", "accounting_sync_applied"


class _Line:
    """A document line as ``line_snapshots`` reads it, loaded as a row; its item and tax rate are shared by every
    line that names them."""

    __slots__ = ("kind", "description", "note", "quantity", "unit_price", "item", "tax_rate")

    def __init__(self, kind, description, note, quantity, unit_price, item, tax_rate) -> None:
        self.kind, self.description, self.note = kind, description, note
        self.quantity, self.unit_price, self.item, self.tax_rate = quantity, unit_price, item, tax_rate


def _prefetch_lines(model, objs: list) -> None:
    """Each document's lines in position order, as ``_Line`` rows under ``LINES``: one query for the lines, one
    per kind of thing they name."""
    field = model._meta.get_field("lines")
    owner = field.field.attname  # invoice_id, credit_note_id
    lines: dict[int, list[_Line]] = {obj.pk: [] for obj in objs}
    rows = [row for row in field.related_model._default_manager.filter(**among(owner, lines))
            .order_by(owner, "position", "id")
            .values_list(owner, "kind", "description", "note", "quantity", "unit_price", "item_id", "tax_rate_id")
            if row[0] in lines]
    items = Item.objects.select_related("category").in_bulk({row[6] for row in rows if row[6] is not None})
    rates = TaxRate.objects.in_bulk({row[7] for row in rows if row[7] is not None})
    for pk, kind, description, note, quantity, unit_price, item, rate in rows:
        lines[pk].append(_Line(kind, description, note, quantity, unit_price, items.get(item), rates.get(rate)))
    for obj in objs:
        setattr(obj, LINES, lines[obj.pk])


def _allocations(obj) -> list:
    """A payment's or credit note's allocations in id order (prefetched ones without a query)."""
    if _prefetched(obj, "allocations"):
        return sorted(obj.allocations.all(), key=lambda a: a.pk)
    return list(obj.allocations.order_by("id"))


class _SalesAdapter(_OrganizationScoped):
    def document_date(self, obj):
        return obj.issue_date

    def prefetch(self, objs: list) -> None:
        if objs:
            _prefetch_lines(self.model, objs)

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
        for line, (quantity, unit_price) in zip(mine, lines, strict=False):
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
        applied: dict[int, list] = {obj.pk: [] for obj in objs}
        for invoice, key, amount in _applications([obj.pk for obj in objs]):
            applied[invoice].append((key, amount))
        for obj in objs:
            setattr(obj, APPLIED, applied[obj.pk])

    def applied(self, obj) -> list[tuple[str, Decimal]]:
        """Allocations of payments and credit notes that are not void (each travels with its payment or note)."""
        if hasattr(obj, APPLIED):
            return getattr(obj, APPLIED)
        return [(key, amount) for _, key, amount in _applications([obj.pk])]


def _applications(invoices: list[int]) -> Iterator[tuple[int, str, Decimal]]:
    """(invoice pk, key of the payment or credit note, amount) of each allocation to ``invoices`` whose payment or
    note is not void."""
    wanted = set(invoices)
    for model, owner, prefix in ((PaymentAllocation, "payment", "ledger.payment"),
                                 (CreditNoteAllocation, "credit_note", "ledger.creditnote")):
        rows = (model._default_manager.filter(**among("invoice_id", wanted)).exclude(**{f"{owner}__status": "void"})
                .order_by("pk").values_list("invoice_id", f"{owner}_id", "amount"))
        yield from ((invoice, f"{prefix}:{pk}", amount) for invoice, pk, amount in rows if invoice in wanted)


class CreditNoteAdapter(_TwoWaySalesAdapter):
    entity = Entity.CREDIT_NOTE
    triggers = {"ledger.CreditNoteLine": "credit_note", "ledger.CreditNoteAllocation": "credit_note"}

    def snapshot(self, obj) -> CreditNoteSnapshot:
        allocations = tuple(Allocation(f"ledger.invoice:{a.invoice_id}", a.amount) for a in _allocations(obj))
        return CreditNoteSnapshot(**self._common(obj), allocations=allocations)

    def prefetch(self, objs: list) -> None:
        """Lines, allocations, and the refunds paid out of each note (not void) in one query for all of them,
        instead of one per note when ``applied`` reads them."""
        super().prefetch(objs)
        prefetch_related_objects(objs, "allocations")
        refunds: dict[int, list] = {obj.pk: [] for obj in objs}
        for note, pk, amount in (Refund.objects.filter(credit_note_id__in=list(refunds)).exclude(status="void")
                                 .order_by("pk").values_list("credit_note_id", "pk", "amount")):
            refunds[note].append((f"{Refund._meta.label_lower}:{pk}", amount))
        for obj in objs:
            setattr(obj, APPLIED, refunds[obj.pk])

    def applied(self, obj) -> list[tuple[str, Decimal]]:
        """The note's own applications to invoices and the refunds paid out of it (not void): its remaining
        credit is its total less these."""
        refunds = getattr(obj, APPLIED, None)
        if refunds is None:
            refunds = [(key_for(r), r.amount) for r in obj.refunds.exclude(status="void").order_by("pk")]
        return [(key_for(obj), a.amount) for a in obj.allocations.all()] + refunds


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


class _VoidedFromPlatform:
    """Refunds, expenses and journals voided or deleted on the platform are voided here (inbound sync): the record
    stays, as the books keep a voided document, and gives back what it used (a refund its credit)."""

    def void_from_platform(self, obj) -> None:
        obj.status = DocumentStatus.VOID
        obj.save()


class RefundAdapter(_VoidedFromPlatform, _OrganizationScoped):
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


class ExpenseAdapter(_VoidedFromPlatform, _OrganizationScoped):
    entity = Entity.EXPENSE
    triggers = {"ledger.ExpenseLine": "expense"}

    def document_date(self, obj):
        return obj.date

    def label(self, obj) -> str:
        return f"Expense {obj.number} ({obj.payee})"

    def prefetch(self, objs: list) -> None:
        """Lines and their tax rates for all of them in two queries (reconciliation reads thousands)."""
        prefetch_related_objects(objs, "lines__tax_rate")

    def snapshot(self, obj) -> ExpenseSnapshot:
        return ExpenseSnapshot(
            key=key_for(obj), organization_id=obj.organization_id, number=obj.number, payee=obj.payee, date=obj.date,
            currency=obj.currency, exchange_rate=obj.exchange_rate, paid_from=obj.paid_from,
            attachment=obj.attachment, memo=obj.memo, status=obj.status, **_costs(obj))


def _costs(obj) -> dict:
    """An expense's or a bill's lines (ordered by position; prefetched with tax rates when ``prefetch`` ran) and
    their totals, as the snapshot's keyword arguments."""
    lines = []
    for line in obj.lines.all():
        rate, net = line.tax_rate, quantize(line.amount)
        lines.append(ExpenseLineSnapshot(
            cost_kind=line.cost_kind, description=line.description or line.get_cost_kind_display(),
            net_amount=net, tax_amount=line_tax(net, rate.rate if rate else None),
            tax_rate_key=key_for(rate) if rate else None, tax_rate_name=rate.name if rate else "",
            tax_rate_percent=rate.rate if rate else None))
    subtotal = sum((line.net_amount for line in lines), Decimal("0.00"))
    tax = sum((line.tax_amount for line in lines), Decimal("0.00"))
    return dict(lines=tuple(lines), subtotal=subtotal, tax_total=tax, total=subtotal + tax)


class BillAdapter(_VoidedFromPlatform, _OrganizationScoped):
    entity = Entity.BILL
    triggers = {"ledger.BillLine": "bill"}

    def document_date(self, obj):
        return obj.date

    def label(self, obj) -> str:
        return f"Bill {obj.number} ({obj.supplier})"

    def prefetch(self, objs: list) -> None:
        prefetch_related_objects(objs, "lines__tax_rate")

    def applied(self, obj) -> list[tuple[str, Decimal]]:
        """The bill's payments that are not void: what it still owes is its total less these."""
        payments = obj.payments.exclude(status=DocumentStatus.VOID).order_by("pk")
        return [(key_for(p), quantize(p.amount)) for p in payments]

    def snapshot(self, obj) -> BillSnapshot:
        return BillSnapshot(
            key=key_for(obj), organization_id=obj.organization_id, number=obj.number, supplier=obj.supplier,
            supplier_reference=obj.supplier_reference, issue_date=obj.date, due_date=obj.due_date,
            currency=obj.currency, exchange_rate=obj.exchange_rate, attachment=obj.attachment, memo=obj.memo,
            status=obj.status, **_costs(obj))


class BillPaymentAdapter(_VoidedFromPlatform, _OrganizationScoped):
    """A payment of a supplier bill. Its snapshot carries what the bill still owed before it (the bill's total less
    its other payments that are not void), which preflight checks it against."""

    entity = Entity.BILL_PAYMENT

    def document_date(self, obj):
        return obj.date

    def label(self, obj) -> str:
        return f"Bill payment {obj.number} ({obj.bill.number}, {obj.bill.supplier})"

    def prefetch(self, objs: list) -> None:
        prefetch_related_objects(objs, "bill")

    def snapshot(self, obj: BillPayment) -> BillPaymentSnapshot:
        bill = obj.bill
        return BillPaymentSnapshot(
            key=key_for(obj), organization_id=obj.organization_id, number=obj.number, bill_key=key_for(bill),
            bill_number=bill.number, supplier=bill.supplier, date=obj.date, amount=quantize(obj.amount),
            currency=bill.currency, exchange_rate=bill.exchange_rate, paid_from=obj.paid_from, memo=obj.memo,
            status=obj.status, bill_status=bill.status, bill_owed=obj.owed())


class JournalAdapter(_VoidedFromPlatform, _OrganizationScoped):
    entity = Entity.JOURNAL
    triggers = {"ledger.JournalLine": "entry"}

    def document_date(self, obj):
        return obj.date

    def prefetch(self, objs: list) -> None:
        prefetch_related_objects(objs, "lines")

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

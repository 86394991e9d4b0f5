"""How the host tells the pipeline to read its models: one adapter per model."""
from decimal import Decimal

from accounting_sync.ledger_adapters import totals_of
from accounting_sync.core.sources import SourceAdapter, key_for
from connectors.documents import (Allocation, CustomerSnapshot, Entity, InvoiceSnapshot, LineSnapshot,
                                  PaymentSnapshot)
from ledger.money import line_net

from .models import Job


class ClientAdapter(SourceAdapter):
    entity = Entity.CUSTOMER

    def organization_id(self, obj):
        return obj.organization_id

    def snapshot(self, obj):
        return CustomerSnapshot(key=key_for(obj), organization_id=obj.organization_id, name=obj.full_name,
                                email=obj.email)


def _line(kind: str, description: str, quantity: Decimal, price: Decimal) -> LineSnapshot:
    return LineSnapshot(kind=kind, description=description, quantity=quantity, unit_price=price,
                        net_amount=line_net(quantity, price), tax_amount=Decimal("0.00"))


class JobInvoiceAdapter(SourceAdapter):
    entity = Entity.INVOICE
    # A job's status change re-queues its invoices, so a trigger rule "on status Completed" sees it.
    triggers = {"tests_hostapp.Job": "invoices"}
    # The repair job's own workflow: a connection can send an invoice when its job is completed.
    statuses = Job.STATUSES
    final_status = "completed"

    def workflow_status(self, obj):
        return obj.job.status

    def applied(self, obj):
        return [(key_for(p), p.amount) for p in obj.payments.all()]

    def organization_id(self, obj):
        return obj.job.client.organization_id

    def document_date(self, obj):
        return obj.issued_on

    def label(self, obj):
        return f"Job invoice {obj.reference}"

    def snapshot(self, obj):
        lines = [_line("service", f"Labour: {obj.job.description}", obj.labour_hours, obj.hourly_rate)]
        if obj.parts_total:
            lines.append(_line("product", "Parts", Decimal("1"), obj.parts_total))
        lines = tuple(lines)
        return InvoiceSnapshot(key=key_for(obj), organization_id=self.organization_id(obj), number=obj.reference,
                               customer_key=key_for(obj.job.client), issue_date=obj.issued_on,
                               status="void" if obj.cancelled else "issued", lines=lines, **totals_of(lines))

    # Two-way: the invoice's amounts follow the platform; the job (the source record) is never rewritten.
    def apply_line_amounts_from_platform(self, obj, lines):
        if len(lines) != (2 if obj.parts_total else 1):
            raise ValueError(f"the platform has {len(lines)} lines; a job invoice has labour and parts")
        obj.labour_hours, obj.hourly_rate = lines[0]
        if obj.parts_total:
            obj.parts_total = (lines[1][0] * lines[1][1]).quantize(Decimal("0.01"))
        obj.save(update_fields=["labour_hours", "hourly_rate", "parts_total"])

    def void_from_platform(self, obj):
        obj.cancelled = True
        obj.save(update_fields=["cancelled"])


class JobPaymentAdapter(SourceAdapter):
    entity = Entity.PAYMENT

    def accepts_payment_for(self, invoices):
        from .models import JobInvoice

        return len(invoices) == 1 and isinstance(invoices[0], JobInvoice)

    def apply_from_platform(self, existing, remote, invoice_keys, platform):
        from .models import JobInvoice, JobPayment

        invoice = JobInvoice.objects.get(pk=int(next(iter(invoice_keys.values())).split(":")[1]))
        payment = existing or JobPayment(invoice=invoice, reference=(remote.reference or remote.remote_id)[:21])
        payment.paid_on, payment.amount = remote.date, remote.amount
        payment.save()
        return payment

    def delete_from_platform(self, obj):
        obj.delete()

    def organization_id(self, obj):
        return obj.invoice.job.client.organization_id

    def document_date(self, obj):
        return obj.paid_on

    def snapshot(self, obj):
        return PaymentSnapshot(key=key_for(obj), organization_id=self.organization_id(obj), number=obj.reference,
                               customer_key=key_for(obj.invoice.job.client), date=obj.paid_on, amount=obj.amount,
                               method="card", allocations=(Allocation(key_for(obj.invoice), obj.amount),))

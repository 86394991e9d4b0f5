"""The ledger adapters: what ``prefetch`` loads for many documents gives the snapshots and applications each
document gives on its own."""
from decimal import Decimal

import pytest

from accounting_sync.core import sources
from accounting_sync.core.batching import among
from ledger.models import CreditNote, CreditNoteAllocation, CreditNoteLine, ItemCategory, PaymentAllocation
from tests.factories import (BillFactory, BillLineFactory, BillPaymentFactory, CustomerFactory, InvoiceFactory,
                             InvoiceLineFactory, ItemFactory, OrganizationFactory, PaymentFactory, RefundFactory,
                             TaxRateFactory)

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents():
    """Invoices with lines of every kind, items with and without a category, two tax rates, a note, payments and
    credit notes (void ones too), and an invoice without lines; a credit note applied to two invoices and partly
    refunded, and a void refund of each note."""
    org = OrganizationFactory()
    customer = CustomerFactory(organization=org)
    gst, vat = TaxRateFactory(organization=org), TaxRateFactory(organization=org, name="VAT", rate=Decimal("20"))
    category = ItemCategory.objects.create(organization=org, name="Lab")
    tested, plain = ItemFactory(organization=org, category=category), ItemFactory(organization=org)
    invoices = [InvoiceFactory(organization=org, customer=customer) for _ in range(4)]
    first, second, third, _empty = invoices
    InvoiceLineFactory(invoice=first, position=2, item=tested, tax_rate=gst, quantity=Decimal("3"),
                       unit_price=Decimal("19.99"), note="fasting")
    InvoiceLineFactory(invoice=first, position=1, kind="shipping", description="", item=plain)
    InvoiceLineFactory(invoice=first, position=3, kind="discount", unit_price=Decimal("5.00"))
    InvoiceLineFactory(invoice=second, position=0, tax_rate=vat, unit_price=Decimal("0.35"), quantity=Decimal("7"))
    InvoiceLineFactory(invoice=second, position=0, kind="fee", description="Restocking", tax_rate=gst)
    InvoiceLineFactory(invoice=third, position=0, item=tested)
    paid = PaymentFactory(organization=org, customer=customer, amount=Decimal("30.00"))
    void = PaymentFactory(organization=org, customer=customer, status="void")
    PaymentAllocation.objects.create(payment=paid, invoice=first, amount=Decimal("20.00"))
    PaymentAllocation.objects.create(payment=paid, invoice=second, amount=Decimal("10.00"))
    PaymentAllocation.objects.create(payment=void, invoice=first, amount=Decimal("5.00"))
    for status in ("issued", "void"):
        credit = CreditNote.objects.create(organization=org, customer=customer, number=f"CN-{status}",
                                           status=status)
        CreditNoteLine.objects.create(credit_note=credit, kind="service", unit_price=Decimal("8.00"), tax_rate=gst)
        CreditNoteAllocation.objects.create(credit_note=credit, invoice=first, amount=Decimal("4.40"))
        CreditNoteAllocation.objects.create(credit_note=credit, invoice=third, amount=Decimal("1.10"))
        if status == "issued":
            RefundFactory(credit_note=credit, amount=Decimal("1.25"))
        RefundFactory(credit_note=credit, amount=Decimal("0.50"), status="void")
    return invoices


@pytest.mark.parametrize("label", ["ledger.invoice", "ledger.creditnote"])
def test_prefetched_snapshots_and_applications_are_those_of_each_document_alone(documents, label,
                                                                                django_assert_max_num_queries):
    adapter = sources.adapter_for_key(f"{label}:0")
    pks = list(adapter.model.objects.values_list("pk", flat=True))
    alone = {pk: (adapter.snapshot(obj), sorted(adapter.applied(obj)))
             for pk, obj in adapter.model.objects.in_bulk(pks).items()}
    many = list(adapter.model.objects.in_bulk(pks).values())
    # Invoices: lines, items, tax rates, payments' and credit notes' applications. Credit notes (no items): lines,
    # tax rates, allocations, refunds. Not one per document.
    with django_assert_max_num_queries(5 if label == "ledger.invoice" else 4):
        adapter.prefetch(many)
        prefetched = {obj.pk: (adapter.snapshot(obj), sorted(adapter.applied(obj))) for obj in many}
    assert prefetched == alone
    if label == "ledger.invoice":
        lines = alone[documents[0].pk][0].lines
        assert [line.kind for line in lines] == ["shipping", "service", "discount"]  # in position order
        assert lines[1].category == "Lab" and lines[1].description == "Consultation — fasting"
        paid = PaymentAllocation.objects.get(invoice=documents[0], payment__status="issued").payment_id
        credit = CreditNote.objects.get(number="CN-issued").pk
        assert alone[documents[0].pk][1] == sorted([(f"ledger.payment:{paid}", Decimal("20.00")),
                                                    (f"ledger.creditnote:{credit}", Decimal("4.40"))])
        assert prefetched[documents[3].pk][0].lines == () and prefetched[documents[3].pk][1] == []
    else:
        note = CreditNote.objects.get(number="CN-issued")
        refund = note.refunds.get(status="issued")
        assert alone[note.pk][1] == sorted([(f"ledger.creditnote:{note.pk}", Decimal("4.40")),
                                            (f"ledger.creditnote:{note.pk}", Decimal("1.10")),
                                            (f"ledger.refund:{refund.pk}", Decimal("1.25"))])


def test_among_is_a_range_only_where_the_ids_are_dense():
    assert among("pk", {7, 8, 10}) == {"pk__gte": 7, "pk__lte": 10}
    assert among("pk", {1, 9}) == {"pk__in": [1, 9]}
    assert among("pk", set()) == {"pk__in": []}


@pytest.mark.parametrize("picked", [(0, 2), (1, 2, 3), (3,)])
def test_a_chunk_with_gaps_loads_its_own_documents_lines_and_applications_only(documents, picked):
    """Selected by range (dense: the others in the span are read too, and dropped) or by list, a chunk's objects,
    lines and applications are those of its own documents: the same as each document gives alone."""
    adapter = sources.adapter_for_key("ledger.invoice:0")
    wanted = [documents[i] for i in picked]
    loaded = sources.in_bulk(adapter.model, [str(invoice.pk) for invoice in wanted])
    assert sorted(loaded) == sorted(str(invoice.pk) for invoice in wanted)
    adapter.prefetch(list(loaded.values()))
    for invoice in wanted:
        alone = adapter.model.objects.get(pk=invoice.pk)
        obj = loaded[str(invoice.pk)]
        assert (adapter.snapshot(obj), sorted(adapter.applied(obj))) == (adapter.snapshot(alone),
                                                                         sorted(adapter.applied(alone)))


def test_a_bill_snapshot_carries_the_supplier_its_number_dates_and_cost_lines():
    bill = BillFactory(supplier="Acme Supplies", supplier_reference="INV-7788", memo="November",
                       attachment="https://files.example/bill.pdf", currency="EUR", exchange_rate=Decimal("1.08"))
    gst = TaxRateFactory(organization=bill.organization)
    BillLineFactory(bill=bill, position=1, cost_kind="consumables", description="", amount=Decimal("15.00"))
    BillLineFactory(bill=bill, position=0, amount=Decimal("200.00"), tax_rate=gst)
    adapter = sources.adapters()["ledger.bill"]
    doc = adapter.snapshot(bill)
    assert (doc.entity, doc.key, doc.number, doc.supplier, doc.supplier_reference) == \
        ("bill", f"ledger.bill:{bill.pk}", bill.number, "Acme Supplies", "INV-7788")
    assert (doc.issue_date, doc.due_date, doc.currency, doc.exchange_rate) == \
        (bill.date, bill.due_date, "EUR", Decimal("1.08"))
    assert [(line.cost_kind, line.description, line.net_amount, line.tax_amount, line.tax_rate_key)
            for line in doc.lines] == [("supplier", "Packaging materials", Decimal("200.00"), Decimal("20.00"),
                                        f"ledger.taxrate:{gst.pk}"),
                                       ("consumables", "Consumables and supplies", Decimal("15.00"),
                                        Decimal("0.00"), None)]
    assert (doc.subtotal, doc.tax_total, doc.total) == (Decimal("215.00"), Decimal("20.00"), Decimal("235.00"))
    assert doc.total == bill.totals().total
    line = bill.lines.get(position=1)
    line.amount = Decimal("16.00")
    line.save()
    assert adapter.snapshot(bill).content_hash() != doc.content_hash()
    parent, attr = sources.triggers()["ledger.billline"]  # a line's change is its bill's change
    assert parent.entity == "bill" and attr == "bill"


def test_a_bill_payment_snapshot_pays_its_bill_from_its_method_and_says_what_the_bill_owed():
    bill = BillFactory(supplier="Acme Supplies", currency="EUR", exchange_rate=Decimal("1.08"))
    BillLineFactory(bill=bill, amount=Decimal("200.00"))
    first = BillPaymentFactory(bill=bill, amount=Decimal("80.00"), paid_from="check", memo="Check 1001")
    adapter = sources.adapters()["ledger.billpayment"]
    doc = adapter.snapshot(first)
    assert (doc.entity, doc.key, doc.number, doc.bill_key, doc.bill_number, doc.supplier) == \
        ("bill_payment", f"ledger.billpayment:{first.pk}", first.number, f"ledger.bill:{bill.pk}", bill.number,
         "Acme Supplies")
    assert (doc.date, doc.amount, doc.currency, doc.exchange_rate, doc.paid_from, doc.memo, doc.status) == \
        (first.date, Decimal("80.00"), "EUR", Decimal("1.08"), "check", "Check 1001", "issued")
    assert (doc.bill_status, doc.bill_owed, doc.dependencies()) == ("issued", Decimal("200.00"),
                                                                     (("bill", f"ledger.bill:{bill.pk}"),))
    second = BillPaymentFactory(bill=bill, amount=Decimal("120.00"))
    again = adapter.snapshot(first)
    assert again.bill_owed == Decimal("80.00") and again.content_hash() == doc.content_hash()
    assert adapter.snapshot(second).bill_owed == Decimal("120.00")
    assert adapter.label(first) == f"Bill payment {first.number} ({bill.number}, Acme Supplies)"
    # the bill's payments are what reconciliation takes off its total
    assert sources.adapters()["ledger.bill"].applied(bill) == [(f"ledger.billpayment:{first.pk}", Decimal("80.00")),
                                                               (f"ledger.billpayment:{second.pk}", Decimal("120.00"))]

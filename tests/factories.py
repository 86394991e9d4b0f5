"""factory-boy factories for the ledger, connections and mappings."""
import datetime as dt
from decimal import Decimal

import factory
from django.db import transaction

from connectors.models import Connection
from ledger import models as L
from mappings.models import Mapping, MappingKind, Scope


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.Organization

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.Customer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.TaxRate

    organization = factory.SubFactory(OrganizationFactory)
    name = "GST 10%"
    rate = Decimal("10")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.Item

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    unit_price = Decimal("50.00")


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.Invoice

    organization = factory.SubFactory(OrganizationFactory)
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    issue_date = factory.LazyFunction(dt.date.today)


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    kind = "service"
    description = "Consultation"
    quantity = Decimal("1")
    unit_price = Decimal("100.00")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.Payment

    organization = factory.SubFactory(OrganizationFactory)
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    number = factory.Sequence(lambda n: f"PAY-{n:05d}")
    amount = Decimal("100.00")
    date = factory.LazyFunction(dt.date.today)


class CreditNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.CreditNote

    organization = factory.SubFactory(OrganizationFactory)
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    number = factory.Sequence(lambda n: f"CN-{n:05d}")
    issue_date = factory.LazyFunction(dt.date.today)


class CreditNoteLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.CreditNoteLine

    credit_note = factory.SubFactory(CreditNoteFactory)
    kind = "product"
    description = "Returned goods"
    quantity = Decimal("1")
    unit_price = Decimal("120.00")


class RefundFactory(factory.django.DjangoModelFactory):
    """A refund of a credit note (pass ``credit_note``, or ``payment`` with ``credit_note=None``)."""

    class Meta:
        model = L.Refund

    credit_note = factory.SubFactory(CreditNoteFactory)
    organization = factory.SelfAttribute("customer.organization")
    customer = factory.LazyAttribute(lambda o: (o.credit_note or o.payment).customer)
    currency = factory.LazyAttribute(lambda o: (o.credit_note or o.payment).currency)
    payment = None
    number = factory.Sequence(lambda n: f"RF-{n:05d}")
    amount = Decimal("10.00")
    method = "card"
    date = factory.LazyFunction(dt.date.today)


class ExpenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.Expense

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"EXP-{n:05d}")
    payee = "Parcel Express"
    date = factory.LazyFunction(dt.date.today)
    paid_from = "card"


class ExpenseLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.ExpenseLine

    expense = factory.SubFactory(ExpenseFactory)
    cost_kind = "return_shipping"
    description = "Return label"
    amount = Decimal("15.00")


class BillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.Bill

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"BILL-{n:05d}")
    supplier = "Acme Supplies"
    supplier_reference = factory.Sequence(lambda n: f"INV-{n:05d}")
    date = factory.LazyFunction(dt.date.today)
    due_date = factory.LazyAttribute(lambda o: o.date + dt.timedelta(days=30))


class BillLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.BillLine

    bill = factory.SubFactory(BillFactory)
    cost_kind = "supplier"
    description = "Packaging materials"
    amount = Decimal("200.00")


class BillPaymentFactory(factory.django.DjangoModelFactory):
    """A payment of a bill (give the bill its lines first: a payment may not exceed what the bill owes)."""

    class Meta:
        model = L.BillPayment

    bill = factory.SubFactory(BillFactory)
    organization = factory.LazyAttribute(lambda o: o.bill.organization)
    number = factory.Sequence(lambda n: f"BP-{n:05d}")
    date = factory.LazyAttribute(lambda o: o.bill.date)
    amount = Decimal("200.00")
    paid_from = "transfer"


class JournalEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.JournalEntry

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"JE-{n:05d}")
    date = factory.LazyFunction(dt.date.today)
    memo = "Card processor fees for the month"


class JournalLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = L.JournalLine

    entry = factory.SubFactory(JournalEntryFactory)
    account_code = "6100"
    debit = Decimal("25.00")
    credit = Decimal("0")


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    name = factory.Sequence(lambda n: f"QBO {n}")
    platform = "qbo"
    client_id = "sandbox-client"
    client_secret = "sandbox-secret"


class MappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mapping

    connection = factory.SubFactory(ConnectionFactory)
    kind = MappingKind.INCOME_ACCOUNT
    scope = Scope.DEFAULT
    local_value = ""


class TriggerRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounting_sync.TriggerRule"

    connection = factory.SubFactory(ConnectionFactory)
    entity = "invoice"
    kind = "on_save"


BILL_DATE, BILL_DUE = dt.date(2026, 11, 2), dt.date(2026, 12, 2)


def two_line_bill(org, gst, exempt, *, currency="USD", rate=None, reference="INV-7788", number="BILL-1001"):
    """A supplier bill owing 200.00: 120.00 taxed at ``gst`` (10%: 12.00) and 68.00 at ``exempt``, saved in one
    transaction (the platforms' own bill suites send it)."""
    with transaction.atomic():
        bill = BillFactory(organization=org, number=number, supplier="Acme Supplies", supplier_reference=reference,
                           date=BILL_DATE, due_date=BILL_DUE, memo="Packaging for November", currency=currency,
                           exchange_rate=rate)
        BillLineFactory(bill=bill, position=0, description="Boxes", amount=Decimal("120.00"), tax_rate=gst)
        BillLineFactory(bill=bill, position=1, description="Tape", amount=Decimal("68.00"), tax_rate=exempt)
    return bill


def supplier_bill(org, tax_rate=None):
    """A supplier bill owing 190.00 and its tax: 100.00 at ``tax_rate`` and 90.00 untaxed, saved in one transaction
    (the Intacct and Kashoo bill suites send it)."""
    with transaction.atomic():
        bill = BillFactory(organization=org, number="BILL-1001", supplier="Acme Supplies",
                           supplier_reference="INV-7788", date=BILL_DATE, due_date=BILL_DUE, memo="Packaging")
        BillLineFactory(bill=bill, cost_kind="supplier", description="Boxes", amount=Decimal("100.00"),
                        tax_rate=tax_rate)
        BillLineFactory(bill=bill, cost_kind="supplier", description="Tape", amount=Decimal("90.00"))
    return bill

"""factory-boy factories for the ledger, connections and mappings."""
import datetime as dt
from decimal import Decimal

import factory

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

"""Financial rules of issue 6 end to end against both sandboxes: organizations sharing a QBO company with their own
mappings (acceptance 1), tax as a line (acceptance 3), foreign currency and where rates come from (acceptance 4),
the customer hierarchy, discounts, notes and memos."""
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from accounting_sync.policies import hierarchy, rules
from accounting_sync.staff.admin import retry_entries
from accounting_sync.ledger_adapters import InvoiceAdapter
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, Outcome, SyncLog
from connectors.errors import ConfigurationError
from ledger import models as L
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.conftest import account_id, drain

pytestmark = pytest.mark.django_db
D = Decimal


def invoice(org, *lines, customer=None, **kwargs):
    """An issued invoice of ``org``: lines are (kind, quantity, unit price[, tax rate[, item]])."""
    with transaction.atomic():
        doc = f.InvoiceFactory(organization=org, customer=customer or f.CustomerFactory(organization=org), **kwargs)
        for position, (kind, quantity, price, *rest) in enumerate(lines):
            rate, item = (list(rest) + [None, None])[:2]
            f.InvoiceLineFactory(invoice=doc, position=position, kind=kind, quantity=D(quantity), unit_price=D(price),
                                 tax_rate=rate, item=item)
    return doc


def entry_of(obj) -> OutboxEntry:
    return OutboxEntry.objects.get(source_key=f"ledger.{obj._meta.model_name}:{obj.pk}")


def ref_of(obj, conn) -> ExternalReference:
    return ExternalReference.objects.get(connection=conn, source_key=f"ledger.{obj._meta.model_name}:{obj.pk}")


def configure(conn, **settings):
    conn.settings = {**conn.settings, **settings}
    conn.save()
    return conn


def qbo_invoice(sandbox, doc) -> dict:
    [remote] = [r for r in sandbox.store.entities("Invoice") if r.get("DocNumber") == doc.number]
    return remote


def qbo_sales_lines(remote) -> list[tuple[str, str, str, Decimal]]:
    """(item name, the item's income account, tax code, amount) of each sales line of a QBO invoice."""
    return [(d["ItemRef"]["name"], d["ItemAccountRef"]["value"], d["TaxCodeRef"]["value"], D(str(line["Amount"])))
            for line in remote["Line"] if line["DetailType"] == "SalesItemLineDetail"
            for d in [line["SalesItemLineDetail"]]]


def xero_invoice(xsandbox, doc) -> dict:
    [remote] = [r for r in xsandbox.store.entities("Invoices") if r.get("InvoiceNumber") == doc.number]
    return remote


# -- acceptance 1: organizations, companies, mappings ----------------------------------------------------------
def test_two_organizations_share_a_quickbooks_company_with_their_own_mappings_and_a_third_has_xero(
        sandbox, xsandbox, make_connection, make_xero_connection):
    clinic, lab, shop = f.OrganizationFactory(), f.OrganizationFactory(), f.OrganizationFactory()
    qbo = make_connection(clinic, lab)
    xero = make_xero_connection(shop)
    # The clinic uses the connection-wide rules (Sales, Shipping Income, GST 10% -> "GST 10%"); the lab has its own.
    f.MappingFactory(connection=qbo, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.LINE_KIND, local_value="shipping",
                     remote_id=account_id(sandbox, "Shipping Income"))
    f.MappingFactory(connection=qbo, organization=lab, kind=MappingKind.INCOME_ACCOUNT,
                     remote_id=account_id(sandbox, "Services"))
    f.MappingFactory(connection=qbo, organization=lab, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.LINE_KIND,
                     local_value="shipping", remote_id=account_id(sandbox, "Fees"))
    f.MappingFactory(connection=qbo, organization=lab, kind=MappingKind.TAX_CODE, scope=Scope.TAX_RATE,
                     local_value="Sales Tax 8%", remote_id="TAX")
    f.MappingFactory(connection=xero, organization=shop, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.CATEGORY,
                     local_value="Repairs", remote_id="260")
    gst = f.TaxRateFactory(organization=clinic)
    sales_tax = f.TaxRateFactory(organization=lab, name="Sales Tax 8%", rate=D("8"), jurisdiction="CA")
    shop_gst = f.TaxRateFactory(organization=shop)
    repairs = f.ItemFactory(organization=shop, name="Screen repair",
                            category=L.ItemCategory.objects.create(organization=shop, name="Repairs"))

    visit = invoice(clinic, ("service", "1", "100.00", gst), ("shipping", "1", "10.00", gst))
    test = invoice(lab, ("service", "2", "40.00", sales_tax), ("shipping", "1", "12.00"))
    repair = invoice(shop, ("service", "1", "80.00", shop_gst, repairs), ("service", "1", "20.00", shop_gst))
    drain()

    assert {e.status for e in OutboxEntry.objects.all()} == {EntryStatus.DONE}
    assert sorted(r["DocNumber"] for r in sandbox.store.entities("Invoice")) == sorted([visit.number, test.number])
    assert [r["InvoiceNumber"] for r in xsandbox.store.entities("Invoices")] == [repair.number]
    sales, services, shipping, fees = (account_id(sandbox, n) for n in ("Sales", "Services", "Shipping Income", "Fees"))
    assert qbo_sales_lines(qbo_invoice(sandbox, visit)) == [
        ("Service", sales, "3", D("100.00")), ("Shipping", shipping, "3", D("10.00"))]
    # QBO posts a line to its item's income account: the lab's rules get generic items of their own.
    assert qbo_sales_lines(qbo_invoice(sandbox, test)) == [
        ("Service (Services)", services, "TAX", D("80.00")), ("Shipping (Fees)", fees, "NON", D("12.00"))]
    lines = xero_invoice(xsandbox, repair)["LineItems"]
    assert [(line["AccountCode"], line["TaxType"]) for line in lines] == [("260", "OUTPUT"), ("200", "OUTPUT")]
    for doc, remote_total in ((visit, qbo_invoice(sandbox, visit)["TotalAmt"]),
                              (test, qbo_invoice(sandbox, test)["TotalAmt"]),
                              (repair, xero_invoice(xsandbox, repair)["Total"])):
        assert D(str(remote_total)) == doc.totals().total
    # Each organization's customers live where its documents do.
    assert repair.customer.name not in {c["DisplayName"] for c in sandbox.store.entities("Customer")}
    assert {c["Name"] for c in xsandbox.store.entities("Contacts")} == {repair.customer.name}

    # Later documents of either organization reuse their own generic items.
    again = invoice(lab, ("service", "1", "5.00"))
    drain()
    assert qbo_sales_lines(qbo_invoice(sandbox, again)) == [("Service (Services)", services, "NON", D("5.00"))]
    assert len([i for i in sandbox.store.entities("Item") if i["Name"].startswith("Service")]) == 2


# -- acceptance 3: tax as a line -------------------------------------------------------------------------------
def test_tax_as_a_line_in_quickbooks_has_a_tax_line_no_tax_codes_and_the_same_total(connection, org, sandbox):
    configure(connection, tax_mode="line")
    f.MappingFactory(connection=connection, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.LINE_KIND, local_value="tax",
                     remote_id=account_id(sandbox, "Fees"))
    gst = f.TaxRateFactory(organization=org)
    doc = invoice(org, ("service", "2", "50.00", gst), ("product", "1", "30.00", gst), ("discount", "1", "10.00", gst))
    drain()

    assert entry_of(doc).status == EntryStatus.DONE
    remote = qbo_invoice(sandbox, doc)
    fees = account_id(sandbox, "Fees")
    assert qbo_sales_lines(remote) == [("Service", account_id(sandbox, "Sales"), "NON", D("100.00")),
                                       ("Product", account_id(sandbox, "Sales"), "NON", D("30.00")),
                                       ("Tax", fees, "NON", D("12.00"))]
    [tax_line] = [line for line in remote["Line"] if line.get("Description", "").startswith("Tax")]
    assert tax_line["Description"] == "Tax (GST 10%)"
    [discount] = [line for line in remote["Line"] if line["DetailType"] == "DiscountLineDetail"]
    assert "TaxCodeRef" not in discount["DiscountLineDetail"] and D(str(discount["Amount"])) == D("10.00")
    assert D(str(remote["TxnTaxDetail"]["TotalTax"])) == D("0.00")
    assert D(str(remote["TotalAmt"])) == doc.totals().total == D("132.00")

    configure(connection, tax_mode="codes")  # back to tax codes: the next send carries them again
    doc.save()
    drain()
    remote = qbo_invoice(sandbox, doc)
    assert [line[2] for line in qbo_sales_lines(remote)] == ["3", "3"]
    assert D(str(remote["TxnTaxDetail"]["TotalTax"])) == D("12.00") and D(str(remote["TotalAmt"])) == D("132.00")


def test_tax_as_a_line_in_xero_has_a_tax_line_no_tax_types_and_the_same_total(xsandbox, org, make_xero_connection):
    conn = make_xero_connection(org, tax_mode="line")
    f.MappingFactory(connection=conn, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.LINE_KIND, local_value="tax",
                     remote_id="260")
    gst = f.TaxRateFactory(organization=org)
    doc = invoice(org, ("service", "3", "33.33", gst), ("product", "1", "30.00", gst), ("discount", "1", "10.00", gst))
    drain()

    assert entry_of(doc).status == EntryStatus.DONE
    remote = xero_invoice(xsandbox, doc)
    assert [(line["Description"], line["AccountCode"], line["TaxType"], D(str(line["LineAmount"])))
            for line in remote["LineItems"]] == [
        ("Consultation", "200", "NONE", D("99.99")), ("Consultation", "200", "NONE", D("30.00")),
        ("Consultation", "210", "NONE", D("-10.00")), ("Tax (GST 10%)", "260", "NONE", D("12.00"))]
    assert D(str(remote["TotalTax"])) == D("0.00")
    assert D(str(remote["Total"])) == doc.totals().total == D("131.99")


def test_tax_as_a_line_keeps_every_total_and_untaxed_documents_get_no_tax_line(org):
    gst = f.TaxRateFactory(organization=org)
    taxed = InvoiceAdapter(L.Invoice).snapshot(invoice(org, ("service", "3", "33.33", gst), ("fee", "1", "2.50"),
                                                       ("discount", "1", "5.00", gst)))
    line = rules.tax_as_line(taxed)
    assert [(x.kind, x.tax_rate_key, x.tax_amount) for x in line.lines] == [
        ("service", None, D("0.00")), ("fee", None, D("0.00")), ("discount", None, D("0.00")), ("tax", None, D("0.00"))]
    assert line.lines[-1].net_amount == line.lines[-1].unit_price == taxed.tax_total == D("9.50")
    assert (line.total, line.tax_total, line.subtotal - line.discount_total) == (
        taxed.total, D("0.00"), taxed.subtotal - taxed.discount_total + taxed.tax_total)
    untaxed = InvoiceAdapter(L.Invoice).snapshot(invoice(org, ("service", "1", "10.00")))
    assert rules.tax_as_line(untaxed) == untaxed


# -- acceptance 4: foreign currency ---------------------------------------------------------------------------
def eur_invoice(org, rate=None, **kwargs):
    customer = f.CustomerFactory(organization=org, currency="EUR")
    return invoice(org, ("service", "2", "250.00"), ("fee", "1", "12.35"), customer=customer, currency="EUR",
                   exchange_rate=rate, **kwargs)


def test_a_eur_invoice_carries_its_rate_to_quickbooks_and_the_home_total_is_shown(connection, org, sandbox,
                                                                                  admin_client):
    doc = eur_invoice(org, rate=D("1.1"))
    drain()
    remote = qbo_invoice(sandbox, doc)
    assert remote["CurrencyRef"]["value"] == "EUR" and D(str(remote["ExchangeRate"])) == D("1.1")
    assert D(str(remote["HomeTotalAmt"])) == D("563.59")  # 512.35 EUR x 1.1
    assert ref_of(doc, connection).home_total == D("563.59")
    page = admin_client.get(reverse("admin:accounting_sync_outboxentry_changelist")).content.decode()
    assert "Home-currency total" in page and "563.59 USD" in page
    assert "563.59" in admin_client.get(reverse("admin:accounting_sync_externalreference_changelist")).content.decode()


def test_a_eur_invoice_carries_its_rate_to_xero(xsandbox, org, make_xero_connection):
    conn = make_xero_connection(org)
    doc = eur_invoice(org, rate=D("1.1"))
    drain()
    remote = xero_invoice(xsandbox, doc)
    assert remote["CurrencyCode"] == "EUR" and D(str(remote["CurrencyRate"])) == D("0.909091")  # EUR per USD
    assert ref_of(doc, conn).home_total == (D("512.35") / D("0.909091")).quantize(D("0.01"), ROUND_HALF_UP)


@pytest.mark.parametrize("platform", ["qbo", "xero"])
def test_a_eur_invoice_without_a_rate_or_a_rate_source_stops_at_preflight(platform, request, org):
    if platform == "qbo":
        conn, sandbox = request.getfixturevalue("connection"), request.getfixturevalue("sandbox")
        remote = lambda: sandbox.store.entities("Invoice")  # noqa: E731
    else:
        conn, sandbox = request.getfixturevalue("make_xero_connection")(org), request.getfixturevalue("xsandbox")
        remote = lambda: sandbox.store.entities("Invoices")  # noqa: E731
    doc = eur_invoice(org)
    drain()
    entry = entry_of(doc)
    assert entry.status == EntryStatus.NEEDS_ATTENTION
    assert (f"Invoice {doc.number}: EUR is a foreign currency for this company (USD) and the document has no "
            "exchange rate") in entry.last_error
    assert entry.hint == "Enable the currency on the platform (or give the document an exchange rate), then retry."
    assert remote() == []
    assert ExternalReference.objects.filter(connection=conn, source_key=entry.source_key).count() == 0


def test_rates_from_the_connections_table_reach_both_platforms_for_invoices_and_payments(
        connection, org, sandbox, make_xero_connection, xsandbox):
    configure(connection, rate_source="table", rates={"EUR": "1.25"})
    xero = make_xero_connection(org, rate_source="table", rates={"EUR": "1.25"})
    doc = eur_invoice(org, rate=D("1.1"))  # the table wins over the document's own rate
    with transaction.atomic():
        payment = f.PaymentFactory(organization=org, customer=doc.customer, currency="EUR", amount=D("512.35"))
        L.PaymentAllocation.objects.create(payment=payment, invoice=doc, amount=D("512.35"))
    drain()

    remote = qbo_invoice(sandbox, doc)
    assert D(str(remote["ExchangeRate"])) == D("1.25") and D(str(remote["HomeTotalAmt"])) == D("640.44")
    [qbo_payment] = sandbox.store.entities("Payment")
    assert D(str(qbo_payment["ExchangeRate"])) == D("1.25")
    assert ref_of(payment, connection).home_total == D("640.44")
    assert D(str(xero_invoice(xsandbox, doc)["CurrencyRate"])) == D("0.8")
    [xero_payment] = xsandbox.store.entities("Payments")
    assert D(str(xero_payment["CurrencyRate"])) == D("0.8")
    assert ref_of(doc, xero).home_total == D("640.44")


def test_a_table_without_the_documents_currency_stops_it_with_the_fix(connection, org, sandbox):
    configure(connection, rate_source="table", rates={"GBP": "1.27"})
    doc = eur_invoice(org, rate=D("1.1"))
    drain()
    entry = entry_of(doc)
    assert entry.status == EntryStatus.NEEDS_ATTENTION
    assert entry.last_error == (f"Invoice {doc.number}: the connection takes exchange rates from its rate table, "
                                "which has no EUR rate")
    assert '"rates": {"EUR": "1.08"}' in entry.hint
    assert sandbox.store.entities("Invoice") == []

    configure(connection, rates={"EUR": "zero"})
    retry_entries(OutboxEntry.objects.filter(pk=entry.pk))
    drain()
    assert "gives EUR the rate “zero”, which is not a positive number" in entry_of(doc).last_error


def test_rates_from_quickbooks_are_its_own_rate_on_the_documents_date(connection, org, sandbox):
    configure(connection, rate_source="platform")
    doc = eur_invoice(org, issue_date=dt.date(2026, 3, 2))  # no rate of its own
    drain()
    remote = qbo_invoice(sandbox, doc)
    assert D(str(remote["ExchangeRate"])) == D("1.08")  # the sandbox company's EUR rate
    asked = [params for method, path, params in sandbox.requests_log if path.endswith("/exchangerate")]
    assert asked and asked[0]["sourcecurrencycode"] == "EUR" and asked[0]["asofdate"] == "2026-03-02"
    assert ref_of(doc, connection).home_total == D("553.34")  # 512.35 x 1.08


def test_rates_from_xero_leave_the_rate_to_xero(xsandbox, org, make_xero_connection):
    conn = make_xero_connection(org, rate_source="platform")
    doc = eur_invoice(org, rate=D("1.1"))
    drain()
    remote = xero_invoice(xsandbox, doc)
    assert D(str(remote["CurrencyRate"])) == D("0.92")  # Xero's own (XE.com) rate, not the document's
    assert ref_of(doc, conn).home_total == (D("512.35") / D("0.92")).quantize(D("0.01"), ROUND_HALF_UP)


def test_rates_from_xero_need_no_rate_on_the_document(xsandbox, org, make_xero_connection):
    conn = make_xero_connection(org, rate_source="platform")
    doc = eur_invoice(org, rate=None)
    drain()
    assert entry_of(doc).status == EntryStatus.DONE, entry_of(doc).last_error
    assert D(str(xero_invoice(xsandbox, doc)["CurrencyRate"])) == D("0.92")
    assert ref_of(doc, conn).home_total is not None


def test_an_unknown_rule_setting_stops_documents_with_the_fix(connection, org, sandbox):
    configure(connection, tax_mode="inclusive")
    doc = invoice(org, ("service", "1", "10.00"))
    drain()
    entry = entry_of(doc)
    assert entry.status == EntryStatus.NEEDS_ATTENTION and sandbox.store.entities("Invoice") == []
    assert "setting “tax_mode” must be one of codes, line, not “inclusive”" in entry.last_error
    with pytest.raises(ConfigurationError, match="setting “hierarchy” must be one of detailed, combined"):
        rules.apply(configure(connection, hierarchy="flat"), None, InvoiceAdapter(L.Invoice).snapshot(doc))


# -- customer hierarchy ---------------------------------------------------------------------------------------
def family(org):
    parent = f.CustomerFactory(organization=org, name="Acme Group")
    child = f.CustomerFactory(organization=org, name="Acme North", parent=parent)
    grandchild = f.CustomerFactory(organization=org, name="Acme North Lab", parent=child)
    return parent, child, grandchild


def test_combined_hierarchy_sends_a_childs_documents_to_its_top_level_customer_in_quickbooks(connection, org,
                                                                                              sandbox):
    configure(connection, hierarchy="combined")
    parent, child, grandchild = family(org)
    doc = invoice(org, ("service", "1", "100.00"), customer=grandchild)
    with transaction.atomic():
        payment = f.PaymentFactory(organization=org, customer=grandchild, amount=D("100.00"))
        L.PaymentAllocation.objects.create(payment=payment, invoice=doc, amount=D("100.00"))
    drain()

    [customer] = sandbox.store.entities("Customer")
    assert customer["DisplayName"] == "Acme Group" and "ParentRef" not in customer
    assert qbo_invoice(sandbox, doc)["CustomerRef"]["value"] == customer["Id"]
    assert sandbox.store.entities("Payment")[0]["CustomerRef"]["value"] == customer["Id"]
    for account in (child, grandchild):  # the child accounts themselves are not sent
        assert entry_of(account).status == EntryStatus.DONE
        log = SyncLog.objects.filter(source_key=entry_of(account).source_key).latest("created_at")
        assert (log.outcome, log.message) == (Outcome.SKIPPED, hierarchy.NOT_SENT)
        assert not ExternalReference.objects.filter(source_key=entry_of(account).source_key).exists()


def test_combined_hierarchy_in_xero_uses_the_top_level_contact(xsandbox, org, make_xero_connection):
    conn = make_xero_connection(org, hierarchy="combined")
    parent, child, _ = family(org)
    doc = invoice(org, ("service", "1", "100.00"), customer=child)
    drain()
    [contact] = xsandbox.store.entities("Contacts")
    assert contact["Name"] == "Acme Group"
    assert xero_invoice(xsandbox, doc)["Contact"]["ContactID"] == ref_of(parent, conn).remote_id == contact["ContactID"]


def move(child, new_parent):
    child.parent = new_parent
    child.save()
    drain()


def test_moving_a_child_account_moves_its_sub_customer_in_quickbooks(connection, org, sandbox):
    parent, child, _ = family(org)
    other = f.CustomerFactory(organization=org, name="Bolt Holdings")
    invoice(org, ("service", "1", "10.00"), customer=child)
    drain()
    remote_id = ref_of(child, connection).remote_id
    assert sandbox.store.get("Customer", remote_id)["ParentRef"]["value"] == ref_of(parent, connection).remote_id

    move(child, other)
    moved = sandbox.store.get("Customer", remote_id)
    assert moved["ParentRef"]["value"] == ref_of(other, connection).remote_id and moved["Job"] is True
    assert moved["FullyQualifiedName"] == "Bolt Holdings:Acme North"
    assert sandbox.store.get("Customer", ref_of(child.children.get(), connection).remote_id)[
        "FullyQualifiedName"] == "Bolt Holdings:Acme North:Acme North Lab"


def test_moving_a_child_account_renames_its_contact_in_xero(xsandbox, org, make_xero_connection):
    conn = make_xero_connection(org)
    parent, child, _ = family(org)
    other = f.CustomerFactory(organization=org, name="Bolt Holdings")
    drain()
    remote_id = ref_of(child, conn).remote_id
    names = {c["ContactID"]: c["Name"] for c in xsandbox.store.entities("Contacts")}
    assert names[remote_id] == "Acme Group: Acme North"

    move(child, other)
    names = {c["ContactID"]: c["Name"] for c in xsandbox.store.entities("Contacts")}
    assert names[remote_id] == "Bolt Holdings: Acme North" and ref_of(child, conn).remote_id == remote_id


# -- discounts, shipping, notes ----------------------------------------------------------------------------------
def test_quickbooks_takes_a_documents_discounts_in_its_one_discount_field(connection, org, sandbox):
    gst = f.TaxRateFactory(organization=org)
    doc = invoice(org, ("service", "2", "60.00", gst), ("discount", "1", "5.00", gst), ("product", "1", "20.00", gst),
                  ("discount", "1", "7.50", gst))
    L.InvoiceLine.objects.filter(invoice=doc, kind="discount", position=3).update(description="Loyalty")
    doc.save()
    drain()
    remote = qbo_invoice(sandbox, doc)
    [discount] = [line for line in remote["Line"] if line["DetailType"] == "DiscountLineDetail"]
    assert D(str(discount["Amount"])) == D("12.50") and discount["Description"] == "Consultation; Loyalty"
    assert discount["DiscountLineDetail"]["DiscountAccountRef"]["value"] == account_id(sandbox, "Discounts given")
    assert discount["DiscountLineDetail"]["TaxCodeRef"]["value"] == "3"
    assert D(str(remote["TotalAmt"])) == doc.totals().total == D("140.25")


@pytest.mark.parametrize("platform", ["qbo", "xero"])
def test_line_notes_become_line_descriptions_and_the_memo_the_documents_memo(platform, request, org):
    if platform == "xero":
        request.getfixturevalue("make_xero_connection")(org)
    else:
        request.getfixturevalue("connection")
    doc = invoice(org, ("service", "1", "40.00"), ("shipping", "1", "9.00"), memo="Thank you for your custom")
    L.InvoiceLine.objects.filter(invoice=doc, kind="service").update(note="Follow-up in two weeks")
    L.InvoiceLine.objects.filter(invoice=doc, kind="shipping").update(description="", note="Courier, signed for")
    doc.save()
    drain()
    if platform == "qbo":
        remote = qbo_invoice(request.getfixturevalue("sandbox"), doc)
        descriptions = [line["Description"] for line in remote["Line"] if line["DetailType"] == "SalesItemLineDetail"]
        memo = remote["CustomerMemo"]["value"]
    else:
        remote = xero_invoice(request.getfixturevalue("xsandbox"), doc)
        descriptions = [line["Description"] for line in remote["LineItems"]]
        memo = remote["Reference"]
    assert descriptions == ["Consultation — Follow-up in two weeks", "Courier, signed for"]
    assert memo == "Thank you for your custom"

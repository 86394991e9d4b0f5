"""Preflight against the mapping and the platform's lists: each failure names the document, the line and the
missing piece, and the attention list links to the editor row (or the record) that fixes it."""
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import transaction

from accounting_sync.policies import preflight
from accounting_sync.models import EntryStatus, OutboxEntry
from ledger import models as L
from mappings.models import Mapping, MappingKind, Scope
from tests import factories as f
from tests.conftest import drain, entry_of
from tests.mappings.editor_page import as_shown

pytestmark = pytest.mark.django_db


def editor(conn) -> str:
    return f"/admin/connectors/connection/{conn.pk}/mappings/"


@pytest.fixture
def sales_tax(connection, org):
    """A US state sales tax mapped to QuickBooks' US code TAX (its rate comes from a jurisdiction)."""
    rate = f.TaxRateFactory(organization=org, name="CA sales tax", rate=Decimal("7.25"))
    f.MappingFactory(connection=connection, kind=MappingKind.TAX_CODE, scope=Scope.TAX_RATE, local_value=rate.name,
                     remote_id="TAX")
    return rate


def test_qbo_us_sales_tax_without_jurisdiction_stops_with_the_line_and_links_to_the_fixes(admin_client, connection,
                                                                                          sales_tax, make_invoice,
                                                                                          sandbox):
    invoice = make_invoice(("service", "1", "100.00"), ("service", "1", "20.00", sales_tax))
    drain()
    entry = entry_of(invoice)
    assert entry.status == EntryStatus.NEEDS_ATTENTION and entry.error_code == preflight.JURISDICTION_CODE
    assert entry.last_error == (f"Invoice {invoice.number}: line 2 (Consultation): tax rate “CA sales tax” is mapped "
                                "to QuickBooks Online's tax code TAX, which takes its rate from a jurisdiction, and "
                                "the rate has no jurisdiction")
    assert "jurisdiction" in entry.hint
    assert remote_numbers(sandbox) == set()  # nothing was sent

    tax_rule = Mapping.objects.get(connection=connection, local_value="CA sales tax")
    attention = admin_client.get("/admin/accounting_sync/attentionentry/").content.decode()
    assert f"/admin/ledger/taxrate/{sales_tax.pk}/change/" in attention
    assert f"{editor(connection)}?fix={tax_rule.pk}#rule-{tax_rule.pk}" in attention

    sales_tax.jurisdiction = "California"
    sales_tax.save()
    admin_client.post("/admin/accounting_sync/attentionentry/", {"action": "retry", "_selected_action": [entry.pk]})
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE and remote_numbers(sandbox) == {invoice.number}


def remote_numbers(sandbox) -> set[str]:
    return {inv["DocNumber"] for inv in sandbox.store.entities("Invoice")}


def test_no_jurisdiction_needed_for_codes_with_their_own_rate_or_zero_rates(connection, org, make_invoice, sandbox):
    gst = f.TaxRateFactory(organization=org, name="GST 10%")  # mapped to the code "GST 10%", which has its rate
    exempt = f.TaxRateFactory(organization=org, name="Exempt", rate=Decimal("0"))
    f.MappingFactory(connection=connection, kind=MappingKind.TAX_CODE, scope=Scope.TAX_RATE, local_value="Exempt",
                     remote_id="TAX")
    invoice = make_invoice(("service", "1", "10.00", gst), ("service", "1", "10.00", exempt))
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE


def test_xero_never_asks_for_a_jurisdiction(xsandbox, org, make_invoice, make_xero_connection):
    conn = make_xero_connection(org)
    rate = f.TaxRateFactory(organization=org, name="GST 10%")
    assert rate.jurisdiction == ""
    invoice = make_invoice(("service", "1", "10.00", rate))
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE
    reference = preflight.reference_data(conn, conn.connector())
    assert not any(conn.connector_class().tax_code_needs_jurisdiction(code, reference) for code in reference.tax_codes)


def test_unmapped_tax_rate_links_to_a_prefilled_editor_row(admin_client, connection, org, make_invoice, sandbox):
    vat = f.TaxRateFactory(organization=org, name="VAT 20%", rate=Decimal("20"))
    invoice = make_invoice(("service", "1", "10.00", vat))
    drain()
    entry = entry_of(invoice)
    assert entry.error_code == "configuration" and "line 1 (Consultation)" in entry.last_error
    query = urlencode({"add": "tax_code", "applies_to": "tax_rate:VAT 20%"})
    link = f"{editor(connection)}?{query}#kind-tax_code"
    attention = admin_client.get("/admin/accounting_sync/attentionentry/").content.decode()
    assert link.replace("&", "&amp;") in attention and "Add a tax code rule for tax rate “VAT 20%”" in attention

    page = admin_client.get(link.split("#")[0])
    section = next(s for s in page.context["sections"] if s.kind == MappingKind.TAX_CODE)
    blank = section.formset.extra_forms[0]
    assert blank["applies_to"].value() == "tax_rate:VAT 20%" and page.context["highlight"] == blank.prefix
    assert 'class=" fix-target"' in page.content.decode()

    # Saving the page as it is adds nothing (the prefilled row is untouched); picking a code adds the rule.
    data = as_shown(page)
    response = admin_client.post(link.split("#")[0], data, follow=True)
    assert "Nothing changed." in response.content.decode()
    data[f"{blank.prefix}-remote_id"] = "4"
    admin_client.post(link.split("#")[0], data)
    assert Mapping.objects.get(connection=connection, local_value="VAT 20%").remote_id == "4"
    admin_client.post("/admin/accounting_sync/attentionentry/", {"action": "retry", "_selected_action": [entry.pk]})
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE


def test_unmapped_payment_method_names_the_payment_and_links_to_the_deposit_rules(admin_client, connection, org,
                                                                                  make_invoice):
    Mapping.objects.filter(connection=connection, kind=MappingKind.DEPOSIT_ACCOUNT).delete()
    invoice = make_invoice(("service", "1", "30.00"))
    with transaction.atomic():
        payment = f.PaymentFactory(organization=org, customer=invoice.customer, amount=Decimal("30.00"),
                                   method="check")
        L.PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("30.00"))
    drain()
    entry = entry_of(payment)
    assert entry.last_error == (f"payment {payment.number}: no deposit account mapped for method “check” or as the "
                                "default")
    fixes = preflight.fixes(entry)
    assert [(fix.text, fix.url) for fix in fixes] == [
        ("Add a deposit account (payments) rule for payment method “check”",
         f"{editor(connection)}?add=deposit_account&applies_to=payment_method%3Acheck#kind-deposit_account")]


def test_errors_preflight_did_not_raise_have_no_fix_links(connection, make_invoice, sandbox):
    invoice = make_invoice(("service", "1", "10.00"))
    entry = entry_of(invoice)
    OutboxEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.NEEDS_ATTENTION, error_code="validation",
                                                   last_error="QuickBooks: Duplicate Document Number Error")
    entry.refresh_from_db()
    assert preflight.fixes(entry) == []


def test_a_customer_in_a_foreign_currency_needs_no_exchange_rate(connection, org, sandbox):
    customer = f.CustomerFactory(organization=org, currency="EUR")
    drain()
    assert entry_of(customer).status == EntryStatus.DONE


def test_a_platform_rule_refusal_hints_at_the_document_not_at_the_currency(connection, make_invoice, sandbox,
                                                                            monkeypatch):
    """What a connector's own preflight refuses (MYOB's number length, say) gets a hint about the document; the
    currency hint is only for currency problems."""
    connector_class = connection.connector_class()
    monkeypatch.setattr(connector_class, "preflight",
                        lambda self, doc, mapping: ["numbers are at most 8 characters ('INV-000000001' is longer)"])
    invoice = make_invoice(("service", "1", "10.00"))
    drain()
    entry = entry_of(invoice)
    assert entry.status == EntryStatus.NEEDS_ATTENTION
    assert "numbers are at most 8 characters" in entry.last_error
    assert entry.hint == ("Change the document (or its mapping) so that QuickBooks Online accepts it, then retry.")
    assert "currency" not in entry.hint

"""GL preview: the journal each document will post, from the snapshot and the resolved mapping (issue 6
acceptance 7: every demo document balances), as worked examples, in admin and in ``resync --dry-run --gl``."""
import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounting_sync.staff import demo, glpreview
from accounting_sync.policies.preflight import reference_data
from accounting_sync.core.sources import key_for
from ledger import models as L
from mappings.models import Mapping, MappingKind
from tests import factories as f
from tests.conftest import entry_of
from tests.hostapp.models import Client, Job, JobInvoice

pytestmark = pytest.mark.django_db


def demo_documents(org):
    return [*L.Invoice.objects.filter(organization=org), *L.CreditNote.objects.filter(organization=org),
            *L.Payment.objects.filter(organization=org), *L.Refund.objects.filter(organization=org),
            *L.Expense.objects.filter(organization=org)]


def journal_of(conn, document):
    return glpreview.preview(conn, key_for(document), reference_data(conn, conn.connector()))


def rows(journal):
    return [(line.account_id, line.account_name, line.debit, line.credit, line.tax_name) for line in journal.lines]


@pytest.fixture
def clinic(org):
    return demo.load_demo_data(org)


def test_every_demo_document_balances_on_both_platforms(connection, make_xero_connection, clinic):
    xero = make_xero_connection(clinic)
    for conn in (connection, xero):
        demo.map_demo_accounts(conn, clinic)
        documents = demo_documents(clinic)
        assert len(documents) == 9  # with the return's refund and the courier label (an expense)
        for document in documents:
            journal = journal_of(conn, document)
            assert journal.lines and journal.balanced, (conn.platform, document, rows(journal))
            assert not journal.problems, journal.problems
            assert all(line.account_id for line in journal.lines if "Tax" not in line.description), rows(journal)


def test_worked_example_invoice_with_discount_shipping_and_tax_on_quickbooks(connection, clinic):
    demo.map_demo_accounts(connection, clinic)
    journal = journal_of(connection, L.Invoice.objects.get(number="RV-1001"))
    # 85.00 check-up + 2 x 32.50 vaccine - 10.00 discount + 12.00 courier, GST 10% on each: total 167.20
    assert rows(journal) == [
        ("8", "Accounts Receivable", D("167.20"), D("0.00"), ""),
        ("2", "Services", D("0.00"), D("85.00"), "GST 10%"),  # category Consultations
        ("1", "Sales", D("0.00"), D("65.00"), "GST 10%"),  # the default
        ("5", "Discounts given", D("10.00"), D("0.00"), "GST 10%"),
        ("3", "Shipping Income", D("0.00"), D("12.00"), "GST 10%"),
        ("", "Tax payable", D("0.00"), D("15.20"), "GST 10%"),  # 8.50 + 6.50 - 1.00 + 1.20
    ]
    assert journal.debits == journal.credits == D("177.20")


def test_worked_examples_credit_note_mirrors_and_payment_deposits_on_xero(make_xero_connection, clinic):
    xero = make_xero_connection(clinic)
    demo.map_demo_accounts(xero, clinic)
    credit = journal_of(xero, L.CreditNote.objects.get(number="CN-3001"))
    assert rows(credit) == [
        ("610", "Accounts Receivable", D("0.00"), D("77.00"), ""),  # 2 x 32.50 + 5.00 restocking + 10% tax
        ("200", "Sales", D("65.00"), D("0.00"), "Tax on Sales"),
        ("260", "Other Revenue", D("5.00"), D("0.00"), "Tax on Sales"),
        ("820", "Sales Tax", D("7.00"), D("0.00"), "Tax on Sales"),
    ]
    payment = journal_of(xero, L.Payment.objects.get(number="PAY-2002"))
    assert rows(payment) == [("090", "Business Bank Account", D("200.00"), D("0.00"), ""),
                             ("610", "Accounts Receivable", D("0.00"), D("200.00"), "")]


def test_what_is_not_mapped_is_named_and_the_amounts_still_balance(connection, org, make_invoice):
    Mapping.objects.filter(connection=connection, kind=MappingKind.INCOME_ACCOUNT).delete()
    stale = Mapping.objects.get(connection=connection, kind=MappingKind.DISCOUNT_ACCOUNT)
    stale.remote_id, stale.remote_name = "99", "Old discounts"
    stale.save()
    rate = f.TaxRateFactory(organization=org, name="VAT 20%", rate=D("20"))
    invoice = make_invoice(("service", "1", "50.00", rate), ("discount", "1", "5.00"))
    journal = journal_of(connection, invoice)
    assert journal.balanced and journal.debits == D("60.00")  # 50 + 10 tax = 60; plus the 5 discount, less it
    assert rows(journal)[1][:2] == ("", "(no income account mapped)")
    assert rows(journal)[3] == ("", "Tax payable", D("0.00"), D("10.00"), "(no tax code for “VAT 20%”)")
    assert journal.problems == (
        "line 1 (Consultation): no income account mapped for line kind “service” or as the default",
        "line 1 (Consultation): tax rate “VAT 20%” has no platform tax code mapped",
        "discount account “Old discounts” (99) is not an active account on the platform",
    )


def test_a_void_document_posts_nothing(connection, make_invoice):
    invoice = make_invoice()
    invoice.status = "void"
    invoice.save()
    journal = journal_of(connection, invoice)
    assert journal.lines == () and journal.balanced and "Void" in journal.note


def test_resync_dry_run_prints_each_journal(connection, clinic, capsys):
    demo.map_demo_accounts(connection, clinic)
    call_command("accounting_sync_resync", "--connection", connection.name, "--entity", "invoice",
                 "--entity", "payment", "--dry-run", "--gl")
    out = capsys.readouterr().out
    assert "8 Accounts Receivable" in out and "5 Discounts given" in out and "6 Undeposited Funds" in out
    assert out.count("balanced") == 5 and "NOT BALANCED" not in out and "problem:" not in out
    assert "nothing was sent" in out
    with pytest.raises(CommandError, match="--dry-run"):
        call_command("accounting_sync_resync", "--connection", connection.name, "--gl")


def test_outbox_entry_links_to_its_gl_preview(admin_client, connection, make_invoice):
    invoice = make_invoice()
    entry = entry_of(invoice, connection=connection)
    page = admin_client.get(f"/admin/accounting_sync/outboxentry/{entry.pk}/change/").content.decode()
    link = f"/admin/connectors/connection/{connection.pk}/mappings/?document=ledger.invoice%3A{invoice.pk}#explain"
    assert link in page
    preview = admin_client.get(link).content.decode()
    assert "GL preview (USD)" in preview and "8 · Accounts Receivable" in preview and "balanced" in preview


def test_reference_data_says_what_each_account_is_for(connection, make_xero_connection, org):
    qbo = reference_data(connection, connection.connector(), refresh=True)
    assert qbo.account_kinds["1"] == "income" and qbo.account_kinds["6"] == qbo.account_kinds["7"] == "deposit"
    assert qbo.control_accounts == {"receivable": ("8", "Accounts Receivable"),
                                    "payable": ("15", "Accounts Payable (A/P)")}
    xero_conn = make_xero_connection(org)
    xero = reference_data(xero_conn, xero_conn.connector(), refresh=True)
    assert xero.account_kinds["200"] == "income" and xero.account_kinds["090"] == "deposit"
    assert xero.control_accounts == {"receivable": ("610", "Accounts Receivable"),
                                     "payable": ("800", "Accounts Payable"), "tax_payable": ("820", "Sales Tax")}
    xero_conn.refresh_from_db()  # the cache holds the new fields too
    assert reference_data(xero_conn, None).control_accounts == xero.control_accounts


def test_a_host_systems_own_invoice_has_a_gl_preview_in_admin(admin_client, connection, org):
    job = Job.objects.create(client=Client.objects.create(organization=org, full_name="Dana"), description="Pump")
    invoice = JobInvoice.objects.create(job=job, reference="JOB-9", issued_on=dt.date.today(),
                                        labour_hours=D("2"), hourly_rate=D("80.00"), parts_total=D("40.00"))
    page = admin_client.get(f"/admin/connectors/connection/{connection.pk}/mappings/",
                            {"document": key_for(invoice)})
    journal = page.context["journal"]
    assert page.context["document"] == "Job invoice JOB-9" and journal.balanced and journal.debits == D("200.00")
    assert rows(journal)[1:] == [("1", "Sales", D("0.00"), D("160.00"), ""), ("1", "Sales", D("0.00"), D("40.00"), "")]

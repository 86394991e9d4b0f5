"""Mapping drift (issue 6, acceptance 2): an account archived on the platform makes the rules that point at it
stale after the next refresh; only the entries that need them pause, with a message naming the rule; the others
go on; fixing the rule in the editor sends the paused ones; nothing already sent is touched. Also drift seen from
a platform's refusal, and recovery when the platform offers the account again."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounting_sync.policies import drift, preflight, refusals
from accounting_sync.models import EntryStatus, ExternalReference
from accounting_sync.policies.preflight import reference_data
from accounting_sync.core.sources import key_for
from connectors.base import ReferenceData
from connectors.errors import ValidationFailed
from connectors.models import Connection
from ledger import models as L
from mappings.models import Mapping, MappingKind, Scope
from tests import factories as f
from tests.conftest import account_id, drain, entry_of, tax_code_id
from tests.mappings.editor_page import as_shown

pytestmark = pytest.mark.django_db


def editor(conn) -> str:
    return f"/admin/connectors/connection/{conn.pk}/mappings/"


def rule(conn, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.DEFAULT, value="") -> Mapping:
    return Mapping.objects.get(connection=conn, organization=None, kind=kind, scope=scope, local_value=value)


def pay(invoice, amount: str):
    with transaction.atomic():
        payment = f.PaymentFactory(organization=invoice.organization, customer=invoice.customer,
                                   amount=Decimal(amount))
        L.PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal(amount))
    return payment


def prefix_of(response, rule_pk: int) -> str:
    return next(form.prefix for s in response.context["sections"] for form in s.formset.initial_forms
                if form.instance.pk == rule_pk)


# -- acceptance 2 ---------------------------------------------------------------------------------------------------
def test_acceptance_qbo_archived_account_pauses_only_the_entries_that_need_it(admin_client, sandbox, connection, org,
                                                                             make_invoice):
    shipping = f.MappingFactory(connection=connection, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.LINE_KIND,
                                local_value="shipping", remote_id=account_id(sandbox, "Shipping Income"))
    sent = make_invoice(("service", "1", "100.00"))
    drain()
    assert entry_of(sent).status == EntryStatus.DONE
    sent_ref = ExternalReference.objects.get(source_key=key_for(sent))
    sent_remote = sandbox.store.get("Invoice", sent_ref.remote_id)

    sales = account_id(sandbox, "Sales")
    sandbox.store.archive_account_as_user(sales)  # a bookkeeper makes "Sales" inactive in QuickBooks
    connection.refresh_from_db()
    assert sales in reference_data(connection, connection.connector()).accounts  # the cached lists: not seen yet
    assert rule(connection).stale_since is None
    response = admin_client.post(editor(connection), {"_refresh": "Refresh from platform"}, follow=True)
    assert "1 rule points at what QuickBooks Online no longer offers" in response.content.decode()

    default = rule(connection)
    assert default.stale_since is not None
    assert default.stale_reason == ("QuickBooks Online no longer offers account Sales (1) (archived, deleted or made "
                                    "inactive there)")
    assert rule(connection, MappingKind.DEPOSIT_ACCOUNT).stale_since is None
    shipping.refresh_from_db()
    assert shipping.stale_since is None

    needs_sales = make_invoice(("service", "2", "50.00"))
    shipped = make_invoice(("shipping", "1", "15.00"))
    payment = pay(shipped, "15.00")
    with transaction.atomic():  # the already-sent invoice is changed here: it needs "Sales" again
        line = sent.lines.get()
        line.quantity = Decimal("2")
        line.save()
    drain()

    assert entry_of(shipped).status == EntryStatus.DONE and entry_of(payment).status == EntryStatus.DONE
    for paused in (needs_sales, sent):
        entry = entry_of(paused)
        assert entry.status == EntryStatus.NEEDS_ATTENTION and entry.error_code == drift.STALE_CODE
        assert entry.last_error == (
            f"Invoice {paused.number}: line 1 (Consultation): the income account rule for default (connection-wide) "
            "is stale: QuickBooks Online no longer offers account Sales (1) (archived, deleted or made inactive "
            "there)")
        assert "mapping editor" in entry.hint
    numbers = {inv["DocNumber"] for inv in sandbox.store.entities("Invoice")}
    assert numbers == {sent.number, shipped.number}  # the paused one never reached QuickBooks
    assert sandbox.store.get("Invoice", sent_ref.remote_id) == sent_remote  # nothing already sent was touched
    sent_ref.refresh_from_db()
    assert sent_ref.remote_version == sent_remote["SyncToken"]

    # The dashboard says which mapping to fix and links to its row, which the editor marks.
    connections = admin_client.get("/admin/connectors/connection/").content.decode()
    assert "1 mapping to fix" in connections and f"?fix={default.pk}#rule-{default.pk}" in connections
    attention = admin_client.get("/admin/accounting_sync/attentionentry/").content.decode()
    assert attention.count(f"{editor(connection)}?fix={default.pk}#rule-{default.pk}") == 2
    page = admin_client.get(f"{editor(connection)}?fix={default.pk}")
    html = page.content.decode()
    assert f'id="rule-{default.pk}" class=" stale fix-target"' in html
    assert "Stale since" in html and "no longer offers account Sales (1)" in html

    # Fixing the rule in the editor clears the mark and sends the two paused invoices.
    data = as_shown(page)
    data[f"{prefix_of(page, default.pk)}-remote_id"] = account_id(sandbox, "Services")
    response = admin_client.post(f"{editor(connection)}?fix={default.pk}", data, follow=True)
    assert "2 entries that waited for a fixed mapping were queued to be sent again." in response.content.decode()
    default.refresh_from_db()
    assert default.stale_since is None and default.stale_reason == "" and default.remote_id == "2"
    assert {entry_of(d).status for d in (needs_sales, sent)} == {EntryStatus.PENDING}
    drain()
    assert {entry_of(d).status for d in (needs_sales, sent)} == {EntryStatus.DONE}
    assert "1 mapping to fix" not in admin_client.get("/admin/connectors/connection/").content.decode()


def test_acceptance_xero_archived_account_pauses_only_the_entries_that_need_it(admin_client, xsandbox, org,
                                                                              make_invoice, make_xero_connection):
    conn = make_xero_connection(org)
    f.MappingFactory(connection=conn, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.LINE_KIND, local_value="shipping",
                     remote_id="260")
    reference_data(conn, conn.connector(), refresh=True)  # the lists the rules were picked from
    xsandbox.store.archive_account_as_user("200")  # "Sales" archived in Xero
    admin_client.post(editor(conn), {"_refresh": "Refresh from platform"})
    assert rule(conn).stale_reason == "Xero no longer offers account Sales (200) (archived, deleted or made inactive " \
                                      "there)"

    needs_sales = make_invoice(("service", "1", "80.00"))
    shipped = make_invoice(("shipping", "1", "12.00"))
    payment = pay(shipped, "12.00")
    drain()
    entry = entry_of(needs_sales)
    assert entry.status == EntryStatus.NEEDS_ATTENTION and entry.error_code == drift.STALE_CODE
    assert "the income account rule for default (connection-wide) is stale: Xero no longer offers account Sales " \
           "(200)" in entry.last_error
    assert entry_of(shipped).status == EntryStatus.DONE and entry_of(payment).status == EntryStatus.DONE
    [remote] = xsandbox.store.entities("Invoices")
    assert remote["InvoiceNumber"] == shipped.number and remote["LineItems"][0]["AccountCode"] == "260"
    assert len(xsandbox.store.entities("Payments")) == 1


# -- drift from a platform's refusal --------------------------------------------------------------------------------
def test_qbo_refusal_of_an_inactive_deposit_account_marks_the_rule_stale(sandbox, connection, make_invoice):
    invoice = make_invoice(("service", "1", "40.00"))
    drain()  # the lists are cached now, with Undeposited Funds in them
    sandbox.store.archive_account_as_user(account_id(sandbox, "Undeposited Funds"))
    payment = pay(invoice, "40.00")
    drain()  # the cached lists are a minute old at most: QuickBooks' word (610 on DepositToAccountRef) is taken
    entry = entry_of(payment)
    assert entry.status == EntryStatus.NEEDS_ATTENTION and entry.error_code == drift.STALE_CODE
    assert entry.platform_code == "610"
    assert entry.last_error.startswith(f"Payment {payment.number}: the deposit account (payments) rule for default "
                                       "(connection-wide) points at Undeposited Funds (6), which QuickBooks Online no "
                                       "longer offers (Object Not Found")
    deposit = rule(connection, MappingKind.DEPOSIT_ACCOUNT)
    assert deposit.stale_since and deposit.stale_reason.startswith("QuickBooks Online refused it: Object Not Found")
    assert sandbox.store.entities("Payment") == []


def test_qbo_refusal_with_lists_older_than_a_minute_fetches_them_again(sandbox, connection, make_invoice):
    invoice = make_invoice(("service", "1", "40.00"))
    drain()
    sandbox.store.archive_account_as_user(account_id(sandbox, "Undeposited Funds"))
    Connection.objects.filter(pk=connection.pk).update(reference_data_at=timezone.now() - dt.timedelta(minutes=5))
    payment = pay(invoice, "40.00")
    drain()
    assert entry_of(payment).error_code == drift.STALE_CODE
    assert rule(connection, MappingKind.DEPOSIT_ACCOUNT).stale_reason == (
        "QuickBooks Online no longer offers account Undeposited Funds (6) (archived, deleted or made inactive there)")
    connection.refresh_from_db()
    assert connection.reference_data_at > timezone.now() - dt.timedelta(minutes=1)
    assert "6" not in connection.reference_data["accounts"]


def test_xero_refusal_of_an_archived_account_marks_the_rule_stale(xsandbox, org, make_invoice, make_xero_connection):
    conn = make_xero_connection(org)
    first = make_invoice(("service", "1", "10.00"))
    drain()
    assert entry_of(first).status == EntryStatus.DONE
    xsandbox.store.archive_account_as_user("200")
    second = make_invoice(("service", "1", "20.00"))
    drain()
    entry = entry_of(second)
    assert entry.error_code == drift.STALE_CODE and entry.platform_code
    assert "points at Sales (200), which Xero no longer offers" in entry.last_error
    assert "Account code '200' has been archived" in entry.last_error
    assert rule(conn).stale_since is not None


def test_a_refusal_of_something_still_offered_stays_a_validation_error(xsandbox, org, make_invoice,
                                                                      make_xero_connection):
    """Xero refusing a listed account as "not a valid code for this document" (say, a bank account on a sales
    line) is not drift: the rule is not marked and the platform's message stays."""
    conn = make_xero_connection(org)
    invoice = make_invoice(("service", "1", "10.00"))
    reference_data(conn, conn.connector(), refresh=True)
    entry = entry_of(invoice)
    refused = ValidationFailed("Xero: Account code '200' is not a valid code for this document.", platform_code="10")
    assert refusals.on_failure(entry, refused) is refused
    assert rule(conn).stale_since is None
    gone = ValidationFailed("Xero: Account code '200' has been archived, or has been deleted. Each line item must "
                            "reference a valid account.", platform_code="10")
    converted = refusals.on_failure(entry, gone)
    assert converted.code == drift.STALE_CODE and converted.platform_code == "10"
    assert rule(conn).stale_since is not None


# -- recovery, tax codes, dependencies ------------------------------------------------------------------------------
def lists(accounts: dict, tax_codes: dict) -> ReferenceData:
    return ReferenceData(accounts=accounts, tax_codes=tax_codes, currencies=frozenset({"USD"}), home_currency="USD")


def test_tax_code_gone_then_back_marks_and_clears_and_requeues(connection, org, make_invoice, sandbox):
    gst = tax_code_id(sandbox, "GST 10%")
    reference_data(connection, connection.connector())  # cached: documents below are checked against these lists
    before = {"accounts": {"1": "Sales"}, "tax_codes": {gst: "GST 10%", "TAX": "TAX"}}
    result = drift.check_rules(connection, lists({"1": "Sales"}, {"TAX": "TAX"}), before)
    tax_rule = rule(connection, MappingKind.TAX_CODE, Scope.TAX_RATE, "GST 10%")
    assert [r.pk for r in result.stale] == [tax_rule.pk]
    assert tax_rule.stale_reason == ("QuickBooks Online no longer offers tax code GST 10% (3) (deleted or made "
                                     "inactive there)")

    invoice = make_invoice(("service", "1", "10.00", f.TaxRateFactory(organization=org, name="GST 10%")))
    untaxed = make_invoice(("service", "1", "10.00"))
    drain()
    assert entry_of(invoice).error_code == drift.STALE_CODE
    assert "line 1 (Consultation): the tax code rule for tax rate “GST 10%” (connection-wide) is stale" in \
           entry_of(invoice).last_error
    assert entry_of(untaxed).status == EntryStatus.DONE

    # The tax code is active again on the platform: the next fetch clears the mark and sends the entry.
    result = drift.check_rules(connection, lists({"1": "Sales"}, {gst: "GST 10%"}), {"tax_codes": {}})
    assert [r.pk for r in result.recovered] == [tax_rule.pk] and result.requeued == 1
    assert entry_of(invoice).status == EntryStatus.PENDING
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE


def test_an_empty_list_or_an_id_never_listed_is_not_drift(connection):
    default = rule(connection)
    assert not drift.check_rules(connection, lists({}, {}), {"accounts": {default.remote_id: "Sales"}}).stale
    assert not drift.check_rules(connection, lists({"9": "Other"}, {"TAX": "TAX"}), {"accounts": {}}).stale
    assert rule(connection).stale_since is None


def test_an_item_paused_for_a_stale_rule_and_the_invoice_waiting_for_it_go_once_fixed(sandbox, connection, org,
                                                                                     make_invoice):
    vaccines = L.ItemCategory.objects.create(organization=org, name="Vaccines")
    category_rule = f.MappingFactory(connection=connection, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.CATEGORY,
                                     local_value="Vaccines", remote_id=account_id(sandbox, "Fees"))
    reference_data(connection, connection.connector(), refresh=True)
    sandbox.store.archive_account_as_user(account_id(sandbox, "Fees"))
    reference_data(connection, connection.connector(), refresh=True)
    category_rule.refresh_from_db()
    assert category_rule.stale_since is not None
    item = f.ItemFactory(organization=org, name="Rabies vaccine", category=vaccines)
    with transaction.atomic():
        invoice = f.InvoiceFactory(organization=org)
        f.InvoiceLineFactory(invoice=invoice, item=item, kind="product", description="Rabies vaccine")
    drain()
    assert entry_of(item).error_code == drift.STALE_CODE
    assert entry_of(invoice).status == EntryStatus.NEEDS_ATTENTION
    fix = f"{editor(connection)}?fix={category_rule.pk}#rule-{category_rule.pk}"
    assert [x.url for x in preflight.fixes(entry_of(item))] == [fix]
    assert [x.url for x in preflight.fixes(entry_of(invoice))] == [fix]  # the invoice waits for its item's rule

    category_rule.remote_id = account_id(sandbox, "Services")
    category_rule.save()
    assert category_rule.stale_since is None
    assert drift.requeue_unblocked(connection) == 2
    drain()
    assert entry_of(item).status == EntryStatus.DONE and entry_of(invoice).status == EntryStatus.DONE
    [remote_item] = [i for i in sandbox.store.entities("Item") if i["Name"] == "Rabies vaccine"]
    assert remote_item["IncomeAccountRef"]["value"] == account_id(sandbox, "Services")


def test_entries_still_waiting_for_another_stale_rule_stay_paused(sandbox, connection, org, make_invoice):
    reference_data(connection, connection.connector(), refresh=True)
    for name in ("Sales", "Undeposited Funds"):
        sandbox.store.archive_account_as_user(account_id(sandbox, name))
    reference_data(connection, connection.connector(), refresh=True)
    invoice = make_invoice(("service", "1", "30.00"))
    drain()
    assert entry_of(invoice).error_code == drift.STALE_CODE
    deposit = rule(connection, MappingKind.DEPOSIT_ACCOUNT)
    deposit.remote_id = account_id(sandbox, "Checking")
    deposit.save()
    assert drift.requeue_unblocked(connection) == 0  # the invoice needs "Sales", still stale
    assert entry_of(invoice).status == EntryStatus.NEEDS_ATTENTION
    rule(connection).delete()  # no default any more: the invoice now says what is missing
    f.MappingFactory(connection=connection, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.LINE_KIND,
                     local_value="service", remote_id=account_id(sandbox, "Services"))
    assert drift.requeue_unblocked(connection) == 1
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE


def test_sandbox_archive_helpers_act_like_the_platforms(sandbox, xsandbox):
    from connectors.xero.sandbox.wire import XeroError

    before = sandbox.store.get("Account", "1")
    archived = sandbox.store.archive_account_as_user("1")
    assert archived["Active"] is False and archived["Name"] == "Sales (deleted)"
    assert int(archived["SyncToken"]) == int(before["SyncToken"]) + 1
    listed = sandbox.store.query("select * from Account")["QueryResponse"]["Account"]
    assert "1" not in {a["Id"] for a in listed}
    assert sandbox.store.archive_account_as_user("1") == archived  # again: nothing changes

    row = xsandbox.store.archive_account_as_user("200")
    assert row["Status"] == "ARCHIVED" and row["Code"] == "200"
    with pytest.raises(XeroError, match="cannot be archived"):
        xsandbox.store.archive_account_as_user("610")  # Accounts Receivable, a system account


def test_voiding_a_sent_invoice_does_not_wait_for_its_stale_rule(sandbox, connection, make_invoice):
    invoice = make_invoice(("service", "1", "25.00"))
    drain()
    sandbox.store.archive_account_as_user(account_id(sandbox, "Sales"))
    reference_data(connection, connection.connector(), refresh=True)
    assert rule(connection).stale_since is not None
    invoice.status = "void"
    invoice.save()
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE
    remote = sandbox.store.get("Invoice", ExternalReference.objects.get(source_key=key_for(invoice)).remote_id)
    assert Decimal(str(remote["TotalAmt"])) == 0 and remote["PrivateNote"].startswith("Voided")


def test_optional_dimensions_are_not_judged_against_the_chart_of_accounts(connection, sandbox):
    """A class rule whose id happens to equal an archived account's id is not made stale by it."""
    reference_data(connection, connection.connector(), refresh=True)
    sales = account_id(sandbox, "Sales")
    klass = f.MappingFactory(connection=connection, kind="class", remote_id=sales, remote_name="Retail")
    sandbox.store.archive_account_as_user(sales)
    reference_data(connection, connection.connector(), refresh=True)
    assert rule(connection).stale_since is not None  # the income account rule: its account is gone
    klass.refresh_from_db()
    assert klass.stale_since is None

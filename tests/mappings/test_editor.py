"""The one-page mapping editor: every rule of a connection, choices from the platform and the ledger, add /
change / delete in one save with errors next to the row, permissions, admin log, refresh, "which rule and why"."""
import datetime as dt
import re

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounting_sync.staff import demo
from connectors import registry
from connectors.documents import Entity
from ledger import models as L
from mappings.models import Mapping, MappingKind, Scope
from mappings.resolve import needed_on
from tests import factories as f
from tests.mappings.editor_page import as_shown

pytestmark = pytest.mark.django_db


def url(conn) -> str:
    return f"/admin/connectors/connection/{conn.pk}/mappings/"


def row(response, kind: str, applies_to: str) -> str:
    """The form prefix of the row of ``kind`` that applies to ``applies_to`` (``"default:"``)."""
    section = next(s for s in response.context["sections"] if s.kind == kind)
    return next(form.prefix for form in section.formset.forms if form["applies_to"].value() == applies_to)


def blank_row(response, kind: str) -> str:
    section = next(s for s in response.context["sections"] if s.kind == kind)
    return section.formset.extra_forms[0].prefix


def options(response, field_name: str) -> dict[str, str]:
    """value -> label of a select on the page."""
    html = response.content.decode()
    select = re.search(rf'<select name="{re.escape(field_name)}".*?</select>', html, re.S).group(0)
    return {v: label.strip() for v, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)}


@pytest.fixture
def records(org):
    """Local things to map: a category, an item and a tax rate of the connection's organization, and of another."""
    pharmacy = L.ItemCategory.objects.create(organization=org, name="Pharmacy")
    f.ItemFactory(organization=org, name="Rabies vaccine", category=pharmacy)
    f.TaxRateFactory(organization=org, name="GST 10%")
    elsewhere = f.OrganizationFactory()
    L.ItemCategory.objects.create(organization=elsewhere, name="Not ours")
    return org


def test_page_lists_every_rule_and_offers_the_platforms_active_accounts_by_kind(admin_client, connection, records):
    own = f.MappingFactory(connection=connection, organization=records, kind=MappingKind.DEPOSIT_ACCOUNT,
                           scope=Scope.PAYMENT_METHOD, local_value="card", remote_id="7", remote_name="Checking")
    f.MappingFactory(kind=MappingKind.INCOME_ACCOUNT, remote_id="elsewhere")  # another connection's rule
    listing = admin_client.get("/admin/connectors/connection/").content.decode()
    change = admin_client.get(f"/admin/connectors/connection/{connection.pk}/change/").content.decode()
    assert url(connection) in listing and url(connection) in change

    page = admin_client.get(url(connection))
    assert page.status_code == 200
    rules = [form.instance for s in page.context["sections"] for form in s.formset.initial_forms]
    assert sorted(r.pk for r in rules) == sorted(connection.mappings.values_list("pk", flat=True))
    assert own in rules and f'id="rule-{own.pk}"' in page.content.decode()

    deposit = options(page, f"{row(page, MappingKind.DEPOSIT_ACCOUNT, 'default:')}-remote_id")
    assert deposit == {"": "—", "7": "Checking (7)", "6": "Undeposited Funds (6)",  # bank / deposit accounts only
                       "10": "Card Clearing (10)"}
    income = options(page, f"{row(page, MappingKind.INCOME_ACCOUNT, 'default:')}-remote_id")
    assert "Services (2)" in income.values() and "8" not in income and "6" not in income
    applies = options(page, f"{blank_row(page, MappingKind.INCOME_ACCOUNT)}-applies_to")
    assert {"category:Pharmacy", "item:Rabies vaccine", "line_kind:shipping", "default:"} <= set(applies)
    assert "category:Not ours" not in applies and "line_kind:discount" not in applies
    taxes = options(page, f"{blank_row(page, MappingKind.TAX_CODE)}-applies_to")
    assert set(taxes) == {"", "default:", "tax_rate:GST 10%"}
    assert set(options(page, f"{blank_row(page, MappingKind.TAX_CODE)}-remote_id")) == {"", "TAX", "NON", "3", "4"}


def test_add_change_and_delete_in_one_save_written_to_the_admin_log(admin_client, connection, records):
    page = admin_client.get(url(connection))
    data = as_shown(page)
    data[f"{row(page, MappingKind.INCOME_ACCOUNT, 'default:')}-remote_id"] = "2"  # Sales -> Services
    data[f"{row(page, MappingKind.DISCOUNT_ACCOUNT, 'default:')}-DELETE"] = "on"
    new = blank_row(page, MappingKind.INCOME_ACCOUNT)
    data.update({f"{new}-applies_to": "category:Pharmacy", f"{new}-remote_id": "3",
                 f"{new}-organization": str(records.pk)})
    response = admin_client.post(url(connection), data)
    assert response.status_code == 302 and response["Location"] == url(connection)

    rules = {(r.organization_id, r.kind, r.scope, r.local_value): (r.remote_id, r.remote_name)
             for r in Mapping.objects.filter(connection=connection)}
    assert rules[(None, MappingKind.INCOME_ACCOUNT, Scope.DEFAULT, "")] == ("2", "Services")
    assert rules[(records.pk, MappingKind.INCOME_ACCOUNT, Scope.CATEGORY, "Pharmacy")] == ("3", "Shipping Income")
    assert (None, MappingKind.DISCOUNT_ACCOUNT, Scope.DEFAULT, "") not in rules
    logged = {(e.action_flag, e.content_type.model) for e in LogEntry.objects.all()}
    assert {(ADDITION, "mapping"), (CHANGE, "mapping"), (DELETION, "mapping"), (CHANGE, "connection")} <= logged
    summary = LogEntry.objects.get(content_type__model="connection")
    assert summary.change_message == "Mappings edited: 1 added, 1 changed, 1 deleted"
    changed = LogEntry.objects.get(action_flag=CHANGE, content_type__model="mapping")
    assert changed.get_change_message() == "Changed Income account."
    assert "Mappings saved: 1 added, 1 changed, 1 deleted." in admin_client.get(url(connection)).content.decode()


def test_errors_show_next_to_their_row_and_nothing_is_saved(admin_client, connection, records):
    page = admin_client.get(url(connection))
    data = as_shown(page)
    data[f"{row(page, MappingKind.INCOME_ACCOUNT, 'default:')}-remote_id"] = "2"  # valid, but must not be saved
    duplicate = blank_row(page, MappingKind.DEPOSIT_ACCOUNT)
    data.update({f"{duplicate}-applies_to": "default:", f"{duplicate}-remote_id": "7"})
    foreign = blank_row(page, MappingKind.TAX_CODE)
    data.update({f"{foreign}-applies_to": "tax_rate:GST 10%", f"{foreign}-remote_id": "999"})
    before = list(Mapping.objects.values_list("pk", "remote_id").order_by("pk"))

    response = admin_client.post(url(connection), data)
    assert response.status_code == 200
    assert list(Mapping.objects.values_list("pk", "remote_id").order_by("pk")) == before
    html = response.content.decode()
    assert "Nothing was saved: correct the rows marked below." in html
    deposit_rows = re.search(r'id="kind-deposit_account".*?</fieldset>', html, re.S).group(0)
    assert "Another row already maps default connection-wide." in deposit_rows and "has-errors" in deposit_rows
    tax_rows = re.search(r'id="kind-tax_code".*?</fieldset>', html, re.S).group(0)
    assert "Select a valid choice. 999 is not one of the available choices." in tax_rows


def test_archived_accounts_are_not_offered_and_a_rule_using_one_is_marked(admin_client, make_xero_connection, records):
    xero = make_xero_connection(records)
    stale = f.MappingFactory(connection=xero, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.CATEGORY,
                             local_value="Pharmacy", remote_id="299", remote_name="Legacy Sales")  # archived in Xero
    page = admin_client.get(url(xero))
    stale_row = row(page, MappingKind.INCOME_ACCOUNT, "category:Pharmacy")
    assert options(page, f"{stale_row}-remote_id")["299"] == "Legacy Sales (299) — not offered"
    assert "The platform does not offer this income account" in page.content.decode()
    new = blank_row(page, MappingKind.INCOME_ACCOUNT)
    assert "299" not in options(page, f"{new}-remote_id") and "200" in options(page, f"{new}-remote_id")
    assert set(options(page, f"{row(page, MappingKind.DEPOSIT_ACCOUNT, 'default:')}-remote_id")) == {"", "090", "091",
                                                                                                     "092", "970"}
    data = as_shown(page)  # the stale row may stay while staff fix something else ...
    data[f"{row(page, MappingKind.INCOME_ACCOUNT, 'default:')}-remote_id"] = "260"
    assert admin_client.post(url(xero), data).status_code == 302
    stale.refresh_from_db()
    assert stale.remote_id == "299"
    page = admin_client.get(url(xero))  # ... but nobody can pick an archived account for another row
    data = as_shown(page)
    data.update({f"{blank_row(page, MappingKind.INCOME_ACCOUNT)}-applies_to": "line_kind:fee",
                 f"{blank_row(page, MappingKind.INCOME_ACCOUNT)}-remote_id": "299"})
    assert "299 is not one of the available choices" in admin_client.post(url(xero), data).content.decode()


def test_refresh_from_platform_replaces_the_cached_lists(admin_client, connection):
    connection.reference_data = {"accounts": {"999": "Closed account"}, "tax_codes": {}, "currencies": ["USD"],
                                 "home_currency": "USD", "account_kinds": {"999": "income"}, "control_accounts": {}}
    connection.reference_data_at = timezone.now()
    connection.save()
    page = admin_client.get(url(connection))
    assert "Closed account (999)" in page.content.decode()
    response = admin_client.post(url(connection), {"_refresh": "Refresh from platform"})
    assert response.status_code == 302
    page = admin_client.get(url(connection)).content.decode()
    assert "Fetched from QuickBooks Online: 15 accounts, 4 tax codes." in page
    assert "Closed account" not in page and "Services (2)" in page


def test_a_platform_that_does_not_answer_leaves_the_last_lists_and_says_so(admin_client, org):
    conn = f.ConnectionFactory()  # never connected: no tokens
    conn.organizations.add(org)
    conn.reference_data = {"accounts": {"1": "Sales"}, "tax_codes": {}, "currencies": [], "home_currency": "USD",
                           "account_kinds": {"1": "income"}, "control_accounts": {}}
    conn.reference_data_at = timezone.now() - dt.timedelta(days=2)
    conn.save()
    html = admin_client.get(url(conn)).content.decode()
    assert "Could not load the lists from QuickBooks Online" in html and "showing its lists as fetched at" in html
    assert "Sales (1)" in html


def test_permissions(client, connection, org):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(url(connection)).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="change_mapping"))
    user = User.objects.get(pk=user.pk)
    client.force_login(user)
    page = client.get(url(connection))
    assert page.status_code == 200
    assert all(not s.formset.extra_forms and not s.formset.can_delete for s in page.context["sections"])
    assert client.get(f"{url(connection)}export/").status_code == 200
    upload = {"_import": "1", "mode": "merge", "file": SimpleUploadedFile("x.csv", b"organization,kind\n")}
    assert client.post(url(connection), upload).status_code == 403  # importing may add rules


def test_which_rule_applies_and_why_for_a_chosen_document(admin_client, connection, org):
    clinic = demo.load_demo_data(org)
    demo.map_demo_accounts(connection, clinic)
    Mapping.objects.filter(connection=connection, scope=Scope.TAX_RATE, local_value="Exempt").delete()
    page = admin_client.get(url(connection), {"entity": "invoice", "number": "rv-1002"})
    html = page.content.decode()
    explained = page.context["explained_lines"]
    assert [line["account"].name for line in explained] == ["Services", "Sales", "Fees"]
    checkup = explained[0]["account"]
    assert checkup.why == "item category “Consultations” (connection-wide rule)"
    item_key = f"ledger.item:{L.Item.objects.get(name='Wellness check-up').pk}"
    assert [candidate for candidate, _ in checkup.tried] == [
        f"item “{item_key}”", "item “Wellness check-up”", "item category “Consultations”"]  # and no further
    assert checkup.tried[-1][1] is True and f'href="#rule-{checkup.rule_pk}"' in html
    assert "Missing: line 2 (Renal diet food 2kg): tax rate “Exempt” has no platform tax code mapped" in html
    assert "GL preview (USD)" in html and "balanced" in html
    missing = admin_client.get(url(connection), {"entity": "payment", "number": "NOPE"}).content.decode()
    assert "No payment numbered “NOPE” in this connection&#x27;s organizations." in missing
    elsewhere = f.InvoiceFactory()
    foreign = admin_client.get(url(connection), {"document": f"ledger.invoice:{elsewhere.pk}"}).content.decode()
    assert "is not a document of this connection&#x27;s organizations" in foreign


def test_the_plain_mapping_list_still_works(admin_client, connection):
    rule = Mapping.objects.filter(connection=connection).first()
    assert admin_client.get("/admin/mappings/mapping/").status_code == 200
    assert admin_client.get(f"/admin/mappings/mapping/{rule.pk}/change/").status_code == 200


def test_rules_written_elsewhere_are_shown_as_they_are_and_marked(admin_client, connection, records):
    vaccine = L.Item.objects.get(name="Rabies vaccine")
    by_key = f.MappingFactory(connection=connection, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.ITEM,
                              local_value=f"ledger.item:{vaccine.pk}", remote_id="2")
    f.MappingFactory(connection=connection, kind=MappingKind.TAX_CODE, scope=Scope.CATEGORY, local_value="Pharmacy",
                     remote_id="3")  # the plain list allows it; resolution never reads it
    page = admin_client.get(url(connection))
    key_row = row(page, MappingKind.INCOME_ACCOUNT, f"item:ledger.item:{vaccine.pk}")
    assert options(page, f"{key_row}-applies_to")[f"item:ledger.item:{vaccine.pk}"] == \
        f"Rabies vaccine (ledger.item:{vaccine.pk}) — by its key"
    assert "Tax code rules apply by tax rate, or as the default; a rule by item category is never used." in \
        page.content.decode()
    assert admin_client.post(url(connection), as_shown(page)).status_code == 302  # unchanged rows save as they are
    by_key.refresh_from_db()
    assert by_key.local_value == f"ledger.item:{vaccine.pk}"


def test_returns_and_costs_sections_show_only_where_the_platform_takes_them(admin_client, connection,
                                                                           make_xero_connection, org):
    """Refund, expense, paid-from and journal accounts: sections of their own on QBO and Xero; none on a platform
    that takes no refunds, expenses or journals."""
    for conn in (connection, make_xero_connection(org)):
        page = admin_client.get(url(conn)).content.decode()
        for section in ("Refund accounts", "Expense accounts", "Paid-from accounts (expenses, bill payments)",
                        "Journal accounts"):
            assert section in page, (conn.platform, section)
    # a platform that takes none of them (chosen from the registry: which ones do changes as platforms grow)
    without = next(pid for pid, cls in sorted(registry.connectors().items())
                   if not set(Entity.RETURNS_AND_COSTS) & cls.capabilities.entities)
    other = f.ConnectionFactory(platform=without, name="Books without refunds")
    other.organizations.add(org)
    page = admin_client.get(url(other)).content.decode()
    assert "Deposit accounts" in page and "Refund accounts" not in page and "Journal accounts" not in page


def test_supplier_bills_offer_their_accounts_payable_section_only_where_bills_are_taken(admin_client, connection,
                                                                                         make_xero_connection, org):
    """The optional accounts-payable rule of supplier bills: a section on QBO and Xero (the platforms that take
    bills), offering the platform's accounts-payable accounts; none on a platform that takes no bills. A bill's
    lines use the expense accounts, which a platform taking bills offers even without expenses."""
    for conn, payable in ((connection, "Accounts Payable (A/P)"), (make_xero_connection(org), "Accounts Payable")):
        page = admin_client.get(url(conn)).content.decode()
        assert "Accounts payable (supplier bills)" in page and payable in page, conn.platform
    assert needed_on("qbo", MappingKind.PAYABLE_ACCOUNT) and needed_on("xero", MappingKind.PAYABLE_ACCOUNT)
    without = next(pid for pid, cls in sorted(registry.connectors().items())
                   if Entity.BILL not in cls.capabilities.entities)
    assert not needed_on(without, MappingKind.PAYABLE_ACCOUNT)
    other = f.ConnectionFactory(platform=without, name="Books without bills")
    other.organizations.add(org)
    assert "Accounts payable (supplier bills)" not in admin_client.get(url(other)).content.decode()

"""Stale rules in the mapping layer and its editor: the mark, how each way of editing a rule clears it, and how the
editor and the plain list show it."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounting_sync.policies import drift
from accounting_sync.models import EntryStatus, OutboxEntry
from accounting_sync.policies.preflight import reference_data
from accounting_sync.core.sources import key_for
from mappings import csv_io
from mappings.models import Mapping, MappingKind
from mappings.resolve import explain
from tests import factories as f
from tests.conftest import account_id, drain

pytestmark = pytest.mark.django_db


def url(conn) -> str:
    return f"/admin/connectors/connection/{conn.pk}/mappings/"


def default_income(conn) -> Mapping:
    return Mapping.objects.get(connection=conn, kind=MappingKind.INCOME_ACCOUNT, scope="default", organization=None)


@pytest.fixture
def stale_sales(connection, sandbox):
    """The default income rule of ``connection`` points at "Sales", archived in QuickBooks since the last fetch."""
    reference_data(connection, connection.connector(), refresh=True)
    sandbox.store.archive_account_as_user(account_id(sandbox, "Sales"))
    reference_data(connection, connection.connector(), refresh=True)
    rule = default_income(connection)
    assert rule.stale_since is not None
    return rule


def test_pointing_a_rule_elsewhere_clears_the_mark_other_saves_keep_it(stale_sales):
    rule = Mapping.objects.get(pk=stale_sales.pk)
    rule.remote_name = "Sales (old)"
    rule.save()
    assert Mapping.objects.get(pk=rule.pk).stale_since is not None
    rule.remote_id = "2"
    rule.save(update_fields=["remote_id"])
    rule = Mapping.objects.get(pk=rule.pk)
    assert rule.stale_since is None and rule.stale_reason == ""


def test_resolution_still_uses_a_stale_rule_and_says_so(stale_sales, connection, make_invoice):
    from accounting_sync.core import sources

    invoice = make_invoice(("service", "1", "10.00"))
    adapter, obj = sources.load(key_for(invoice))
    [line] = explain(connection, adapter.snapshot(obj)).lines
    assert line.account.rule.pk == stale_sales.pk and line.account.rule.stale_since is not None
    assert "Sales (1)" in line.account.rule.stale_reason


def test_csv_import_fixing_the_rule_clears_it_and_sends_the_paused_entries(admin_client, stale_sales, connection,
                                                                          make_invoice):
    invoice = make_invoice(("service", "1", "10.00"))
    drain()
    entry = OutboxEntry.objects.get(source_key=key_for(invoice))
    assert entry.error_code == drift.STALE_CODE
    text = "organization,kind,scope,local_value,remote_id,remote_name\r\n,income_account,default,,2,Services\r\n"
    response = admin_client.post(url(connection), {"_import": "1", "mode": "merge",
                                                   "file": SimpleUploadedFile("fix.csv", text.encode())}, follow=True)
    html = response.content.decode()
    assert "Imported fix.csv (merge): 0 added, 1 changed" in html
    assert "1 entry that waited for a fixed mapping was queued to be sent again." in html
    assert default_income(connection).stale_since is None
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PENDING
    drain()
    entry.refresh_from_db()
    assert entry.status == EntryStatus.DONE


def test_csv_apply_rows_clears_the_mark_of_a_changed_rule(stale_sales, connection):
    reference = reference_data(connection, connection.connector())
    rows, errors = csv_io.read_rows(connection, "organization,kind,scope,local_value,remote_id,remote_name\n"
                                                ",income_account,default,,2,Services\n", reference)
    assert not errors
    csv_io.apply_rows(connection, rows)
    assert default_income(connection).stale_since is None


def test_a_change_in_the_plain_list_is_picked_up_by_the_next_refresh(admin_client, stale_sales, connection,
                                                                     make_invoice):
    invoice = make_invoice(("service", "1", "10.00"))
    drain()
    changelist = admin_client.get("/admin/mappings/mapping/")
    data = {"form-TOTAL_FORMS": "4", "form-INITIAL_FORMS": "4", "_save": "Save"}
    for i, form in enumerate(changelist.context["cl"].formset.forms):
        data[f"form-{i}-id"] = form.instance.pk
        data[f"form-{i}-remote_id"] = "2" if form.instance.pk == stale_sales.pk else form.instance.remote_id
        data[f"form-{i}-remote_name"] = form.instance.remote_name
    assert admin_client.post("/admin/mappings/mapping/", data).status_code == 302
    assert default_income(connection).stale_since is None
    entry = OutboxEntry.objects.get(source_key=key_for(invoice))
    assert entry.status == EntryStatus.NEEDS_ATTENTION  # not yet: the plain list knows nothing of the outbox
    admin_client.post(url(connection), {"_refresh": "Refresh from platform"})
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PENDING


def test_editor_lists_and_marks_stale_rules_and_the_explainer_flags_them(admin_client, stale_sales, connection,
                                                                        make_invoice):
    invoice = make_invoice(("service", "1", "10.00"))
    drain()
    page = admin_client.get(url(connection))
    html = page.content.decode()
    assert page.context["stale_rules"] == [stale_sales] and page.context["paused"] == 1
    assert (f'<a href="?fix={stale_sales.pk}#rule-{stale_sales.pk}">Income account: default → 1</a>: QuickBooks '
            "Online no longer offers account Sales (1)") in html
    assert f"?connection__id__exact={connection.pk}\">1 paused now</a>" in html
    assert f'id="rule-{stale_sales.pk}" class=" stale"' in html  # marked, not highlighted without ?fix=
    explained = admin_client.get(url(connection), {"entity": "invoice", "number": invoice.number}).content.decode()
    assert "stale: QuickBooks Online no longer offers account Sales (1)" in explained


def test_a_rule_made_stale_by_hand_is_reported_until_fixed(connection):
    rule = default_income(connection)
    assert drift.mark_stale([rule.pk], "gone", timezone.now()) == 1
    assert drift.mark_stale([rule.pk], "gone again") == 0  # the first date and reason stay
    assert list(drift.stale_rules(connection)) == [rule] and default_income(connection).stale_reason == "gone"
    f.MappingFactory(connection=connection, kind=MappingKind.INCOME_ACCOUNT, scope="line_kind", local_value="fee",
                     remote_id="4")
    assert list(drift.stale_rules(connection)) == [rule]

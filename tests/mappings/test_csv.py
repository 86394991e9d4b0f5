"""CSV export and import of a mapping set (issue 6 acceptance 6), in admin and as a management command."""
import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from accounting_sync.management.commands.accounting_sync_mappings import Command
from accounting_sync.policies.preflight import reference_data
from mappings import csv_io
from mappings.models import Mapping, MappingKind, Scope
from tests import factories as f

pytestmark = pytest.mark.django_db

HEADER = "organization,kind,scope,local_value,remote_id,remote_name\r\n"


def rule_set(conn) -> set[tuple]:
    return {(r.organization.slug if r.organization else "", r.kind, r.scope, r.local_value, r.remote_id, r.remote_name)
            for r in Mapping.objects.filter(connection=conn).select_related("organization")}


@pytest.fixture
def two_clinics(make_connection):
    """A QBO connection serving two clinics, with connection-wide and per-clinic rules of every kind."""
    north, south = f.OrganizationFactory(slug="north"), f.OrganizationFactory(slug="south")
    conn = make_connection(north, south)
    rule = f.MappingFactory
    rule(connection=conn, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.CATEGORY, local_value="Pharmacy, retail",
         remote_id="2", remote_name="Services")
    rule(connection=conn, organization=south, kind=MappingKind.INCOME_ACCOUNT, remote_id="3",
         remote_name="Shipping Income")
    rule(connection=conn, organization=north, kind=MappingKind.DEPOSIT_ACCOUNT, scope=Scope.PAYMENT_METHOD,
         local_value="card", remote_id="7", remote_name="Checking")
    rule(connection=conn, kind=MappingKind.TAX_CODE, scope=Scope.TAX_RATE, local_value="Exempt “zero”",
         remote_id="4", remote_name="Exempt")
    return conn, north, south


def test_export_then_import_into_another_connection_reproduces_the_set_exactly(make_connection, two_clinics):
    source, north, south = two_clinics
    target = make_connection(north, south, mapped=False)
    text = csv_io.export_rules(source)
    assert text.startswith(HEADER) and '"Pharmacy, retail"' in text and "\r\nsouth,income_account,default,," in text
    result = csv_io.import_rules(target, text, reference_data(target, target.connector()))
    assert (len(result.added), len(result.changed), len(result.deleted)) == (8, 0, 0)
    assert rule_set(target) == rule_set(source) and len(rule_set(target)) == 8
    assert csv_io.export_rules(target) == text
    assert str(csv_io.import_rules(target, text, reference_data(target, target.connector()))) == \
        "0 added, 0 changed, 0 deleted, 8 unchanged"


def test_every_wrong_row_is_named_by_its_line_and_nothing_is_written(two_clinics):
    conn, _, _ = two_clinics
    before = rule_set(conn)
    text = HEADER + "\r\n".join([
        ",income_account,default,,1,Sales",  # fine
        ",incme_account,default,,1,",
        ",income_account,category,,1,",
        ",tax_code,category,Food,3,",
        "west,income_account,default,,1,",
        ",deposit_account,default,,1,",  # Sales is an income account, not a bank account
        ",tax_code,tax_rate,GST,999,",
        ",income_account,default,,2,",  # the same rule as line 2
        ",income_account,default,,2",
    ]) + "\r\n"
    with pytest.raises(csv_io.ImportRefused) as refused:
        csv_io.import_rules(conn, text, reference_data(conn, conn.connector()), replace=True)
    assert refused.value.errors == [
        "line 3: unknown kind “incme_account” (use income_account, discount_account, deposit_account, tax_code, "
        "refund_account, expense_account, paid_from_account, journal_account, payable_account, class, location)",
        "line 4: a category rule needs a local_value",
        "line 5: a tax_code rule by category is never used (tax_code rules use tax_rate, default)",
        "line 6: organization “west” is not one of this connection's organizations (north, south)",
        "line 7: “1” is not an active bank or deposit account on the platform (for default; refresh the platform's "
        "lists if it is new)",
        "line 8: “999” is not an active tax code on the platform (for tax rate “GST”; refresh the platform's lists "
        "if it is new)",
        "line 9: repeats the rule of line 2",
        "line 10: expected 6 columns",
    ]
    assert rule_set(conn) == before
    with pytest.raises(csv_io.ImportRefused, match="missing: remote_id, remote_name"):
        csv_io.import_rules(conn, "organization,kind,scope,local_value\n", reference_data(conn, conn.connector()))


def test_merge_keeps_rules_the_file_does_not_list_and_replace_deletes_them(two_clinics):
    conn, _, _ = two_clinics
    reference = reference_data(conn, conn.connector())
    text = HEADER + ",income_account,default,,2,\r\nnorth,deposit_account,payment_method,cash,6,\r\n"
    merged = csv_io.import_rules(conn, text, reference)
    assert (len(merged.added), len(merged.changed), len(merged.deleted)) == (1, 1, 0)
    assert ("", "income_account", "default", "", "2", "") in rule_set(conn) and len(rule_set(conn)) == 9
    replaced = csv_io.import_rules(conn, text, reference, replace=True)
    assert (len(replaced.added), len(replaced.changed), len(replaced.deleted), replaced.unchanged) == (0, 0, 7, 2)
    assert rule_set(conn) == {("", "income_account", "default", "", "2", ""),
                              ("north", "deposit_account", "payment_method", "cash", "6", "")}


def test_admin_download_and_upload(admin_client, make_connection, two_clinics):
    source, north, south = two_clinics
    target = make_connection(north, south, mapped=False)
    download = admin_client.get(f"/admin/connectors/connection/{source.pk}/mappings/export/")
    assert download["Content-Type"] == "text/csv; charset=utf-8" and "attachment;" in download["Content-Disposition"]
    editor = f"/admin/connectors/connection/{target.pk}/mappings/"

    bad = download.content.replace(b"\r\n,tax_code,tax_rate,", b"\r\n,tax_code,tax_rates,")
    page = admin_client.post(editor, {"_import": "1", "mode": "merge",
                                      "file": SimpleUploadedFile("set.csv", b"\xef\xbb\xbf" + bad)})
    html = page.content.decode()
    assert page.status_code == 200 and "The file was not imported; nothing was changed." in html
    assert "line 6: unknown scope “tax_rates”" in html and not Mapping.objects.filter(connection=target).exists()

    response = admin_client.post(editor, {"_import": "1", "mode": "replace",
                                          "file": SimpleUploadedFile("set.csv", download.content)})
    assert response.status_code == 302 and rule_set(target) == rule_set(source)
    assert "Imported set.csv (replace): 8 added, 0 changed, 0 deleted, 0 unchanged." in \
        admin_client.get(editor).content.decode()
    assert LogEntry.objects.filter(content_type__model="mapping", object_id__in=[
        str(pk) for pk in Mapping.objects.filter(connection=target).values_list("pk", flat=True)]).count() == 8
    assert LogEntry.objects.get(content_type__model="connection", object_id=str(target.pk)).change_message == \
        "Mappings imported from set.csv (replace): 8 added, 0 changed, 0 deleted, 0 unchanged"


def test_management_command_exports_and_imports(tmp_path, make_connection, two_clinics, capsys):
    source, north, south = two_clinics
    target = make_connection(north, south)  # with the same default rules as the source
    f.MappingFactory(connection=target, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.LINE_KIND, local_value="fee",
                     remote_id="4")  # which --replace removes
    path = tmp_path / "set.csv"
    call_command("accounting_sync_mappings", "--connection", source.name, "export", str(path))
    assert f"8 rules of {source.name} written to {path}." in capsys.readouterr().out
    call_command("accounting_sync_mappings", "--connection", target.name, "import", str(path), "--replace")
    assert "4 added, 0 changed, 1 deleted, 4 unchanged (replace)" in capsys.readouterr().out
    assert rule_set(target) == rule_set(source)

    path.write_text(HEADER + "nowhere,income_account,default,,1,\r\n", encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("accounting_sync_mappings", "--connection", target.name, "import", str(path))
    assert "Nothing was imported" in str(refused.value) and "line 2: organization “nowhere”" in str(refused.value)
    with pytest.raises(CommandError, match="No connection named 'Nope'"):
        call_command("accounting_sync_mappings", "--connection", "Nope", "export", "-")
    help_text = Command().create_parser("manage.py", "accounting_sync_mappings").format_help()
    assert "Examples:" in help_text and "import mappings.csv --replace" in help_text

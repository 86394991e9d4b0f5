"""``accounting_sync_demo --once`` syncs the demo clinic to every registered platform's sandbox and reads every
document back (issue 2 acceptance 8, issue 4 acceptance 6, issue 11: the demo loops over the registry)."""
import pytest
from django.core.management import call_command

from accounting_sync.staff import demo
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
from connectors import registry
from connectors.models import Connection


@pytest.mark.django_db
def test_demo_once_exits_zero_with_matching_totals_on_every_platform(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        call_command("accounting_sync_demo", "--once", "--export-folder", str(tmp_path))
    out = capsys.readouterr().out
    assert exit_info.value.code == 0, out
    assert "invoice RV-1001" in out and "payment PAY-2001" in out and "credit note CN-3001" in out
    assert "refund RF-4001" in out and "expense EXP-5001" in out  # a return refunded, and its courier label
    assert "bill BILL-6001" in out  # a supplier's bill, owed
    assert "bill payment BP-7001" in out  # paid in part
    assert " NO" not in out
    platforms = demo.platforms()
    assert {"qbo", "xero", "zoho", "sage", "freshbooks", "businesscentral", "reckon", "myob",
            "freeagent"} <= set(platforms)
    for platform in platforms:
        assert f"All demo documents are in the {registry.get(platform).name} sandbox" in out
    for platform in demo.file_platforms():  # no API: one export batch, imported there, its export read back
        assert f"All demo documents are in the {registry.get(platform).name} export files" in out
        assert list(tmp_path.glob(f"{platform}-batch-1/{platform}-batch-1-*"))
    assert sorted(Connection.objects.values_list("platform", flat=True)) == sorted(platforms
                                                                                   + demo.file_platforms())
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    for conn in Connection.objects.all():  # every document of the clinic on each platform that takes it
        taken = conn.connector_class().capabilities.entities
        for entity, count in (("invoice", 3), ("payment", 2), ("credit_note", 2), ("refund", 1), ("expense", 1),
                              ("bill", 1), ("bill_payment", 1)):
            expected = count if entity in taken else 0
            assert ExternalReference.objects.filter(connection=conn, entity=entity).count() == expected, \
                (conn.platform, entity)

"""``accounting_sync_demo --once`` syncs the demo clinic to the QBO and the Xero sandboxes and reads every document
back (issue 2 acceptance 8, issue 4 acceptance 6)."""
import pytest
from django.core.management import call_command

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
from connectors.models import Connection


@pytest.mark.django_db
def test_demo_once_exits_zero_with_matching_totals_on_both_platforms(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("accounting_sync_demo", "--once")
    out = capsys.readouterr().out
    assert exit_info.value.code == 0, out
    assert "invoice RV-1001" in out and "payment PAY-2001" in out and "credit note CN-3001" in out
    assert " NO" not in out
    assert "All demo documents are in the QuickBooks Online sandbox" in out
    assert "All demo documents are in the Xero sandbox" in out
    assert sorted(Connection.objects.values_list("platform", flat=True)) == ["qbo", "xero"]
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    for conn in Connection.objects.all():  # every document of the clinic on each platform
        assert ExternalReference.objects.filter(connection=conn, entity="invoice").count() == 3
        assert ExternalReference.objects.filter(connection=conn, entity="payment").count() == 2
        assert ExternalReference.objects.filter(connection=conn, entity="credit_note").count() == 1

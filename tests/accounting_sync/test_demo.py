"""``accounting_sync_demo --once`` syncs the demo clinic and reads every document back (acceptance 8)."""
import pytest
from django.core.management import call_command

from accounting_sync.models import EntryStatus, OutboxEntry


@pytest.mark.django_db
def test_demo_once_exits_zero_with_matching_totals(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("accounting_sync_demo", "--once")
    out = capsys.readouterr().out
    assert exit_info.value.code == 0, out
    assert "invoice RV-1001" in out and "payment PAY-2001" in out and "credit note CN-3001" in out
    assert " NO" not in out
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()

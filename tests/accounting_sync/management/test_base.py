"""What every long command shares (``accounting_sync.management.base``): a progress bar with the total and a
percentage on stderr, drawn only on a terminal and never with ``--no-progress``; ``--now`` runs that list each entry."""
import io
import re

import pytest
from django.core.management import CommandError, call_command

from accounting_sync.models import EntryStatus, OutboxEntry
from mappings.models import Mapping, MappingKind
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    """stderr as a terminal: the only place a progress bar is drawn."""

    def isatty(self):
        return True


def test_resync_shows_a_progress_bar_with_total_and_percentage_on_a_terminal_only(connection, make_invoice):
    make_invoice()
    make_invoice()
    err = Terminal()
    call_command("accounting_sync_resync", "--connection", connection.name, "--force", stderr=err)
    done = re.search(rf"Syncing to {connection.name}: 100%\|.*\| (\d+)/(\d+)", err.getvalue())
    assert done and done.group(1) == done.group(2) and int(done.group(2)) >= 3  # customers, items, invoices
    err = Terminal()
    call_command("accounting_sync_resync", "--connection", connection.name, "--force", "--no-progress", stderr=err)
    assert "Syncing" not in err.getvalue()
    err = io.StringIO()  # a log file or a pipe: no bar
    call_command("accounting_sync_resync", "--connection", connection.name, "--force", stderr=err)
    assert "Syncing" not in err.getvalue() and "%|" not in err.getvalue()


def test_reconciling_shows_its_progress(connection, make_invoice):
    make_invoice()
    make_invoice()
    drain()
    err, out = Terminal(), io.StringIO()
    call_command("accounting_sync_reconcile", "--connection", connection.name, stderr=err, stdout=out)
    compared = int(re.search(r"(\d+) documents compared", out.getvalue()).group(1))
    assert compared >= 2
    assert re.search(rf"Reconciling {connection.name}: 100%\|.*\| {compared}/{compared}", err.getvalue())
    err = Terminal()
    call_command("accounting_sync_reconcile", "--connection", connection.name, "--no-progress", stderr=err,
                 stdout=io.StringIO())
    assert "Reconciling" not in err.getvalue()


def test_verifying_the_audit_trail_shows_its_progress(connection, make_invoice):
    make_invoice()
    drain()
    err, out = Terminal(), io.StringIO()
    call_command("accounting_sync_audit", "verify", stderr=err, stdout=out)
    assert "The audit trail is intact" in out.getvalue()
    assert re.search(r"Checking the audit trail: 100%\|.*\| (\d+)/\1", err.getvalue())
    err = io.StringIO()
    call_command("accounting_sync_audit", "verify", stderr=err, stdout=io.StringIO())
    assert "Checking" not in err.getvalue()


def test_retry_now_lists_each_entry_and_counts_them_on_the_bar(connection, make_invoice, org):
    Mapping.objects.filter(connection=connection, kind=MappingKind.TAX_CODE).delete()
    make_invoice(("service", "1", "10.00", f.TaxRateFactory(organization=org)))  # a rate nobody mapped
    make_invoice(("service", "1", "20.00", f.TaxRateFactory(organization=org)))
    drain()
    stuck = list(OutboxEntry.objects.filter(status=EntryStatus.NEEDS_ATTENTION).order_by("pk"))
    assert len(stuck) == 2
    err, out = Terminal(), io.StringIO()
    with pytest.raises(CommandError, match="2 of 2 retried entries did not sync"):
        call_command("accounting_sync_retry", "--connection", connection.name, "--now", stderr=err, stdout=out)
    lines = out.getvalue().splitlines()
    assert sorted(line.split(":")[0] for line in lines) == sorted(f"#{e.pk} {e.label}" for e in stuck)
    assert all("needs_attention" in line and "tax" in line.lower() for line in lines)  # the status and the reason
    assert re.search(r"Retrying: 100%\|.*\| 2/2", err.getvalue())
    out = io.StringIO()
    call_command("accounting_sync_retry", "--entry", str(stuck[0].pk), stdout=out)
    assert out.getvalue() == "1 entry queued for retry.\n"

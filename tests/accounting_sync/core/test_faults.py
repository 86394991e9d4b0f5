"""1,000 invoices under 20% injected faults of every kind (issue 3 acceptance 5): in the end exactly 1,000 remote
invoices, each matching its local totals, no entry lost, every failed attempt in the sync log."""
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounting_sync.models import EntryStatus, OutboxEntry, Outcome, SyncLog
from connectors.sandboxkit.faults import KINDS
from ledger.models import Invoice
from tests import factories as f
from tests.conftest import drain, remote_invoices

pytestmark = pytest.mark.django_db

COUNT = 1000


def test_thousand_invoices_under_twenty_percent_faults(connection, org, sandbox, clock, settings, monkeypatch):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "MAX_ATTEMPTS": 40}
    connection.settings = {**connection.settings, "timeout": 0.5, "rate_limits": False}  # faults, not pacing
    connection.save()
    monkeypatch.setattr(sandbox.faults, "timeout_seconds", 0.7)
    # Our clock runs ahead, so tokens expire and are refreshed under faults too. Like QuickBooks, the sandbox
    # must then accept the superseded refresh token for about a day (a lost refresh response is not fatal).
    monkeypatch.setattr(sandbox.auth, "refresh_grace_seconds", 86400)
    customers = [f.CustomerFactory(organization=org) for _ in range(20)]
    with transaction.atomic():
        for n in range(COUNT):
            invoice = f.InvoiceFactory(organization=org, customer=customers[n % 20], number=f"F-{n:05d}")
            f.InvoiceLineFactory(invoice=invoice, quantity=Decimal(1 + n % 3),
                                 unit_price=Decimal(f"{n % 97}.{n % 100:02d}"))
            f.InvoiceLineFactory(invoice=invoice, position=1, kind="shipping", quantity=Decimal("1"),
                                 unit_price=Decimal("4.95"))
    assert set(KINDS) == {"http_500", "http_503", "timeout", "reset", "lost_response", "rate_limit"}
    sandbox.faults.rate(0.2, kinds=KINDS, seed=20261120)

    for rounds in range(100):  # noqa: B007 - the count is printed after the loop
        drain()
        waiting = OutboxEntry.objects.exclude(status=EntryStatus.DONE)
        if not waiting.exists():
            break
        assert not waiting.filter(status__in=[EntryStatus.NEEDS_ATTENTION, EntryStatus.FAILED]).exists(), \
            list(waiting.values_list("label", "last_error")[:5])
        # Nothing is due yet: let time pass until every retry is due (backoff, or a 429 pause).
        connection.refresh_from_db()
        next_at = max(filter(None, [waiting.order_by("-next_attempt_at").first().next_attempt_at,
                                    connection.paused_until]))
        clock.advance(max(0.0, (next_at - timezone.now()).total_seconds()) + 0.01)
    sandbox.faults.rate(0)
    print(f"{rounds} rounds, {len(sandbox.faults.fired)} faults")

    left = OutboxEntry.objects.exclude(status=EntryStatus.DONE)
    assert not left.exists(), [(e.label, e.status, e.attempts, e.next_attempt_at, timezone.now(), e.lease_until,
                                e.last_error) for e in left[:3]]
    remote = {r["DocNumber"]: r for r in remote_invoices(sandbox)}
    assert len(remote_invoices(sandbox)) == COUNT == len(remote)
    for invoice in Invoice.objects.filter(organization=org):
        assert Decimal(str(remote[invoice.number]["TotalAmt"])) == invoice.totals().total, invoice.number

    fired = [kind for kind, _, path in sandbox.faults.fired if path.startswith("/v3/")]
    assert {k for k in fired} == set(KINDS), "every kind of fault was exercised"
    failures = SyncLog.objects.filter(outcome=Outcome.RETRY)
    assert failures.count() >= len(fired)  # a batch failure is logged on each of its entries
    assert not failures.filter(message="").exists() and not failures.filter(error_code="").exists()
    retried = set(failures.values_list("entry_id", flat=True))
    succeeded = set(SyncLog.objects.filter(outcome=Outcome.SUCCESS).values_list("entry_id", flat=True))
    assert retried and retried <= succeeded  # every entry that failed on the way got there in the end

"""Refunds, expenses and journals taken back on every registered platform that reports changes to them (issue 23):
a person voids, reverses, cancels or deletes one there, one poll voids it here, once, and nothing goes back out.

Parametrized over the registry (``tests/platforms.py``); what the person does is the sandbox's ``user_takes_back``
action for the entity (``PlatformHarness.take_back``). QuickBooks Online and Xero have their own suite with edits
as well (``test_inbound_returns_and_costs.py``); a platform that does not declare the entity in
``capabilities.inbound`` is skipped, saying so (reconciliation finds those changes there).
"""
from decimal import Decimal

import pytest

from accounting_sync.inbound import sync as inbound
from accounting_sync.models import EntryStatus, OutboxEntry, Outcome, RemoteStatus, SyncLog
from accounting_sync.reconcile import engine
from connectors.base import AccountKind
from connectors.documents import Entity
from ledger.models import DocumentStatus
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests import platforms
from tests.accounting_sync.inbound.test_platform_inbound import last_log, writes_since
from tests.accounting_sync.reconcile.test_reconcile_returns_and_costs import ref_of, synced_documents
from tests.conftest import drain
from tests.platforms import next_second

pytestmark = pytest.mark.django_db
harness, platform, platform_sandboxes = platforms.harness, platforms.platform, platforms.platform_sandboxes
COSTS = (Entity.REFUND, Entity.EXPENSE, Entity.JOURNAL)


@pytest.fixture
def books(harness, org):
    """A two-way connection with the demo chart mapped, and the journal's account codes 6100 (the platform's first
    expense account) and 1010 (the demo chart's deposit account)."""
    if not set(COSTS) & harness.capabilities.inbound:
        pytest.skip(f"{harness.platform} reports no refund, expense or journal changes (capabilities.inbound)")
    f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))
    f.TaxRateFactory(organization=org, name="Exempt", rate=Decimal("0"))
    conn = harness.connect(org, direction="both")
    reference = conn.connector().reference_data()
    deposit = harness.account_ids(reference)[harness.chart.deposit]
    cost = next(pk for pk, kind in sorted(reference.account_kinds.items()) if kind == AccountKind.EXPENSE)
    for code, remote_id in (("6100", cost), ("1010", deposit)):
        f.MappingFactory(connection=conn, kind=MappingKind.JOURNAL_ACCOUNT, scope=Scope.ACCOUNT_CODE,
                         local_value=code, remote_id=remote_id)
    return conn


@pytest.mark.parametrize("entity", COSTS)
def test_taken_back_there_is_voided_here_once_and_not_sent_back(books, harness, org, entity):
    if entity not in harness.capabilities.inbound:
        pytest.skip(f"{harness.platform} does not report {entity} changes")
    note, refund, expense, journal = synced_documents(org)
    obj = {Entity.REFUND: refund, Entity.EXPENSE: expense, Entity.JOURNAL: journal}[entity]
    ref = ref_of(obj)
    harness.take_back(entity, ref.remote_id)
    next_second()  # platforms filter changes by the second
    mark = last_log(books)
    result = inbound.pull(books)
    assert result.failed == 0 and result.applied == 1, result.summary()
    obj.refresh_from_db()
    assert obj.status == DocumentStatus.VOID
    ref.refresh_from_db()
    assert ref.remote_status in (RemoteStatus.VOIDED, RemoteStatus.DELETED)
    assert SyncLog.objects.filter(connection=books, operation=f"pull {entity}", outcome=Outcome.SUCCESS).exists()
    assert not OutboxEntry.objects.filter(connection=books).exclude(status=EntryStatus.DONE).exists()

    drain()
    assert writes_since(books, mark) == []  # the void that came in is not sent back
    assert inbound.pull(books).applied == 0  # a second poll applies nothing
    run = engine.run(books)
    assert run.variances == 0, run.error  # both sides agree again: voided there and here

"""Checks and journal entries changed in NetSuite's UI, back by polling (issue 23): a check's line typed over is
reported as an update (SuiteQL ``transaction.lastmodifieddate``) and flagged as a variance, never written here; a
check voided in the UI is reported as a void (``voided``) and voided here once; a journal entry deleted there comes
from ``deletedrecord``. The NetSuite SOAP suite runs the same checks (``tests/connectors/netsuitesoap``)."""
import datetime as dt
from decimal import Decimal

import pytest

from accounting_sync.inbound import sync as inbound
from accounting_sync.models import RemoteStatus
from accounting_sync.reconcile.models import Reason, Variance
from ledger.models import DocumentStatus
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.accounting_sync.inbound.test_platform_inbound import last_log, writes_since
from tests.accounting_sync.reconcile.test_reconcile_returns_and_costs import ref_of, synced_documents
from tests.conftest import drain
from tests.platforms import POOL, PlatformHarness, next_second, sandbox_for

D = Decimal
pytestmark = pytest.mark.django_db
#: The accounts of the journal's codes 6100 and 1010 in each sandbox's demo chart.
CHART = {"netsuite": ("Postage and Delivery", "Checking"), "netsuitesoap": ("Operating Expenses", "Checking")}


def two_way(request, org, platform: str) -> PlatformHarness:
    harness = PlatformHarness(platform, sandbox_for(request, platform), POOL)
    harness.reset()
    f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10"))
    f.TaxRateFactory(organization=org, name="Exempt", rate=D("0"))
    harness.conn = harness.connect(org, direction="both")
    accounts = {r.data["acctName"]: r.id for r in harness.sandbox.store.rows("account")}
    for code, name in zip(("6100", "1010"), CHART[platform], strict=True):
        f.MappingFactory(connection=harness.conn, kind=MappingKind.JOURNAL_ACCOUNT, scope=Scope.ACCOUNT_CODE,
                         local_value=code, remote_id=accounts[name])
    return harness


def reported(books, entity: str, since: dt.datetime) -> list[tuple[str, str, str]]:
    next_second()  # NetSuite compares whole seconds
    connector = books.conn.connector()
    changes, cursor = connector.changes_since([entity], since)
    assert connector.changes_since([entity], cursor)[0] == []  # once
    return [(c.entity, c.remote_id, c.operation) for c in changes]


def check_typed_over_is_flagged(books, org) -> None:
    note, refund, expense, journal = synced_documents(org)
    ref = ref_of(expense)
    since = dt.datetime.now(dt.UTC)
    books.act("edit_check_line", check_id=ref.remote_id, line=0, amount="25.00")
    assert reported(books, "expense", since) == [("expense", ref.remote_id, "update")]
    mark = last_log(books.conn)
    assert inbound.pull(books.conn).failed == 0
    [variance] = Variance.objects.filter(connection=books.conn, source_key=ref.source_key)
    assert variance.reason == Reason.EDITED_REMOTELY and (D(variance.local_value), D(variance.remote_value)) == (20, 25)
    expense.refresh_from_db()
    assert expense.status != DocumentStatus.VOID
    drain()
    assert writes_since(books.conn, mark) == []


def check_voided_and_journal_deleted_are_told_apart(books, org) -> None:
    note, refund, expense, journal = synced_documents(org)
    check, entry = ref_of(expense), ref_of(journal)
    since = dt.datetime.now(dt.UTC)
    books.act("void_check", check_id=check.remote_id)
    books.act("delete_journal", journal_id=entry.remote_id)
    assert reported(books, "expense", since) == [("expense", check.remote_id, "void")]
    assert reported(books, "journal", since) == [("journal", entry.remote_id, "delete")]
    assert inbound.pull(books.conn).applied == 2
    check.refresh_from_db()
    entry.refresh_from_db()
    assert (check.remote_status, entry.remote_status) == (RemoteStatus.VOIDED, RemoteStatus.DELETED)


@pytest.fixture
def books(request, org):
    return two_way(request, org, "netsuite")


def test_a_check_typed_over_in_netsuite_is_reported_as_an_update_and_flagged(books, org):
    check_typed_over_is_flagged(books, org)


def test_a_check_voided_and_a_journal_entry_deleted_in_netsuite_are_reported_as_such(books, org):
    check_voided_and_journal_deleted_are_told_apart(books, org)

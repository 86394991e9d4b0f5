"""Reconciliation (issue 16): each way the books can disagree gives its variance, reason and action, on QuickBooks
Online and Xero alike; documents on their way give none; the platforms are read in bulk, not per document."""
import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounting_sync import reconcile
from accounting_sync.reconcile import engine
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
from accounting_sync.reconcile.models import Reason, ReconciliationRun, RunKind, RunStatus, Variance, VarianceStatus
from connectors.base import BaseConnector, RemoteChange
from connectors.models import Connection
from ledger.models import InvoiceLine, PaymentAllocation
from tests import factories as f
from tests.conftest import drain
from tests.locks import held_elsewhere, needs_row_locks

pytestmark = pytest.mark.django_db


class QBO:
    """What a bookkeeper does in QuickBooks Online (the sandbox's "as a user" actions)."""

    def __init__(self, request, org, **settings):
        self.sandbox = request.getfixturevalue("sandbox")
        self.conn = request.getfixturevalue("make_connection")(org, settings={
            **_qbo_settings(self.sandbox), **settings}) if settings else request.getfixturevalue("make_connection")(org)

    def edit(self, ref):
        self.sandbox.store.edit_invoice_line_as_user(ref.remote_id, 0, qty=3)

    def void(self, ref):
        self.sandbox.store.void_invoice_as_user(ref.remote_id)

    def pay(self, ref, amount):
        self.sandbox.store.record_payment_as_user(ref.remote_id, amount)

    def round(self, ref):
        row = self.sandbox.store.get("Invoice", ref.remote_id)
        tax = row["TxnTaxDetail"]
        self.sandbox.store.edit_as_user("Invoice", ref.remote_id,
                                        {"TxnTaxDetail": {**tax, "TotalTax": str(tax["TotalTax"] + Decimal("0.01"))}})

    def delete(self, ref):
        self.sandbox.store.delete_invoice_as_user(ref.remote_id)

    def delete_payment(self, ref):
        self.sandbox.store.delete_payment_as_user(ref.remote_id)


class Xero:
    def __init__(self, request, org, **settings):
        self.sandbox = request.getfixturevalue("xsandbox")
        self.conn = request.getfixturevalue("make_xero_connection")(org, **settings)

    def edit(self, ref):
        self.sandbox.store.edit_invoice_line_as_user(ref.remote_id, 0, quantity=3)

    def void(self, ref):
        self.sandbox.store.void_invoice_as_user(ref.remote_id)

    def pay(self, ref, amount):
        self.sandbox.store.record_payment_as_user(ref.remote_id, amount)

    def round(self, ref):
        row = self.sandbox.store.get("Invoices", ref.remote_id)
        lines = [dict(line) for line in row["LineItems"]]
        lines[0]["TaxAmount"] = str(Decimal(str(lines[0]["TaxAmount"])) + Decimal("0.01"))
        self.sandbox.store.edit_as_user("Invoices", ref.remote_id, {"LineItems": lines})

    def delete(self, ref):
        self.sandbox.store.delete_invoice_as_user(ref.remote_id)  # drafts only, as in Xero

    def delete_payment(self, ref):
        self.sandbox.store.delete_payment_as_user(ref.remote_id)


PLATFORMS = {"qbo": QBO, "xero": Xero}
DRAFTS = {"qbo": {}, "xero": {"invoice_status": "DRAFT"}}  # Xero deletes only invoices not yet approved


def _qbo_settings(sandbox):
    from tests.conftest import sandbox_settings

    return sandbox_settings(sandbox)


@pytest.fixture(params=sorted(PLATFORMS))
def platform_id(request):
    return request.param


@pytest.fixture
def platform(request, platform_id, org):
    return PLATFORMS[platform_id](request, org)


@pytest.fixture
def gst(org):
    return f.TaxRateFactory(organization=org)


def synced(make_invoice, *lines):
    invoice = make_invoice(*(lines or [("service", "2", "50.00")]))
    drain()
    return invoice, ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")


def connected_long_ago(connection):
    """The connection was made a day ago: its scheduled runs' first interval has begun (``tasks.is_due``)."""
    type(connection).objects.filter(pk=connection.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    connection.refresh_from_db()


def only_variance(run) -> Variance:
    assert run.status == RunStatus.DONE, run.error
    [variance] = Variance.objects.filter(last_run=run)
    return variance


def test_books_that_agree_give_no_variance_and_equal_totals(platform, make_invoice, gst):
    invoice, _ = synced(make_invoice, ("service", "2", "50.00", gst), ("product", "1", "19.99"))
    run = reconcile.run(platform.conn)
    assert (run.status, run.checked, run.variances, run.alarms) == (RunStatus.DONE, 1, 0, 0), run.error
    month = run.totals.get(period="month", entity="invoice")
    assert month.start == invoice.issue_date.replace(day=1)
    assert (month.local_total, month.remote_total) == (Decimal("129.99"), Decimal("129.99"))
    assert (month.local_count, month.remote_count) == (1, 1)
    assert run.totals.get(period="day", entity="invoice").start == invoice.issue_date


def test_document_edited_on_the_platform(platform, make_invoice):
    _, ref = synced(make_invoice)
    platform.edit(ref)
    variance = only_variance(reconcile.run(platform.conn))
    assert (variance.reason, variance.field, variance.alarm) == (Reason.EDITED_REMOTELY, "total", True)
    assert (variance.local_value, variance.remote_value, variance.difference) == ("100.00", "150.00", Decimal("50.00"))
    assert "resync" in variance.action.lower()


def test_document_voided_on_the_platform(platform, make_invoice):
    _, ref = synced(make_invoice)
    platform.void(ref)
    variance = only_variance(reconcile.run(platform.conn))
    assert (variance.reason, variance.field, variance.remote_value, variance.alarm) == \
        (Reason.VOIDED_REMOTELY, "status", "voided", True)
    assert "Void locally" in variance.action


def test_document_paid_on_the_platform(platform, make_invoice):
    _, ref = synced(make_invoice)
    platform.pay(ref, "40.00")
    variance = only_variance(reconcile.run(platform.conn))
    assert (variance.reason, variance.field) == (Reason.MISSING_HERE, "balance")
    assert (variance.local_value, variance.remote_value, variance.difference) == ("100.00", "60.00", Decimal("-40.00"))


def test_document_rounded_differently_is_shown_but_is_no_alarm(platform, make_invoice, gst):
    _, ref = synced(make_invoice, ("service", "2", "50.00", gst))
    platform.round(ref)
    run = reconcile.run(platform.conn)
    variance = only_variance(run)
    assert (variance.reason, variance.field, variance.difference, variance.alarm) == \
        (Reason.ROUNDING, "total", Decimal("0.01"), False)
    assert run.alarms == 0 and run.open_alarms == 0


def test_document_deleted_on_the_platform(request, platform_id, org, make_invoice):
    platform = PLATFORMS[platform_id](request, org, **DRAFTS[platform_id])
    _, ref = synced(make_invoice)
    platform.delete(ref)
    variance = only_variance(reconcile.run(platform.conn))
    assert (variance.reason, variance.field, variance.remote_value) == (Reason.DELETED_REMOTELY, "exists", "deleted")
    assert "Re-send" in variance.action


def test_payment_deleted_on_the_platform_is_missing_there(platform, make_invoice, org):
    invoice, _ = synced(make_invoice)
    payment = f.PaymentFactory(organization=org, customer=invoice.customer, amount=Decimal("30.00"))
    PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("30.00"))
    drain()
    pay_ref = ExternalReference.objects.get(source_key=f"ledger.payment:{payment.pk}")
    assert only_reasons(reconcile.run(platform.conn)) == []
    platform.delete_payment(pay_ref)
    found = only_reasons(reconcile.run(platform.conn))
    assert found == [("invoice", Reason.MISSING_THERE, "balance"), ("payment", Reason.DELETED_REMOTELY, "exists")]


def only_reasons(run) -> list[tuple[str, str, str]]:
    assert run.status == RunStatus.DONE, run.error
    return sorted(Variance.objects.filter(last_run=run).values_list("entity", "reason", "field"))


def test_document_still_in_the_outbox_gives_no_variance(platform, make_invoice, org):
    invoice, ref = synced(make_invoice)
    line = InvoiceLine.objects.get(invoice=invoice)
    line.quantity = Decimal("5")
    line.save()  # changed here, not yet sent: the platform still has the old total
    payment = f.PaymentFactory(organization=org, customer=invoice.customer, amount=Decimal("20.00"))
    PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("20.00"))
    unsent, _ = make_invoice(), None  # never sent at all
    run = reconcile.run(platform.conn)
    assert (run.status, run.variances, run.in_flight) == (RunStatus.DONE, 0, 1), run.error
    assert not Variance.objects.exists() and unsent.pk


def test_payment_on_its_way_is_not_a_missing_payment(platform, make_invoice, org):
    invoice, _ = synced(make_invoice)
    payment = f.PaymentFactory(organization=org, customer=invoice.customer, amount=Decimal("20.00"))
    PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("20.00"))
    run = reconcile.run(platform.conn)  # the invoice is due 80 here, 100 there: the payment is on its way
    assert (run.checked, run.variances) == (1, 0)


def test_variance_is_resolved_once_the_books_agree_again(platform, make_invoice):
    _, ref = synced(make_invoice)
    platform.edit(ref)
    first = reconcile.run(platform.conn)
    again = reconcile.run(platform.conn)
    variance = only_variance(again)
    assert (variance.first_run_id, variance.last_run_id) == (first.pk, again.pk)  # one row while it lasts
    call_command("accounting_sync_resync", connection=platform.conn.name, ids=ref.source_key.split(":")[1],
                 entity=["invoice"], force=True, stdout=StringIO(), stderr=StringIO())
    # The platform's edit stops the resync (a conflict in the attention list): pointed there, not an alarm.
    stuck = only_variance(reconcile.run(platform.conn))
    assert (stuck.reason, stuck.alarm) == (Reason.NOT_SYNCED, False)
    OutboxEntry.objects.filter(source_key=ref.source_key).update(status=EntryStatus.PENDING, overwrite_remote=True)
    drain()  # staff chose "Send ours anyway"
    last = reconcile.run(platform.conn)
    variance.refresh_from_db()
    assert (last.variances, variance.status, last.open_alarms) == (0, VarianceStatus.RESOLVED, 0)
    assert variance.resolved_at is not None


def test_duplicate_on_the_platform(connection, sandbox, make_invoice):
    _, ref = synced(make_invoice)
    original = sandbox.store.get("Invoice", ref.remote_id)
    copy = sandbox.store.write("Invoice", {"CustomerRef": original["CustomerRef"], "DocNumber": original["DocNumber"],
                                           "Line": [line for line in original["Line"]
                                                    if line.get("DetailType") == "SalesItemLineDetail"]},
                              include=["allowduplicatedocnum"])  # a bookkeeper keys the invoice in again
    run = reconcile.run(connection)
    variance = only_variance(run)
    assert (variance.reason, variance.remote_id, variance.local_value) == \
        (Reason.DUPLICATE, copy["Id"], ref.remote_id)
    sandbox.store.delete_invoice_as_user(copy["Id"])
    reconcile.run(connection)
    variance.refresh_from_db()
    assert variance.status == VarianceStatus.RESOLVED


def test_incremental_run_reads_what_the_change_feed_reports(platform, make_invoice):
    _, first = synced(make_invoice)
    _, second = synced(make_invoice)
    earlier = reconcile.run(platform.conn, RunKind.INCREMENTAL)
    assert (earlier.checked, earlier.variances) == (2, 0)
    platform.edit(second)
    run = reconcile.run(platform.conn, RunKind.INCREMENTAL)
    assert run.since == earlier.cursor - engine.OVERLAP and run.cursor > earlier.cursor
    variance = only_variance(run)
    assert (variance.source_key, variance.reason) == (second.source_key, Reason.EDITED_REMOTELY)


def test_incremental_run_compares_only_changed_documents(platform, make_invoice, monkeypatch):
    _, first = synced(make_invoice)
    _, second = synced(make_invoice)
    ExternalReference.objects.update(synced_at=timezone.now() - dt.timedelta(days=2))  # sent long ago
    connector = type(platform.conn.connector())
    monkeypatch.setattr(connector, "changes_since", lambda self, entities, since: (
        [RemoteChange("invoice", second.remote_id)] if "invoice" in entities else [], timezone.now()))
    platform.edit(first)  # not announced by the feed: the next full run finds it
    platform.edit(second)
    run = reconcile.run(platform.conn, RunKind.INCREMENTAL)
    assert (run.checked, only_variance(run).source_key) == (1, second.source_key)
    assert reconcile.run(platform.conn).variances == 2


def test_incremental_run_leaves_what_was_sent_after_its_cursor_to_the_next_run(platform, make_invoice, monkeypatch):
    _, before = synced(make_invoice)
    _, after = synced(make_invoice)
    cursor = timezone.now()
    ExternalReference.objects.filter(pk=before.pk).update(synced_at=cursor - dt.timedelta(seconds=30))
    # Sent while the run was going (a backlog draining beside it): not chased by this run.
    ExternalReference.objects.filter(pk=after.pk).update(synced_at=cursor + dt.timedelta(seconds=30))
    connector = type(platform.conn.connector())
    monkeypatch.setattr(connector, "changes_since", lambda self, entities, since: ([], cursor))
    run = reconcile.run(platform.conn, RunKind.INCREMENTAL)
    assert (run.checked, run.cursor) == (1, cursor)
    monkeypatch.setattr(connector, "changes_since", lambda self, entities, since: ([], timezone.now()
                                                                                   + dt.timedelta(minutes=1)))
    platform.edit(after)
    following = reconcile.run(platform.conn, RunKind.INCREMENTAL)  # starts from the cursor: finds it
    assert following.since == cursor - engine.OVERLAP
    assert only_variance(following).source_key == after.source_key


def test_the_scheduled_run_waits_while_a_backlog_drains_but_not_for_ever(connection, make_invoice, settings):
    """Reading back what was just sent would take a share of the platform's request budget the backlog needs."""
    from accounting_sync.core import outbox
    from accounting_sync.reconcile.tasks import reconcile_due

    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "RECONCILE_DEFER_BACKLOG": 3,
                                "RECONCILE_DEFER_MAX_MINUTES": 60}
    for _ in range(3):
        make_invoice()
    outbox.absorb()  # three invoices (and their customers) due: more than three entries
    assert reconcile_due() == 0  # the platform's budget goes to sending them first, from the very first run on
    connection.__class__.objects.filter(pk=connection.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    assert reconcile_due() == 1  # not for ever
    ReconciliationRun.objects.update(started_at=timezone.now() - dt.timedelta(minutes=10))
    assert reconcile_due() == 0
    ReconciliationRun.objects.update(started_at=timezone.now() - dt.timedelta(minutes=61))
    assert reconcile_due() == 1  # but a run waits an hour at most
    ReconciliationRun.objects.update(started_at=timezone.now() - dt.timedelta(minutes=10))
    drain()  # sent: nothing to wait for
    assert reconcile_due() == 1


def test_reads_are_bulk_one_query_per_chunk(connection, sandbox, make_invoice, org):
    for _ in range(7):
        make_invoice()
    drain()

    def queries(run_it):
        before = len(sandbox.requests_log)
        run = run_it()
        assert (run.status, run.checked, run.variances) == (RunStatus.DONE, 7, 0), run.error
        return len([r for r in sandbox.requests_log[before:] if "/query" in r[1]])

    # A run of the whole connection lists the platform (one page per entity it reconciles, for duplicates: the
    # three sales documents, refunds, expenses, journals, bills and bill payments) and compares what the list
    # says: nothing is read again by id.
    assert queries(lambda: reconcile.run(connection)) == 8
    # Limited to an organization it lists nothing: one Id IN (...) read for the seven invoices.
    assert queries(lambda: reconcile.run(connection, organization_id=org.pk)) == 1


def test_a_document_the_list_does_not_show_is_read_by_id(connection, sandbox, make_invoice, monkeypatch):
    _, kept = synced(make_invoice)
    _, gone = synced(make_invoice)
    sandbox.store.delete_invoice_as_user(gone.remote_id)
    read = []
    connector = type(connection.connector())
    original = connector.read_documents
    monkeypatch.setattr(connector, "read_documents", lambda self, entity, ids: read.append(list(ids)) or
                        original(self, entity, ids))
    variance = only_variance(reconcile.run(connection))
    assert (variance.source_key, variance.reason) == (gone.source_key, Reason.DELETED_REMOTELY)
    assert read == [[gone.remote_id]]  # the listed one was compared from the list


@pytest.mark.django_db(transaction=True)
def test_full_run_reads_the_platform_ahead_when_nothing_is_uncommitted(connection, sandbox, make_invoice,
                                                                       monkeypatch):
    """Outside a transaction the next page of the platform's list is read in a thread while this one is compared."""
    monkeypatch.setattr(engine, "CHUNK", 2)
    refs = [synced(make_invoice)[1] for _ in range(5)]
    sandbox.store.edit_invoice_line_as_user(refs[3].remote_id, 0, qty=3)
    sandbox.store.delete_invoice_as_user(refs[4].remote_id)
    threads = []
    real = engine.read_ahead

    def spy(pages):
        from django.db import transaction

        threads.append(not transaction.get_connection().in_atomic_block)
        return real(pages)

    monkeypatch.setattr(engine, "read_ahead", spy)
    run = reconcile.run(connection)
    assert run.status == RunStatus.DONE and run.checked == 5 and threads and all(threads)
    assert sorted((v.source_key, v.reason) for v in Variance.objects.filter(last_run=run)) == sorted(
        [(refs[3].source_key, Reason.EDITED_REMOTELY), (refs[4].source_key, Reason.DELETED_REMOTELY)])


@pytest.mark.parametrize("entity", ["invoice", "payment"])
def test_default_read_hook_agrees_with_the_bulk_reads(platform, make_invoice, org, entity):
    """The per-document default every platform inherits gives what the bulk override gives."""
    invoice, ref = synced(make_invoice)
    payment = f.PaymentFactory(organization=org, customer=invoice.customer, amount=Decimal("30.00"))
    PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("30.00"))
    drain()
    ids = list(ExternalReference.objects.filter(entity=entity).values_list("remote_id", flat=True))
    connector = platform.conn.connector()
    [bulk], [single] = connector.read_documents(entity, ids), BaseConnector.read_documents(connector, entity, ids)
    fields = ("remote_id", "entity", "status", "total", "balance", "home_total")
    assert [str(getattr(single, name)).lower() for name in fields] == \
        [str(getattr(bulk, name)).lower() for name in fields]
    [gone] = BaseConnector.read_documents(connector, entity, ["4040"] if platform.conn.platform == "qbo" else
                                          ["00000000-0000-0000-0000-000000000000"])
    assert gone.status == "deleted"


def test_command_exit_status_and_json(platform, make_invoice):
    _, ref = synced(make_invoice)
    out = StringIO()
    call_command("accounting_sync_reconcile", connection=platform.conn.name, no_progress=True, stdout=out)
    assert "1 documents compared" in out.getvalue()
    platform.edit(ref)
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("accounting_sync_reconcile", connection=platform.conn.name, json=True, no_progress=True,
                     stdout=out)
    assert exit_.value.code == 1
    [found] = json.loads(out.getvalue())
    assert found["alarms"] == 1 and found["found"][0]["reason"] == Reason.EDITED_REMOTELY


def test_scheduled_runs_are_incremental_and_spaced(connection, make_invoice, settings):
    from accounting_sync.reconcile.tasks import reconcile_due

    synced(make_invoice)
    connected_long_ago(connection)
    assert reconcile_due() == 1
    assert reconcile_due() == 0  # the interval has not passed
    assert ReconciliationRun.objects.get().kind == RunKind.INCREMENTAL
    ReconciliationRun.objects.update(started_at=timezone.now() - dt.timedelta(days=91))
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "RECONCILE_INTERVAL_MINUTES": 0}
    assert reconcile_due() == 0 and not ReconciliationRun.objects.exists()  # old runs pruned


def test_two_passes_at_once_reconcile_a_connection_once(connection, make_invoice):
    """A pass over many companies outlasts the minute between passes: the next one walks the same due list, and
    each connection is reconciled by whichever claims it first."""
    from accounting_sync.reconcile.tasks import claim, due_connections, reconcile_due

    synced(make_invoice)
    connected_long_ago(connection)
    first_pass = due_connections()  # its list, made before the second pass starts
    assert first_pass == [connection]
    assert reconcile_due() == 1  # the second pass gets there first
    assert [claim(conn) for conn in first_pass] == [None]
    assert ReconciliationRun.objects.count() == 1


def test_companies_connected_at_once_are_reconciled_spread_over_the_interval():
    """A host moving 200 customer companies over in one minute: each company's runs fall at a moment of the interval
    fixed by the company, so a pass finds about a fifth of them due in each minute of a five-minute interval, not all
    of them every fifth minute, and each company is reconciled once per interval."""
    from accounting_sync.reconcile.tasks import is_due

    start = timezone.now()
    made = Connection.objects.filter(pk__in=[f.ConnectionFactory().pk for _ in range(200)])
    made.update(created_at=start)
    conns = list(made)
    last: dict[int, dt.datetime | None] = {c.pk: None for c in conns}
    runs_by_minute = []
    for minute in range(1, 16):  # a pass a minute, a quarter of an hour
        now = start + dt.timedelta(minutes=minute)
        due = [c for c in conns if is_due(c, last[c.pk], now, 5)]
        for conn in due:
            last[conn.pk] = now
        runs_by_minute.append(len(due))
    assert all(30 <= n <= 50 for n in runs_by_minute), runs_by_minute
    assert sum(runs_by_minute) == 600  # three runs each in three intervals


def test_a_run_late_in_its_interval_is_not_followed_by_another_at_once(connection):
    """A long pass ran the connection just before its next interval began: the next run waits half an interval at
    least, then the runs are back at the connection's moment."""
    from accounting_sync.reconcile.tasks import is_due, phase

    connected_long_ago(connection)
    interval, second = dt.timedelta(minutes=5), dt.timedelta(seconds=1)
    now = timezone.now()
    began = now - dt.timedelta(seconds=(now.timestamp() - phase(connection, 5)) % 300)  # its latest interval's start
    assert not is_due(connection, began - 2 * second, began - second, 5)
    assert is_due(connection, began - interval, began + second, 5)  # on time
    late = began - 5 * second
    assert not is_due(connection, late, began + 30 * second, 5)
    assert is_due(connection, late, began + interval / 2, 5)
    assert not is_due(connection, began + interval / 2, began + interval - second, 5)
    assert is_due(connection, began + interval / 2, began + interval + second, 5)  # back at its moment
    fresh = f.ConnectionFactory()  # made now: its first run comes within one interval, not at once
    assert not is_due(fresh, None, fresh.created_at, 5)
    assert is_due(fresh, None, fresh.created_at + interval + second, 5)


@pytest.mark.django_db(transaction=True)
def test_a_connection_another_pass_is_claiming_is_skipped_not_waited_for(connection):
    from accounting_sync.reconcile.tasks import claim

    needs_row_locks()
    connected_long_ago(connection)
    with held_elsewhere(type(connection).objects.filter(pk=connection.pk)):  # another pass is claiming it
        assert claim(connection) is None
    assert not ReconciliationRun.objects.exists()
    assert claim(connection).kind == RunKind.INCREMENTAL  # free again: claimed


def test_admin_report_and_exports(admin_client, connection, sandbox, make_invoice):
    _, ref = synced(make_invoice)
    reconcile.run(connection)
    sandbox.store.edit_invoice_line_as_user(ref.remote_id, 0, qty=3)
    run = reconcile.run(connection)
    page = admin_client.get("/admin/accounting_sync/reconciliationrun/report/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Edited on the platform" in html and "open variances after each run" in html and "100.00" in html
    csv = admin_client.get("/admin/accounting_sync/reconciliationrun/report/variances.csv").content.decode()
    assert "edited_remotely" in csv.splitlines()[1]
    totals = admin_client.get(f"/admin/accounting_sync/reconciliationrun/{run.pk}/totals.csv").content.decode()
    assert "100.00" in totals and "150.00" in totals
    for url in ("/admin/accounting_sync/reconciliationrun/", "/admin/accounting_sync/variance/",
                f"/admin/accounting_sync/reconciliationrun/{run.pk}/change/"):
        assert admin_client.get(url).status_code == 200, url


def test_exchange_rate_changed_on_the_platform(platform, org):
    customer = f.CustomerFactory(organization=org, currency="EUR")
    invoice = f.InvoiceFactory(organization=org, customer=customer, currency="EUR", exchange_rate=Decimal("1.1"))
    f.InvoiceLineFactory(invoice=invoice, quantity=Decimal("2"), unit_price=Decimal("250.00"))
    drain()
    ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert reconcile.run(platform.conn).variances == 0
    if isinstance(platform, QBO):
        platform.sandbox.store.edit_as_user("Invoice", ref.remote_id, {"ExchangeRate": "1.2"})
    else:
        platform.sandbox.store.edit_as_user("Invoices", ref.remote_id, {"CurrencyRate": "0.833333"})
    variance = only_variance(reconcile.run(platform.conn))
    assert (variance.reason, variance.field, variance.local_value, variance.remote_value) == \
        (Reason.EXCHANGE_RATE, "home_total", "550.00", "600.00")


def test_a_duplicate_leaves_the_originals_own_variance_open(connection, sandbox, make_invoice):
    _, ref = synced(make_invoice)
    sandbox.store.edit_invoice_line_as_user(ref.remote_id, 0, qty=3)
    original = sandbox.store.get("Invoice", ref.remote_id)
    sandbox.store.write("Invoice", {"CustomerRef": original["CustomerRef"], "DocNumber": original["DocNumber"],
                                    "Line": [line for line in original["Line"]
                                             if line.get("DetailType") == "SalesItemLineDetail"]},
                        include=["allowduplicatedocnum"])
    for _ in range(2):
        run = reconcile.run(connection)
        assert only_reasons(run) == [("invoice", Reason.DUPLICATE, "exists"), ("invoice", Reason.EDITED_REMOTELY,
                                                                               "total")]
    assert Variance.objects.filter(status=VarianceStatus.OPEN).count() == 2 == Variance.objects.count()


def test_credit_note_applied_to_an_invoice_agrees(platform, make_invoice, org):
    from django.db import transaction

    from ledger.models import CreditNote, CreditNoteAllocation, CreditNoteLine

    invoice = make_invoice(("service", "1", "200.00"))
    with transaction.atomic():
        credit = CreditNote.objects.create(organization=org, customer=invoice.customer, number="CN-9",
                                           issue_date=invoice.issue_date)
        CreditNoteLine.objects.create(credit_note=credit, kind="service", quantity=Decimal("1"),
                                      unit_price=Decimal("80.00"))
        CreditNoteAllocation.objects.create(credit_note=credit, invoice=invoice, amount=Decimal("50.00"))
    drain()
    run = reconcile.run(platform.conn)
    assert (run.checked, reasons_of(run)) == (2, [])


def reasons_of(run):
    assert run.status == RunStatus.DONE, run.error
    return list(Variance.objects.filter(last_run=run).values_list("entity", "reason", "field", "local_value",
                                                                  "remote_value"))


@pytest.mark.django_db(transaction=True)
def test_read_ahead_hands_over_pages_in_order_then_the_readers_error():
    from accounting_sync.reconcile.readahead import read_ahead
    from connectors.errors import RetryableError

    readers = []

    def pages():
        import threading

        readers.append(threading.current_thread().name)
        yield from ([1], [2], [3])
        raise RetryableError("the platform went away")

    got = []
    with pytest.raises(RetryableError, match="went away"):
        for page in read_ahead(pages):
            got.append(page)
    assert got == [[1], [2], [3]] and readers == ["reconcile-read-ahead"]
    stopped = read_ahead(lambda: iter([[n] for n in range(100)]))
    assert next(stopped) == [0]
    stopped.close()  # the run stops early: the reader stops too (close waits for it)


def test_a_document_never_queued_is_not_synced_yet_and_an_alarm(platform, make_invoice, settings):
    """Saved while syncing was off: no outbox entry, no reference. A full run finds it, counts it in the local
    period totals only, says how to queue it; once sent, the next run resolves the variance."""
    synced(make_invoice)
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "ENABLED": False}
    missed = make_invoice(("service", "1", "40.00"))
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "ENABLED": True}
    assert not OutboxEntry.objects.filter(source_key=f"ledger.invoice:{missed.pk}").exists()
    run = reconcile.run(platform.conn)
    variance = only_variance(run)
    assert (variance.source_key, variance.reason, variance.field, variance.alarm, variance.remote_id) == \
        (f"ledger.invoice:{missed.pk}", Reason.NOT_SYNCED, "exists", True, "")
    assert "never queued" in variance.message and "accounting_sync_resync" in variance.action
    assert (run.checked, run.alarms) == (1, 1)
    month = run.totals.get(period="month", entity="invoice")  # both dated today
    assert (month.local_count, month.remote_count) == (2, 1)
    assert month.local_total - month.remote_total == Decimal("40.00")
    call_command("accounting_sync_resync", "--connection", platform.conn.name, stdout=StringIO())
    drain()
    again = reconcile.run(platform.conn)
    assert (again.checked, again.variances) == (2, 0)
    variance.refresh_from_db()
    assert variance.status == VarianceStatus.RESOLVED


def test_a_document_whose_only_attempt_needs_attention_is_no_alarm(connection, make_invoice):
    invoice = make_invoice()
    drain()
    key = f"ledger.invoice:{invoice.pk}"
    ExternalReference.objects.filter(source_key=key).delete()  # as if its create was refused
    OutboxEntry.objects.filter(source_key=key).update(status=EntryStatus.NEEDS_ATTENTION)
    variance = only_variance(reconcile.run(connection))
    assert (variance.reason, variance.alarm) == (Reason.NOT_SYNCED, False)
    assert "needs attention" in variance.message


def test_drafts_voids_documents_before_the_start_date_and_deleted_ones_are_not_unsynced(connection, make_invoice,
                                                                                      settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "ENABLED": False}
    make_invoice(status="draft")
    make_invoice(status="void")
    early = make_invoice(issue_date=dt.date(2020, 1, 5))
    gone = make_invoice()
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "ENABLED": True}
    connection.start_date = dt.date(2021, 1, 1)
    connection.save()
    [variance] = Variance.objects.filter(last_run=reconcile.run(connection))
    assert variance.source_key == f"ledger.invoice:{gone.pk}" and early.pk
    gone.delete()
    reconcile.run(connection)
    variance.refresh_from_db()
    assert variance.status == VarianceStatus.RESOLVED  # deleted here: nothing is missing any more


def test_a_connection_that_only_takes_documents_in_finds_none_of_ours_unsynced(connection, make_invoice, settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "ENABLED": False}
    make_invoice()
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "ENABLED": True}
    connection.direction = "pull"
    connection.save()
    run = reconcile.run(connection)
    assert (run.status, run.variances) == (RunStatus.DONE, 0)

"""When to send: trigger rules per connection and entity (issue: on save, on a status, after payment, in batch
windows, by hand), drafts held, coalescing, withdrawal, and the reason staff see while a document waits."""
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounting_sync.core import triggers
from accounting_sync.models import EntryStatus, OutboxEntry, Outcome, SyncLog, TriggerKind
from ledger import models as L
from tests import factories as f
from tests.conftest import drain, entry_of, remote_invoices

pytestmark = pytest.mark.django_db


def rule(connection, **kwargs):
    return f.TriggerRuleFactory(connection=connection, **kwargs)


def test_a_draft_saved_five_times_then_finalised_reaches_the_platform_once(connection, make_invoice, sandbox):
    invoice = make_invoice(("service", "1", "100.00"), status="draft")
    for n in range(5):
        L.InvoiceLine.objects.filter(invoice=invoice).update(unit_price=Decimal(100 + n))
        invoice.memo = f"draft {n}"
        invoice.save()
        drain()
    entry = entry_of(invoice)
    assert remote_invoices(sandbox) == [] and entry.status == EntryStatus.WAITING
    assert "draft" in entry.hint and entry.error_code == "held"
    assert SyncLog.objects.filter(entry=entry, outcome=Outcome.HELD).count() == 1  # a wait is logged once

    invoice.status = "issued"
    invoice.save()
    drain()
    [remote] = remote_invoices(sandbox)
    assert Decimal(str(remote["TotalAmt"])) == Decimal("104.00") and entry_of(invoice).status == EntryStatus.DONE
    assert SyncLog.objects.filter(entry=entry, operation="create").count() == 1


def test_without_rules_a_document_goes_out_on_save(connection, make_invoice, sandbox):
    make_invoice()
    drain()
    assert len(remote_invoices(sandbox)) == 1


def test_daily_window_sends_in_the_window_not_before_and_coalesces(connection, make_invoice, sandbox, clock):
    opens_in = dt.timedelta(hours=2)
    at = (timezone.now() + opens_in).astimezone(dt.UTC).replace(second=0, microsecond=0)
    rule(connection, kind=TriggerKind.BATCH, daily_at=at.time(), time_zone="UTC")
    invoice = make_invoice(("service", "1", "50.00"))
    drain()
    entry = entry_of(invoice)
    assert remote_invoices(sandbox) == [] and entry.status == EntryStatus.PENDING
    assert entry.hold_until == at and f"{at:%H:%M} batch" in entry.hint

    clock.advance(3600)  # an hour later, still before the window: edited twice
    for price in ("60.00", "70.00"):
        L.InvoiceLine.objects.filter(invoice=invoice).update(unit_price=Decimal(price))
        invoice.save()
        drain()
    assert remote_invoices(sandbox) == [] and entry_of(invoice).hold_until == at

    clock.advance(3600 + 60)  # the window is open
    drain()
    [remote] = remote_invoices(sandbox)
    assert Decimal(str(remote["TotalAmt"])) == Decimal("70.00")  # once, with its latest content
    assert entry_of(invoice).status == EntryStatus.DONE and entry_of(invoice).hold_until is None


def test_an_invoice_cancelled_before_its_window_is_never_sent(connection, make_invoice, sandbox, clock):
    rule(connection, kind=TriggerKind.BATCH, every_minutes=60)
    invoice = make_invoice()
    drain()
    invoice.status = "void"
    invoice.save()
    clock.advance(2 * 3600)
    drain()
    assert remote_invoices(sandbox) == [] and entry_of(invoice).status == EntryStatus.DONE


def test_after_payment_the_invoice_goes_out_with_its_payment(connection, org, make_invoice, sandbox):
    rule(connection, kind=TriggerKind.AFTER_PAYMENT)
    invoice = make_invoice(("service", "1", "120.00"))
    drain()
    assert remote_invoices(sandbox) == [] and entry_of(invoice).hint == "waiting for full payment"
    with transaction.atomic():
        payment = f.PaymentFactory(organization=org, customer=invoice.customer, amount=Decimal("120.00"))
        L.PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("120.00"))
    drain()
    [remote] = remote_invoices(sandbox)
    assert Decimal(str(remote["Balance"])) == Decimal("0")
    assert entry_of(invoice).status == entry_of(payment).status == EntryStatus.DONE


def test_after_a_part_payment_when_the_rule_allows_it(connection, org, make_invoice, sandbox):
    rule(connection, kind=TriggerKind.AFTER_PAYMENT, partly_paid=True)
    invoice = make_invoice(("service", "1", "120.00"))
    drain()
    assert entry_of(invoice).hint == "waiting for a payment"
    with transaction.atomic():
        payment = f.PaymentFactory(organization=org, customer=invoice.customer, amount=Decimal("20.00"))
        L.PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("20.00"))
    drain()
    [remote] = remote_invoices(sandbox)
    assert Decimal(str(remote["Balance"])) == Decimal("100.00")


def test_a_manual_only_connection_sends_nothing_until_pushed(connection, make_invoice, sandbox):
    rule(connection, kind=TriggerKind.MANUAL)
    invoice = make_invoice()
    drain()
    assert remote_invoices(sandbox) == [] and sandbox.store.entities("Customer") == []
    assert entry_of(invoice).status == EntryStatus.WAITING and "by hand" in entry_of(invoice).hint
    out = io.StringIO()
    call_command("accounting_sync_push", "--connection", connection.name, "--entity", "invoice", "--now", stdout=out)
    assert len(remote_invoices(sandbox)) == 1 and entry_of(invoice).status == EntryStatus.DONE, out.getvalue()
    assert not entry_of(invoice).send_now  # the push was for that one send
    invoice.memo = "changed"
    invoice.save()
    drain()
    assert entry_of(invoice).status == EntryStatus.WAITING  # its next change waits for staff again


def test_send_now_admin_action_pushes_a_held_entry(admin_client, connection, make_invoice, sandbox):
    rule(connection, kind=TriggerKind.MANUAL)
    invoice = make_invoice()
    drain()
    entry = entry_of(invoice)
    page = admin_client.get("/admin/accounting_sync/outboxentry/")
    assert "waiting for staff to send it" in page.content.decode()
    admin_client.post("/admin/accounting_sync/outboxentry/", {"action": "send_now", "_selected_action": [entry.pk]})
    drain()
    assert len(remote_invoices(sandbox)) == 1


def test_on_status_for_a_host_model_sends_when_the_job_is_completed(connection, org, sandbox):
    from tests.hostapp.models import Client, Job, JobInvoice

    rule(connection, kind=TriggerKind.ON_STATUS)  # blank status: the adapter's final one (completed)
    with transaction.atomic():
        client = Client.objects.create(organization=org, full_name="Dana Repairs Ltd")
        job = Job.objects.create(client=client, description="Replace compressor")
        invoice = JobInvoice.objects.create(job=job, reference="JOB-90", issued_on=dt.date.today(),
                                            labour_hours=Decimal("2"), hourly_rate=Decimal("80.00"))
    drain()
    entry = OutboxEntry.objects.get(source_key=f"tests_hostapp.jobinvoice:{invoice.pk}")
    assert remote_invoices(sandbox) == [] and entry.hint == "waiting for status Completed"
    job.status = "in_repair"
    job.save()
    drain()
    assert remote_invoices(sandbox) == []
    job.status = "completed"
    job.save()  # the job's change re-queues its invoice
    drain()
    [remote] = remote_invoices(sandbox)
    assert remote["DocNumber"] == "JOB-90" and Decimal(str(remote["TotalAmt"])) == Decimal("160.00")


def test_on_status_for_the_ledger_uses_its_own_statuses(connection, make_invoice, sandbox):
    rule(connection, kind=TriggerKind.ON_STATUS, status="issued")
    make_invoice()
    drain()
    assert len(remote_invoices(sandbox)) == 1


@pytest.mark.parametrize("kwargs, problem", [
    ({"kind": TriggerKind.BATCH}, "every N minutes or a daily time"),
    ({"kind": TriggerKind.BATCH, "every_minutes": 30, "daily_at": dt.time(18)}, "not both"),
    ({"kind": TriggerKind.AFTER_PAYMENT, "entity": "payment"}, "Only invoices are paid"),
    ({"kind": TriggerKind.BATCH, "every_minutes": 30, "time_zone": "Mars/Olympus"}, "Unknown time zone"),
])
def test_a_rule_that_cannot_work_is_refused_with_a_reason(connection, kwargs, problem):
    with pytest.raises(ValidationError, match=problem):
        f.TriggerRuleFactory.build(connection=connection, **kwargs).full_clean()


def test_windows_follow_the_rules_time_zone():
    from accounting_sync.models import TriggerRule

    now = dt.datetime(2026, 7, 1, 16, 30, tzinfo=dt.UTC)  # 17:30 in London (summer time)
    daily = TriggerRule(kind=TriggerKind.BATCH, daily_at=dt.time(18, 0), time_zone="Europe/London")
    assert triggers.next_window(daily, now) == dt.datetime(2026, 7, 1, 17, 0, tzinfo=dt.UTC)
    late = dt.datetime(2026, 7, 1, 17, 0, tzinfo=dt.UTC)  # exactly 18:00 there: the next day's
    assert triggers.next_window(daily, late) == dt.datetime(2026, 7, 2, 17, 0, tzinfo=dt.UTC)
    hourly = TriggerRule(kind=TriggerKind.BATCH, every_minutes=60, time_zone="UTC")
    assert triggers.next_window(hourly, now) == dt.datetime(2026, 7, 1, 17, 0, tzinfo=dt.UTC)
    quarter = TriggerRule(kind=TriggerKind.BATCH, every_minutes=15, time_zone="Asia/Kolkata")  # +05:30
    assert triggers.next_window(quarter, now) == dt.datetime(2026, 7, 1, 16, 45, tzinfo=dt.UTC)


def test_trigger_rules_through_the_api(admin_client, client, connection, django_user_model):
    url = f"/accounting-sync/api/connections/{connection.pk}/triggers/"
    rules = [{"entity": "invoice", "kind": "batch", "daily_at": "18:00", "time_zone": "Europe/London"},
             {"entity": "payment", "kind": "manual"}]
    saved = admin_client.put(url, rules, content_type="application/json")
    assert saved.status_code == 200, saved.content
    assert [(r["entity"], r["kind"], r["daily_at"]) for r in saved.json()["rules"]] == [
        ("invoice", "batch", "18:00:00"), ("payment", "manual", None)]
    bad = admin_client.put(url, [{"entity": "invoice", "kind": "batch"}], content_type="application/json")
    assert bad.status_code == 400 and "daily time" in bad.content.decode()
    assert admin_client.get(url).json()["rules"][0]["time_zone"] == "Europe/London"  # the bad PUT changed nothing

    staff = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)  # no permissions
    client.force_login(staff)
    assert client.get(url).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_dashboard"))  # reads, may not change them
    client.force_login(django_user_model.objects.get(pk=staff.pk))
    assert client.get(url).status_code == 200
    assert client.put(url, [], content_type="application/json").status_code == 403


def test_status_says_what_is_held_and_what_the_next_batch_sends(connection, make_invoice, sandbox):
    rule(connection, kind=TriggerKind.BATCH, every_minutes=60)
    rule(connection, entity="credit_note", kind=TriggerKind.MANUAL)
    make_invoice()
    make_invoice()
    make_invoice(status="draft")
    drain()
    out = io.StringIO()
    call_command("accounting_sync_status", stdout=out)
    text = out.getvalue()
    assert "next batch: 2 documents at" in text
    assert "held: 1 document waiting until it is no longer a draft" in text


def test_drafts_go_as_drafts_where_the_platform_keeps_them_and_are_finalised_there(xsandbox, org, make_invoice,
                                                                                   make_xero_connection):
    conn = make_xero_connection(org, rate_limits=False)
    rule(conn, kind=TriggerKind.ON_SAVE, send_drafts=True)
    invoice = make_invoice(("service", "1", "80.00"), status="draft")
    drain()
    [remote] = xsandbox.store.entities("Invoices")
    assert remote["Status"] == "DRAFT" and entry_of(invoice).status == EntryStatus.DONE
    invoice.status = "issued"
    invoice.save()
    drain()
    [remote] = xsandbox.store.entities("Invoices")
    assert remote["Status"] == "AUTHORISED" and Decimal(str(remote["Total"])) == Decimal("80.00")


def test_send_drafts_on_a_platform_without_drafts_still_holds_them(connection, make_invoice, sandbox):
    rule(connection, kind=TriggerKind.ON_SAVE, send_drafts=True)
    invoice = make_invoice(status="draft")
    drain()
    assert remote_invoices(sandbox) == [] and "QuickBooks Online keeps no drafts" in entry_of(invoice).hint


def job_invoice(org, reference, hours="2"):
    from tests.hostapp.models import Client, Job, JobInvoice

    with transaction.atomic():
        client = Client.objects.create(organization=org, full_name=f"Client of {reference}")
        job = Job.objects.create(client=client, description="Service boiler")
        return JobInvoice.objects.create(job=job, reference=reference, issued_on=dt.date.today(),
                                         labour_hours=Decimal(hours), hourly_rate=Decimal("50.00"))


def test_host_app_invoice_after_payment_goes_out_with_its_payment(connection, org, sandbox):
    from tests.hostapp.models import JobPayment

    rule(connection, kind=TriggerKind.AFTER_PAYMENT)
    invoice = job_invoice(org, "JOB-P1")
    drain()
    assert remote_invoices(sandbox) == []
    with transaction.atomic():
        JobPayment.objects.create(invoice=invoice, reference="JP-9", paid_on=dt.date.today(), amount=Decimal("100"))
    drain()
    [remote] = remote_invoices(sandbox)
    assert remote["DocNumber"] == "JOB-P1" and Decimal(str(remote["Balance"])) == Decimal("0")


def test_host_app_invoice_in_an_hourly_window_and_by_hand(connection, org, sandbox, clock):
    rule(connection, kind=TriggerKind.BATCH, every_minutes=60)
    job_invoice(org, "JOB-W1")
    drain()
    assert remote_invoices(sandbox) == []
    clock.advance(3601)
    drain()
    assert [r["DocNumber"] for r in remote_invoices(sandbox)] == ["JOB-W1"]

    connection.trigger_rules.update(kind=TriggerKind.MANUAL, every_minutes=None)
    second = job_invoice(org, "JOB-M1")
    clock.advance(3601)
    drain()
    assert len(remote_invoices(sandbox)) == 1
    call_command("accounting_sync_push", "--entry", str(entry_of(second).pk), "--now", stdout=io.StringIO())
    assert sorted(r["DocNumber"] for r in remote_invoices(sandbox)) == ["JOB-M1", "JOB-W1"]


def test_after_payment_for_a_source_that_reports_no_payments_waits_and_says_why(connection, org, sandbox,
                                                                                monkeypatch):
    from tests.hostapp.adapters import JobInvoiceAdapter

    monkeypatch.setattr(JobInvoiceAdapter, "applied", lambda self, obj: None)
    rule(connection, kind=TriggerKind.AFTER_PAYMENT)
    invoice = job_invoice(org, "JOB-S1")
    drain()
    entry = OutboxEntry.objects.get(source_key=f"tests_hostapp.jobinvoice:{invoice.pk}")
    assert remote_invoices(sandbox) == [] and "does not report" in entry.hint


def test_a_change_held_by_its_trigger_rule_is_no_reconciliation_alarm(connection, make_invoice, sandbox):
    from accounting_sync import reconcile

    invoice = make_invoice(("service", "1", "100.00"))
    drain()
    rule(connection, kind=TriggerKind.MANUAL)
    L.InvoiceLine.objects.filter(invoice=invoice).update(unit_price=Decimal("150.00"))
    invoice.save()
    drain()
    assert entry_of(invoice).status == EntryStatus.WAITING
    from accounting_sync.reconcile.models import RunStatus, Variance

    run = reconcile.run(connection)
    assert run.status == RunStatus.DONE, run.error
    alarms = list(Variance.objects.filter(last_run=run, alarm=True).values_list("reason", "field"))
    assert alarms == []

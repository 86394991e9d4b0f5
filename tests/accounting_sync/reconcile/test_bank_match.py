"""Bank-feed payment matching: payments taken here against the deposits and bank transactions the platform holds,
end to end against the QuickBooks Online and Xero sandboxes, and the matching algorithm on its own."""
import datetime as dt
import json
import sys
from decimal import Decimal
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.contrib.admin.sites import site
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import RequestFactory
from django_q.models import Schedule

from accounting_sync.audit.models import AuditRecord
from accounting_sync.models import ExternalReference
from accounting_sync.reconcile import bank
from accounting_sync.reconcile.bank import LocalPayment, Tolerance, match
from accounting_sync.reconcile.models import BankBucket, BankDecision, BankMatch
from connectors import registry
from connectors.base import BankDeposit
from ledger.models import PaymentAllocation
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
D = Decimal


class QBO:
    """What a bookkeeper does in QuickBooks Online: deposits payments from Undeposited Funds, books fees."""

    def __init__(self, request, org):
        self.sandbox = request.getfixturevalue("sandbox")
        self.conn = request.getfixturevalue("make_connection")(org)

    def deposit(self, refs, fee=None, date=TODAY, memo=None):
        self.sandbox.act_as_user("make_deposit", payment_ids=[r.remote_id for r in refs], fee=fee, date=date,
                                 memo=memo)

    def bank_receipt(self, amount, date=TODAY, memo=None):
        """Money in the bank the platform does not tie to any payment."""
        self.sandbox.act_as_user("bank_deposit", amount=amount, date=date, memo=memo)


class Xero:
    """What a bookkeeper does in Xero: a RECEIVE bank transaction for a processor's settlement; payments marked
    reconciled against the bank statement."""

    def __init__(self, request, org):
        self.sandbox = request.getfixturevalue("xsandbox")
        self.conn = request.getfixturevalue("make_xero_connection")(org)

    def deposit(self, refs, fee=None, date=TODAY, memo=None):
        if len(refs) == 1 and fee is None:
            self.sandbox.act_as_user("reconcile_payments", payment_ids=[r.remote_id for r in refs])
            return
        total = sum((bank_amount(r) for r in refs), D(0)) - D(fee or 0)
        self.sandbox.act_as_user("settlement_deposit", amount=total, date=date, reference=memo or "Settlement")

    def bank_receipt(self, amount, date=TODAY, memo=None):
        self.sandbox.act_as_user("settlement_deposit", amount=amount, date=date, reference=memo or "")


def bank_amount(ref) -> Decimal:
    from ledger.models import Payment

    return Payment.objects.get(pk=ref.source_key.rpartition(":")[2]).amount



PLATFORMS = {"qbo": QBO, "xero": Xero}


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request, org):
    return PLATFORMS[request.param](request, org)


def paid(make_invoice, org, *amounts, date=TODAY, method="card"):
    """Payments of ``amounts`` on one invoice, synced; their references in order."""
    invoice = make_invoice(("service", "1", str(sum((D(a) for a in amounts), D(0)))))
    payments = []
    for amount in amounts:
        payment = f.PaymentFactory(organization=org, customer=invoice.customer, amount=D(amount), date=date,
                                   method=method)
        PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=D(amount))
        payments.append(payment)
    drain()
    return [ExternalReference.objects.get(source_key=f"ledger.payment:{p.pk}") for p in payments]


def rows(conn):
    return {r.bucket: r for r in BankMatch.objects.filter(connection=conn).exclude(deposit_id="")}


# -- end to end, on both platforms ------------------------------------------------------------------------------------

def number_of(ref) -> str:
    from ledger.models import Payment

    return Payment.objects.get(pk=ref.source_key.rpartition(":")[2]).number


def test_deposit_naming_the_payment_in_its_reference_is_matched(platform, make_invoice, org):
    [ref] = paid(make_invoice, org, "120.00", date=TODAY - dt.timedelta(days=2))
    platform.bank_receipt("120.00", memo=f"Deposit {number_of(ref)} card")
    outcome = bank.run(platform.conn)
    assert outcome.error == ""
    assert (outcome.matched, outcome.probable, outcome.unmatched_payments, outcome.unmatched_deposits) == (1, 0, 0, 0)
    [row] = BankMatch.objects.filter(connection=platform.conn)
    assert (row.bucket, row.payment_keys, row.deposit_amount) == (BankBucket.MATCHED, [ref.source_key], D("120.00"))
    assert "reference names" in row.reason and not outcome.open
    out = StringIO()
    call_command("accounting_sync_reconcile", "--bank", "--connection", platform.conn.name, stdout=out)  # exit 0
    assert "1 matched, 0 probable" in out.getvalue()


def test_bank_record_that_names_the_payment_is_matched(platform, make_invoice, org):
    """QBO: a deposit whose line links the payment; Xero: the payment reconciled against the bank statement."""
    [ref] = paid(make_invoice, org, "80.00", date=TODAY - dt.timedelta(days=1))
    platform.deposit([ref])
    outcome = bank.run(platform.conn)
    assert (outcome.matched, outcome.unmatched_payments, outcome.unmatched_deposits) == (1, 0, 0), outcome.matches
    [row] = BankMatch.objects.filter(connection=platform.conn)
    assert row.payment_ids == [ref.remote_id] and "lists these payments" in row.reason


def test_qbo_payment_received_straight_into_the_bank_is_a_bank_record(request, org, make_invoice):
    qbo = QBO(request, org)
    [ref] = paid(make_invoice, org, "45.00")
    payment = qbo.sandbox.store.get("Payment", ref.remote_id)
    qbo.sandbox.store.edit_as_user("Payment", ref.remote_id, {"DepositToAccountRef": {"value": "7"}})
    assert payment["DepositToAccountRef"]["value"] == "6"  # the mapping's Undeposited Funds, before the edit
    outcome = bank.run(qbo.conn)
    assert (outcome.matched, outcome.unmatched_payments) == (1, 0), outcome.matches
    assert BankMatch.objects.get(connection=qbo.conn).deposit_kind == "payment"


def test_amount_and_date_only_is_probable(platform, make_invoice, org):
    [ref] = paid(make_invoice, org, "75.00", date=TODAY - dt.timedelta(days=1))
    platform.bank_receipt("75.00", memo="Transfer")
    outcome = bank.run(platform.conn)
    assert (outcome.matched, outcome.probable) == (0, 1), outcome.matches
    row = rows(platform.conn)[BankBucket.PROBABLE]
    assert row.payment_keys == [ref.source_key] and "reference does not name" in row.reason
    assert outcome.open


def test_settlement_batch_of_five_card_payments_less_fees_is_one_deposit(platform, make_invoice, org):
    refs = paid(make_invoice, org, "40.00", "25.50", "99.99", "10.00", "64.51", date=TODAY - dt.timedelta(days=3))
    fee = D("7.30")  # 2.9% + 0.30 of 240.00
    platform.deposit(refs, fee=fee, memo="Stripe payout")
    outcome = bank.run(platform.conn)
    assert outcome.unmatched_payments == 0 and outcome.unmatched_deposits == 0, outcome.matches
    [row] = BankMatch.objects.filter(connection=platform.conn)
    assert sorted(row.payment_keys) == sorted(r.source_key for r in refs)
    assert (row.deposit_amount, row.payments_total, row.fee) == (D("232.70"), D("240.00"), fee)
    # QBO's deposit lists its payments (matched); Xero's settlement does not: found by the batch search (probable)
    assert row.bucket == (BankBucket.MATCHED if isinstance(platform, QBO) else BankBucket.PROBABLE)


def test_deposit_of_a_different_amount_is_unmatched(platform, make_invoice, org):
    [ref] = paid(make_invoice, org, "50.00", date=TODAY - dt.timedelta(days=1))
    platform.bank_receipt("500.00", memo="Loan")
    outcome = bank.run(platform.conn)
    assert (outcome.matched, outcome.probable, outcome.unmatched_payments, outcome.unmatched_deposits) == (0, 0, 1, 1)
    payment_row = BankMatch.objects.get(connection=platform.conn, deposit_id="")
    assert payment_row.payment_keys == [ref.source_key] and payment_row.bucket == BankBucket.UNMATCHED
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("accounting_sync_reconcile", "--bank", "--connection", platform.conn.name, "--json", stdout=out)
    assert exit_.value.code == 1
    [found] = json.loads(out.getvalue())
    assert (found["bank_feed"], found["unmatched_payments"], found["unmatched_deposits"]) == (True, 1, 1)


def staff(*perms):
    user = User.objects.create_user(f"staff{User.objects.count()}", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    return User.objects.get(pk=user.pk)


def admin_action(user, action, queryset):
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = RequestFactory().post("/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    model_admin = site._registry[BankMatch]
    assert action in model_admin.get_actions(request), f"{action} not offered"
    model_admin.get_actions(request)[action][0](model_admin, request, queryset)


def test_staff_confirm_and_reject_probable_matches(platform, make_invoice, org):
    first, second = paid(make_invoice, org, "75.00", "33.00", date=TODAY - dt.timedelta(days=1))
    platform.bank_receipt("75.00")
    platform.bank_receipt("33.00")
    bank.run(platform.conn)
    probable = BankMatch.objects.filter(connection=platform.conn, bucket=BankBucket.PROBABLE)
    assert probable.count() == 2
    viewer = staff("view_bankmatch")
    request = RequestFactory().post("/")
    request.user = viewer
    assert "confirm_match" not in site._registry[BankMatch].get_actions(request)  # permission-checked
    user = staff("view_bankmatch", "run_reconciliation")
    audited = AuditRecord.objects.count()
    admin_action(user, "confirm_match", probable.filter(payment_keys=[first.source_key]))
    admin_action(user, "reject_match", probable.filter(payment_keys=[second.source_key]))
    assert AuditRecord.objects.count() == audited + 2
    ops = list(AuditRecord.objects.order_by("-pk").values_list("actor", "operation")[:2])
    assert ops == [(user.username, "admin change")] * 2
    kept = BankMatch.objects.get(connection=platform.conn, payment_keys=[first.source_key])
    assert (kept.bucket, kept.decision, kept.decided_by) == (BankBucket.MATCHED, BankDecision.CONFIRMED, user)
    outcome = bank.run(platform.conn)  # decisions last: confirmed kept, rejected never proposed again
    assert (outcome.confirmed, outcome.probable, outcome.unmatched_payments, outcome.unmatched_deposits) == \
        (1, 0, 1, 1)
    assert BankMatch.objects.get(pk=kept.pk).decision == BankDecision.CONFIRMED
    rejected = BankMatch.objects.get(connection=platform.conn, decision=BankDecision.REJECTED)
    assert rejected.rejected == [[second.source_key]] and rejected.bucket == BankBucket.UNMATCHED


def test_a_platform_without_a_bank_feed_says_so(org):
    others = [c for c in registry.connectors().values() if not c.capabilities.bank_feed]
    assert others and {"qbo", "xero"} <= {c.id for c in registry.connectors().values() if c.capabilities.bank_feed}
    conn = f.ConnectionFactory(platform=others[0].id, name="No feed")
    conn.organizations.add(org)
    outcome = bank.run(conn)
    assert outcome.no_feed and "has no bank feed" in outcome.error and not outcome.open
    assert not BankMatch.objects.filter(connection=conn).exists()
    out = StringIO()
    call_command("accounting_sync_reconcile", "--bank", "--connection", conn.name, stdout=out)  # exits 0
    assert "has no bank feed" in out.getvalue()
    with pytest.raises(NotImplementedError, match="has no bank feed"):
        next(iter(conn.connector().bank_deposits(TODAY, TODAY)))


# -- the algorithm ----------------------------------------------------------------------------------------------------

def pay(n, amount, days_ago=0, method="card", number=None):
    return LocalPayment(f"ledger.payment:{n}", str(n), number or f"PAY-{n}", TODAY - dt.timedelta(days=days_ago),
                        D(amount), "USD", method)


def dep(remote_id, amount, days_ago=0, reference="", payment_ids=()):
    return BankDeposit(remote_id, TODAY - dt.timedelta(days=days_ago), D(amount), "USD", reference,
                       payment_ids=tuple(payment_ids))


def buckets(found):
    return sorted((m.deposit.remote_id if m.deposit else "-", tuple(p.key[-2:].strip(":") for p in m.payments),
                   m.bucket) for m in found)


def test_deposit_listing_payments_is_matched_whatever_the_amount():
    found = match([pay(1, "10.00"), pay(2, "20.00")], [dep("D", "29.00", payment_ids=["1", "2"])])
    assert buckets(found) == [("D", ("1", "2"), "matched")]
    assert found[0].fee == D("1.00")


def test_date_window_and_reference():
    payments = [pay(1, "50.00", days_ago=3, number="PAY-A"), pay(2, "50.00", days_ago=3, number="PAY-B")]
    found = match(payments, [dep("D", "50.00", reference="payout PAY-B")])
    assert ("D", ("2",), "matched") in buckets(found)
    too_late = match([pay(1, "50.00", days_ago=6)], [dep("D", "50.00")])
    assert buckets(too_late) == [("-", ("1",), "unmatched"), ("D", (), "unmatched")]
    before_payment = match([pay(1, "50.00", days_ago=0)], [dep("D", "50.00", days_ago=1)])
    assert ("D", (), "unmatched") in buckets(before_payment)
    wider = match([pay(1, "50.00", days_ago=6)], [dep("D", "50.00")], Tolerance(window_days=7))
    assert buckets(wider) == [("D", ("1",), "probable")]


def test_two_candidates_without_reference_are_not_guessed():
    found = match([pay(1, "50.00", days_ago=1), pay(2, "50.00", days_ago=2)], [dep("D", "50.00")])
    assert ("D", (), "unmatched") in buckets(found)


def test_fee_tolerance():
    payments = [pay(1, "100.00", 1), pay(2, "100.00", 1)]
    assert buckets(match(payments, [dep("D", "192.50")]))[0][2] == "probable"  # 7.50 <= 3.5% of 200 + 0.50
    assert ("D", (), "unmatched") in buckets(match(payments, [dep("D", "192.40")]))  # 7.60 is too much
    assert ("D", (), "unmatched") in buckets(match(payments, [dep("D", "200.01")]))  # more than the payments
    assert ("D", (), "unmatched") in buckets(match([pay(1, "100.00", 1, method="cash"), pay(2, "100.00", 1,
                                                                                          method="cash")],
                                                   [dep("D", "195.00")]))  # only card payments settle in batches
    custom = Tolerance.of({"bank_match": {"fee_rate": "0.01", "fee_fixed": "0"}})
    assert ("D", (), "unmatched") in buckets(match(payments, [dep("D", "195.00")], custom))


def test_rejected_combination_is_not_proposed_again():
    payments = [pay(1, "70.00", 1)]
    assert buckets(match(payments, [dep("D", "70.00")], forbidden=[("D", frozenset({"ledger.payment:1"}))])) == \
        [("-", ("1",), "unmatched"), ("D", (), "unmatched")]


def counting_searches(run):
    """``run()``'s result and how many subset-search calls it made (counted, not timed: the bound is the step
    limit, whatever the machine's speed)."""
    calls = 0

    def profile(frame, event, arg):
        nonlocal calls
        if event == "call" and frame.f_code.co_name == "search" and frame.f_code.co_filename == bank.__file__:
            calls += 1

    sys.setprofile(profile)
    try:
        result = run()
    finally:
        sys.setprofile(None)
    assert calls, "the subset search did not run: the counter counts nothing"
    return result, calls


def test_batch_search_is_bounded_with_two_hundred_payments():
    payments = [pay(n, f"{10 + (n * 37) % 90}.{n % 100:02d}", days_ago=n % 5) for n in range(200)]
    target = [payments[3], payments[47], payments[101], payments[150], payments[199]]
    total = sum((p.amount for p in target), D(0))
    deposits = [dep("D", total - (total * D("0.029") + D("0.30")).quantize(D("0.01"))),
                dep("X", "99999.99"), dep("Y", "3.33")]  # nothing fits these (pruned at once)
    found, searched = counting_searches(lambda: match(payments, deposits))
    assert searched <= 3 * (Tolerance().max_steps + 1)  # one bounded search per deposit
    batch = next(m for m in found if m.deposit and m.deposit.remote_id == "D")
    assert batch.bucket == "probable" and len(batch.payments) >= 2
    assert D(0) <= batch.fee <= batch.payments_total * D("0.035") + D("0.50")
    assert len([m for m in found if m.deposit is None]) == 200 - len(batch.payments)


def test_a_deposit_nothing_fits_stops_at_the_step_limit():
    """200 card payments of 10.00 and a deposit of 395.00: no batch of at most 8 payments reaches it, and no sum
    prunes the search early, so an unbounded search would try the hundred million combinations of up to 8 of
    the 40 candidates. The step limit stops it."""
    payments = [pay(n, "10.00", days_ago=n % 5) for n in range(200)]
    found, searched = counting_searches(lambda: match(payments, [dep("D", "395.00")]))
    assert searched <= Tolerance().max_steps + 1
    assert ("D", (), "unmatched") in buckets(found)
    assert len([m for m in found if m.deposit is None]) == 200


def test_the_hourly_schedule_matches_every_connection_with_a_bank_feed(connection, monkeypatch):
    """The migration's schedule (run here by hand: a test that flushes the database removes migration data)."""
    Schedule.objects.filter(func="accounting_sync.reconcile.bank.match_all").delete()
    import_module("accounting_sync.migrations.0019_bank_matching_schedule").create_schedule(django_apps, None)
    assert Schedule.objects.filter(func="accounting_sync.reconcile.bank.match_all", schedule_type="H").exists()
    ran = []
    monkeypatch.setattr(bank, "run", lambda conn, **kwargs: ran.append(conn.pk))
    assert bank.match_all() == 1 and ran == [connection.pk]  # the QBO connection (QBO has a bank feed)

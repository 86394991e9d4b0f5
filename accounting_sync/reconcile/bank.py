"""Bank-feed payment matching: the payments taken here beside the money the platform's bank side says arrived.

The platform's connector reads its bank-side records (``BankDeposit``: deposits, payments received straight into
a bank account, bank transactions); our payments synced to the connection come from their references and source
adapters. ``match`` pairs them, platform-neutrally, in three passes:

1. a record that names the payments it holds (``payment_ids``) is **matched** to those of ours;
2. one payment to one record: the same amount, the record dated 0 to ``window_days`` after the payment, and its
   reference carrying the payment's number: **matched**; amount and date alone, with one candidate: **probable**;
3. a settlement batch: several card payments of the window deposited as one amount, less the processor's fee
   (``0 <= fee <= fee_rate * sum + fee_fixed``): **probable** (staff confirm it in the admin).

Whatever is left is **unmatched**, payments and records both. The search of pass 3 is bounded: candidates are the
``max_candidates`` payments nearest the record's date, batches have at most ``max_batch`` payments, runs of
consecutive payments are tried first, and the subset search stops after ``max_steps`` steps. It never grows
exponentially with the number of payments.

Staff decisions last: a confirmed match is kept as it is by later runs (its record and payments leave the pools),
and a rejected proposal is never proposed again.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from connectors.base import BankDeposit
from connectors.errors import SyncError
from connectors.models import Connection, ConnectionStatus

from ..core import sources
from ..core.batching import chunks
from ..models import ExternalReference, RemoteStatus
from .models import BankBucket, BankDecision, BankMatch

log = logging.getLogger(__name__)
CENT = Decimal("0.01")
CHUNK = 500


@dataclass(frozen=True)
class Tolerance:
    """How close is close enough; a connection's ``settings["bank_match"]`` overrides any of these."""

    window_days: int = 5  # a deposit is dated 0 to this many days after its payments
    fee_rate: Decimal = Decimal("0.035")  # a settlement's fee is at most this share of its payments ...
    fee_fixed: Decimal = Decimal("0.50")  # ... plus this
    max_batch: int = 8  # payments in one settlement batch
    max_candidates: int = 40  # payments looked at for one deposit
    max_steps: int = 20000  # subset-search steps for one deposit

    @classmethod
    def of(cls, settings: dict | None) -> Tolerance:
        given = (settings or {}).get("bank_match") or {}
        values = {}
        for name, kind in (("window_days", int), ("fee_rate", Decimal), ("fee_fixed", Decimal), ("max_batch", int),
                           ("max_candidates", int), ("max_steps", int)):
            if given.get(name) is not None:
                values[name] = kind(str(given[name]))
        return cls(**values)

    def fee_ok(self, total: Decimal, amount: Decimal) -> bool:
        fee = total - amount
        return Decimal(0) <= fee <= (self.fee_rate * total + self.fee_fixed).quantize(CENT)


@dataclass(frozen=True)
class LocalPayment:
    """A payment taken here and synced to the connection, in the terms matching needs."""

    key: str  # source key
    remote_id: str
    number: str
    date: dt.date
    amount: Decimal
    currency: str = ""
    method: str = "card"
    label: str = ""


@dataclass
class Match:
    deposit: BankDeposit | None
    payments: tuple[LocalPayment, ...]
    bucket: str
    reason: str
    fee: Decimal | None = None

    @property
    def payments_total(self) -> Decimal | None:
        return sum((p.amount for p in self.payments), Decimal(0)) if self.payments else None


@dataclass
class Outcome:
    """What one matching run found (``no_feed``: the platform has none, and nothing was matched)."""

    connection: Connection
    matched: int = 0
    probable: int = 0
    unmatched_payments: int = 0
    unmatched_deposits: int = 0
    confirmed: int = 0
    error: str = ""
    no_feed: bool = False
    matches: list[Match] = field(default_factory=list)

    @property
    def open(self) -> bool:
        """Something still needs a person: a probable match, or money on either side without its counterpart."""
        return bool(self.probable or self.unmatched_payments or self.unmatched_deposits)


# -- the algorithm (pure: no database, no platform) -----------------------------------------------------------------

def match(payments: Sequence[LocalPayment], deposits: Sequence[BankDeposit], tolerance: Tolerance = Tolerance(),
          forbidden: Iterable[tuple[str, frozenset[str]]] = ()) -> list[Match]:
    """Match ``payments`` to ``deposits``; every payment and every deposit appears in exactly one ``Match``.
    ``forbidden``: (deposit id, payment keys) pairs staff rejected, never proposed again."""
    banned = {(d, frozenset(keys)) for d, keys in forbidden}
    pool = {p.key: p for p in sorted(payments, key=lambda p: (p.date, p.key))}
    by_remote = {p.remote_id.lower(): p for p in pool.values() if p.remote_id}
    results: list[Match] = []
    waiting: list[BankDeposit] = []
    for deposit in sorted(deposits, key=lambda d: (d.date, d.remote_id)):
        if not deposit.payment_ids:
            waiting.append(deposit)
            continue
        ours = [by_remote[i.lower()] for i in deposit.payment_ids if i.lower() in by_remote
                and by_remote[i.lower()].key in pool]
        if not ours:
            results.append(Match(deposit, (), BankBucket.UNMATCHED, "Holds payments not synced from here"))
            continue
        for p in ours:
            pool.pop(p.key)
        total = sum((p.amount for p in ours), Decimal(0))
        missing = len(deposit.payment_ids) - len(ours)
        reason = "The platform lists these payments in it" + (f" (and {missing} not synced from here)"
                                                                if missing else "")
        results.append(Match(deposit, tuple(ours), BankBucket.MATCHED, reason, total - deposit.amount))
    later: list[BankDeposit] = []
    for deposit in waiting:
        found = _one_to_one(deposit, pool, tolerance, banned)
        if found is None:
            later.append(deposit)
            continue
        for p in found.payments:
            pool.pop(p.key)
        results.append(found)
    for deposit in later:
        batch = _batch(deposit, pool, tolerance, banned)
        if batch is None:
            results.append(Match(deposit, (), BankBucket.UNMATCHED, "No payment or batch of payments fits"))
            continue
        for p in batch:
            pool.pop(p.key)
        total = sum((p.amount for p in batch), Decimal(0))
        results.append(Match(deposit, batch, BankBucket.PROBABLE,
                             f"Settlement batch: {len(batch)} card payments less {total - deposit.amount} in fees",
                             total - deposit.amount))
    results += [Match(None, (p,), BankBucket.UNMATCHED, "No deposit found for it") for p in pool.values()]
    return results


def _in_window(payment: LocalPayment, deposit: BankDeposit, tolerance: Tolerance) -> bool:
    days = (deposit.date - payment.date).days
    same_currency = not (payment.currency and deposit.currency) or payment.currency == deposit.currency
    return 0 <= days <= tolerance.window_days and same_currency


def _one_to_one(deposit: BankDeposit, pool: dict[str, LocalPayment], tolerance: Tolerance,
                banned: set) -> Match | None:
    candidates = [p for p in pool.values() if p.amount == deposit.amount and _in_window(p, deposit, tolerance)
                  and (deposit.remote_id, frozenset({p.key})) not in banned]
    reference = deposit.reference.lower()
    named = [p for p in candidates if p.number and p.number.lower() in reference]
    if named:
        return Match(deposit, (named[0],), BankBucket.MATCHED, "Same amount, in the date window, reference names "
                                                               f"payment {named[0].number}", Decimal(0))
    if len(candidates) == 1:
        return Match(deposit, (candidates[0],), BankBucket.PROBABLE, "Same amount in the date window; the "
                                                                     "reference does not name the payment",
                     Decimal(0))
    return None


def _batch(deposit: BankDeposit, pool: dict[str, LocalPayment], tolerance: Tolerance,
           banned: set) -> tuple[LocalPayment, ...] | None:
    """Card payments whose sum less a fee within tolerance is the deposit: runs of consecutive payments first
    (a processor settles day by day), then a bounded subset search."""
    candidates = [p for p in pool.values() if p.method == "card" and _in_window(p, deposit, tolerance)]
    candidates.sort(key=lambda p: (deposit.date - p.date, p.key))
    candidates = sorted(candidates[:tolerance.max_candidates], key=lambda p: (p.date, p.key))
    amount = deposit.amount
    high = amount + (tolerance.fee_rate * amount + tolerance.fee_fixed) / (1 - tolerance.fee_rate) + CENT

    def fits(group: Sequence[LocalPayment]) -> bool:
        total = sum((p.amount for p in group), Decimal(0))
        return tolerance.fee_ok(total, amount) and (deposit.remote_id, frozenset(p.key for p in group)) not in banned

    for start in range(len(candidates)):
        total = Decimal(0)
        for end in range(start, min(len(candidates), start + tolerance.max_batch)):
            total += candidates[end].amount
            if total > high:
                break
            if end > start and fits(candidates[start:end + 1]):
                return tuple(candidates[start:end + 1])
    ordered = sorted(candidates, key=lambda p: -p.amount)
    steps = 0

    def search(index: int, chosen: list[LocalPayment], total: Decimal) -> tuple[LocalPayment, ...] | None:
        nonlocal steps
        if len(chosen) >= 2 and total >= amount and fits(chosen):
            return tuple(sorted(chosen, key=lambda p: (p.date, p.key)))
        if len(chosen) >= tolerance.max_batch:
            return None
        for i in range(index, len(ordered)):
            steps += 1
            if steps > tolerance.max_steps:
                return None
            if total + ordered[i].amount > high:
                continue
            found = search(i + 1, chosen + [ordered[i]], total + ordered[i].amount)
            if found:
                return found
        return None

    return search(0, [], Decimal(0))


# -- a run against one connection --------------------------------------------------------------------------------

def run(conn: Connection, since: dt.date | None = None, until: dt.date | None = None, days: int = 30) -> Outcome:
    """Match ``conn``'s payments dated ``since`` to ``until`` (the last ``days`` days by default) and store what
    was found. A platform without a bank feed is no error: the outcome says so."""
    outcome = Outcome(conn)
    connector = conn.connector()
    if not connector.capabilities.bank_feed:
        outcome.no_feed = True
        outcome.error = f"{conn.platform_name} has no bank feed: payments cannot be matched to deposits there"
        return outcome
    tolerance = Tolerance.of(conn.settings)
    until = until or timezone.localdate()
    since = since or until - dt.timedelta(days=days)
    decided = list(BankMatch.objects.filter(connection=conn).exclude(decision=""))
    confirmed = [m for m in decided if m.decision == BankDecision.CONFIRMED]
    taken_keys = {key for m in confirmed for key in m.payment_keys}
    taken_deposits = {m.deposit_id for m in confirmed if m.deposit_id}
    forbidden = [(m.deposit_id, frozenset(keys)) for m in decided for keys in m.rejected]
    payments = [p for p in local_payments(conn, since - dt.timedelta(days=tolerance.window_days), until)
                if p.key not in taken_keys]
    try:
        deposits = [d for d in connector.bank_deposits(since, until + dt.timedelta(days=tolerance.window_days))
                    if d.remote_id not in taken_deposits]
    except SyncError as exc:
        outcome.error = f"{conn.platform_name} could not be read: {exc.message}"
        return outcome
    outcome.matches = match(payments, deposits, tolerance, forbidden)
    outcome.confirmed = len(confirmed)
    for m in outcome.matches:
        if m.bucket == BankBucket.MATCHED:
            outcome.matched += 1
        elif m.bucket == BankBucket.PROBABLE:
            outcome.probable += 1
        elif m.deposit is None:
            outcome.unmatched_payments += 1
        else:
            outcome.unmatched_deposits += 1
    store(conn, outcome.matches)
    return outcome


def match_all() -> int:
    """Scheduled (hourly, the "accounting_sync bank matching" Schedule): match the last ``days`` of every active
    connection whose platform has a bank feed; returns how many connections ran. One connection's failure is
    logged and the others go on."""
    ran = 0
    for conn in Connection.objects.filter(status=ConnectionStatus.ACTIVE):
        if conn.is_paused() or not conn.connector_class().capabilities.bank_feed:
            continue
        try:
            run(conn)
        except Exception:  # a bug met on one connection must not keep the others waiting
            log.exception("bank matching of %s failed", conn)
            continue
        ran += 1
    return ran


def local_payments(conn: Connection, since: dt.date, until: dt.date) -> list[LocalPayment]:
    """Our payments synced to ``conn`` (still there), dated ``since`` to ``until``, as their adapters see them."""
    refs = (ExternalReference.objects.filter(connection=conn, entity="payment", remote_status=RemoteStatus.ACTIVE)
            .order_by("pk"))
    found = []
    for chunk in chunks(refs.iterator(chunk_size=CHUNK), CHUNK):
        by_label: dict[str, dict[str, ExternalReference]] = defaultdict(dict)
        for ref in chunk:
            label, _, pk = ref.source_key.rpartition(":")
            by_label[label][pk] = ref
        for label, refs_by_pk in by_label.items():
            try:
                adapter = sources.adapter_for_key(f"{label}:0")
            except LookupError:
                continue
            objects = adapter.model._default_manager.in_bulk(list(refs_by_pk))
            adapter.prefetch(list(objects.values()))  # what the snapshots read, in a few queries per chunk
            for pk, obj in objects.items():
                snap = adapter.snapshot(obj)
                if snap.is_void or snap.date is None or not since <= snap.date <= until:
                    continue
                ref = refs_by_pk[str(pk)]
                found.append(LocalPayment(ref.source_key, ref.remote_id, snap.number, snap.date, snap.amount,
                                          snap.currency, snap.method, adapter.label(obj)[:200]))
    return found


def ident(m: Match) -> str:
    return f"deposit:{m.deposit.remote_id}" if m.deposit else f"payment:{m.payments[0].key}"


@transaction.atomic
def store(conn: Connection, matches: list[Match]) -> None:
    """One row per deposit and per unmatched payment; undecided rows no longer found are dropped, decided ones
    (confirmed, rejected) kept."""
    now = timezone.now()
    existing = {row.ident: row for row in BankMatch.objects.select_for_update().filter(connection=conn)}
    seen = set()
    for m in matches:
        key = ident(m)
        seen.add(key)
        d = m.deposit
        values = dict(
            deposit_id=d.remote_id if d else "", deposit_date=d.date if d else None,
            deposit_amount=d.amount if d else None, currency=(d.currency if d else m.payments[0].currency)[:3],
            reference=(d.reference if d else "")[:200], deposit_kind=d.kind if d else "",
            payment_keys=[p.key for p in m.payments], payment_ids=[p.remote_id for p in m.payments],
            payment_labels=", ".join(p.label or p.number for p in m.payments)[:500],
            payments_total=m.payments_total, fee=m.fee, bucket=m.bucket, reason=m.reason[:300], last_seen_at=now)
        row = existing.get(key)
        if row is None:
            BankMatch.objects.create(connection=conn, ident=key, first_seen_at=now, **values)
            continue
        if row.decision == BankDecision.CONFIRMED:
            continue
        if row.decision == BankDecision.REJECTED and m.bucket != BankBucket.UNMATCHED:
            values["decision"] = ""  # a new proposal, to decide afresh (the rejected ones stay in ``rejected``)
        BankMatch.objects.filter(pk=row.pk).update(**values)
    stale = [row.pk for key, row in existing.items() if key not in seen and not row.decision]
    BankMatch.objects.filter(pk__in=stale).delete()


def confirm(row: BankMatch, user) -> None:
    BankMatch.objects.filter(pk=row.pk).update(decision=BankDecision.CONFIRMED, bucket=BankBucket.MATCHED,
                                               decided_by=user, decided_at=timezone.now())


def reject(row: BankMatch, user) -> None:
    rejected = [*row.rejected, sorted(row.payment_keys)]
    BankMatch.objects.filter(pk=row.pk).update(decision=BankDecision.REJECTED, bucket=BankBucket.UNMATCHED,
                                               rejected=rejected, decided_by=user, decided_at=timezone.now())

"""Pure comparison: one local document beside what the platform holds, as findings with a reason and an action.

No I/O here. The engine builds a ``LocalDocument`` from the source adapter and the external reference, the
connector's ``read_documents`` gives the ``DocumentTotals``, and the connector's ``rounding_tolerance`` says how
far apart two totals may be before rounding no longer explains it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from connectors.base import DocumentTotals

from .models import Reason

CLOSED = ("voided", "deleted")


@dataclass(frozen=True)
class LocalDocument:
    """A synced document as we hold it, in the terms of ``DocumentTotals``."""

    key: str
    entity: str
    organization_id: int | None
    label: str
    number: str
    status: str  # open | paid | voided | deleted
    currency: str
    total: Decimal
    tax_total: Decimal | None
    #: Total less every payment and credit we know (None: the adapter does not say).
    balance: Decimal | None
    #: Total less only those that reached the platform: what it should show while others are on their way.
    synced_balance: Decimal | None
    home_total: Decimal | None
    date: dt.date | None
    lines: int
    remote_id: str
    remote_version: str
    stuck: bool = False  # its outbox entry needs attention or failed: it did not reach the platform as it is
    committed_at: dt.datetime | None = None  # when this version was saved here (None: the source does not say)
    synced_at: dt.datetime | None = None  # when it reached the platform


@dataclass(frozen=True)
class Finding:
    field: str
    reason: str
    alarm: bool
    message: str
    action: str
    local_value: str = ""
    remote_value: str = ""
    difference: Decimal | None = None


RESEND = "Resync it (accounting_sync_resync --ids) to send this system's version over the platform's."
ACTIONS = {
    Reason.NOT_SYNCED: "Fix it in the attention list; once sent, the next run compares it again.",
    Reason.EDITED_REMOTELY: "Compare both versions. Change it here to match, or " + RESEND[0].lower() + RESEND[1:],
    Reason.ROUNDING: "Nothing to do: the platform rounds tax its own way and the difference is within its tolerance.",
    Reason.EXCHANGE_RATE: "Check the rate the platform booked; if ours is right, resync the document with its rate.",
    Reason.VOIDED_REMOTELY: "If the void was right, “Void locally” (attention list) voids it here too; otherwise "
                            "reverse the void on the platform.",
    Reason.DELETED_REMOTELY: "“Re-send” (attention list) creates it on the platform again; if the deletion was "
                             "right, void it here.",
    Reason.MISSING_HERE: "Pull platform changes (accounting_sync_pull) if the connection takes payments from the "
                         "platform; otherwise record the payment or credit here.",
    Reason.MISSING_THERE: "Resync the payment or credit note (accounting_sync_resync --entity payment), or look for "
                          "it in the attention list.",
    Reason.DUPLICATE: "Void or delete the duplicate on the platform; the original is linked to this document.",
    Reason.UNKNOWN: "Compare the document on both sides; " + RESEND[0].lower() + RESEND[1:],
}


def finding(field: str, reason: str, message: str, *, alarm: bool = True, local="", remote="",
            difference: Decimal | None = None) -> Finding:
    return Finding(field, reason, alarm, message, ACTIONS[reason], _text(local), _text(remote), difference)


def _text(value) -> str:
    return "" if value is None else str(value)


def compare(local: LocalDocument, remote: DocumentTotals, tolerance: Decimal, platform: str) -> list[Finding]:
    """What differs between ``local`` and ``remote``, each difference classified. Empty: the books agree."""
    found = _compare(local, remote, tolerance, platform)
    if found and local.stuck:  # the attention list already holds it: reconciliation only points there
        return [finding(found[0].field, Reason.NOT_SYNCED, f"{local.label} has not reached {platform} as it is "
                        "here: its last attempt needs attention", alarm=False, local=found[0].local_value,
                        remote=found[0].remote_value, difference=found[0].difference)]
    return found


def _compare(local: LocalDocument, remote: DocumentTotals, tolerance: Decimal, platform: str) -> list[Finding]:
    name = local.label or local.number or local.key
    if remote.status in CLOSED or local.status in CLOSED:
        return _closed(local, remote, name, platform)
    if remote.currency and local.currency and remote.currency != local.currency:
        return [finding("currency", Reason.EDITED_REMOTELY, f"{name} is in {local.currency} here and in "
                        f"{remote.currency} on {platform}", local=local.currency, remote=remote.currency)]
    edited = bool(remote.version and local.remote_version and remote.version != local.remote_version)
    found = []
    total = _amount("total", local.total, remote.total, tolerance, edited, name, platform)
    if total:
        return [total]
    tax = _amount("tax", local.tax_total, remote.tax_total, tolerance, edited, name, platform)
    if tax:
        found.append(tax)
    if local.home_total is not None and remote.home_total is not None and local.home_total != remote.home_total:
        difference = remote.home_total - local.home_total
        within = abs(difference) <= tolerance
        found.append(finding("home_total", Reason.ROUNDING if within else Reason.EXCHANGE_RATE,
                             f"{name}: home-currency total {local.home_total} here, {remote.home_total} on {platform}",
                             alarm=not within, local=local.home_total, remote=remote.home_total,
                             difference=difference))
    found += _balance(local, remote, name, platform)
    return found


def _closed(local: LocalDocument, remote: DocumentTotals, name: str, platform: str) -> list[Finding]:
    if remote.status in CLOSED and local.status in CLOSED:
        return []
    if remote.status == "deleted":
        return [finding("exists", Reason.DELETED_REMOTELY, f"{name} was deleted on {platform}; it is still valid here",
                        local=local.status, remote="deleted")]
    if remote.status == "voided":
        return [finding("status", Reason.VOIDED_REMOTELY, f"{name} was voided on {platform}; it is still valid here",
                        local=local.status, remote="voided")]
    return [finding("status", Reason.UNKNOWN, f"{name} is {local.status} here but {remote.status} on {platform}",
                    local=local.status, remote=remote.status)]


def _amount(field: str, ours: Decimal | None, theirs: Decimal | None, tolerance: Decimal, edited: bool, name: str,
            platform: str) -> Finding | None:
    if ours is None or theirs is None or ours == theirs:
        return None
    difference = theirs - ours
    message = f"{name}: {field} {ours} here, {theirs} on {platform}"
    if abs(difference) <= tolerance:
        return finding(field, Reason.ROUNDING, message, alarm=False, local=ours, remote=theirs, difference=difference)
    reason = Reason.EDITED_REMOTELY if edited else Reason.UNKNOWN
    return finding(field, reason, message + (" (changed there since we sent it)" if edited else ""), local=ours,
                   remote=theirs, difference=difference)


def _balance(local: LocalDocument, remote: DocumentTotals, name: str, platform: str) -> list[Finding]:
    if local.balance is None or remote.balance is None:
        if local.balance is None and remote.status != local.status and local.entity != "payment":
            missing = Reason.MISSING_HERE if remote.status == "paid" else Reason.MISSING_THERE
            return [finding("status", missing, f"{name} is {local.status} here but {remote.status} on {platform}",
                            local=local.status, remote=remote.status)]
        return []
    if remote.balance == local.balance or remote.balance == local.synced_balance:
        return []  # equal, or equal but for payments still on their way
    difference = remote.balance - local.balance
    if difference < 0:
        return [finding("balance", Reason.MISSING_HERE, f"{name}: {remote.balance} due on {platform}, {local.balance} "
                        "here: a payment or credit recorded there is missing here", local=local.balance,
                        remote=remote.balance, difference=difference)]
    return [finding("balance", Reason.MISSING_THERE, f"{name}: {remote.balance} due on {platform}, {local.balance} "
                    "here: a payment or credit recorded here is missing there", local=local.balance,
                    remote=remote.balance, difference=difference)]


#: What to do about a document that never entered the outbox (no entry: a save made while syncing was off, or
#: before the connection existed and after its start date).
QUEUE_IT = ("Queue it: accounting_sync_resync --connection <name> --ids <id> (or resync the connection); if it "
            "should not reach the platform, set the connection's start date or sync table accordingly.")


def unsynced(local: LocalDocument, platform: str, stuck: bool) -> Finding:
    """A document here that should be on the platform and has never reached it. ``stuck``: its outbox entry needs
    attention or failed (the attention list holds it: no alarm); otherwise it never entered the outbox."""
    name = local.label or local.number or local.key
    if stuck:
        return finding("exists", Reason.NOT_SYNCED, f"{name} has never reached {platform}: its last attempt needs "
                       "attention", alarm=False, local=local.total, remote="missing")
    return Finding("exists", Reason.NOT_SYNCED, True, f"{name} is here but was never queued for {platform}",
                   QUEUE_IT, _text(local.total), "missing")


def duplicate(local: LocalDocument | None, remote: DocumentTotals, original_id: str, platform: str) -> Finding:
    """A platform document that carries our number but is not the one we linked."""
    name = (local.label if local else "") or remote.number
    return finding("exists", Reason.DUPLICATE, f"{name} exists twice on {platform}: {original_id} is ours, "
                   f"{remote.remote_id} is a duplicate", local=original_id, remote=remote.remote_id)

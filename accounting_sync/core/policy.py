"""The one interface between the pipeline and the policies it applies.

The engine and bulk delivery call the functions below and nothing else of the policy packages. What they do is
installed at start-up (``AccountingSyncConfig.ready``) by the packages that implement it: ``policies`` (preflight,
the connection's financial rules, mapping drift) installs a ``Policy``; ``files`` adds its delivery mode (an export
file instead of an API call) and its check before a document found on the platform is adopted (one keyed in by
hand). Until something is installed the pipeline sends every document as it is.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from connectors.documents import Mapping, RemoteResult, Snapshot
from connectors.errors import SyncError


class Policy(Protocol):
    #: Why a document ``apply`` returned None for is not sent (the entry's sync log says it).
    not_sent: str

    def check(self, conn, doc: Snapshot) -> None:
        """Before anything is resolved: raise a ``PermanentError`` when the document cannot be sent at all."""

    def apply(self, conn, connector, doc: Snapshot) -> Snapshot | None:
        """The document as this connection sends it; None when the connection does not send it."""

    def check_platform(self, conn, connector, doc: Snapshot, mapping: Mapping) -> None:
        """With the mapping resolved: raise a ``ConfigurationError`` for what the platform would refuse."""

    def on_failure(self, entry, exc: SyncError) -> SyncError:
        """The error to record for a failed entry (``exc``, or a clearer one). Never raises."""


class SendAsIs:
    """The policy before one is installed: checks nothing, changes nothing."""

    not_sent = "not sent"

    def check(self, conn, doc: Snapshot) -> None:
        return None

    def apply(self, conn, connector, doc: Snapshot) -> Snapshot | None:
        return doc

    def check_platform(self, conn, connector, doc: Snapshot, mapping: Mapping) -> None:
        return None

    def on_failure(self, entry, exc: SyncError) -> SyncError:
        return exc


Stage = Callable[..., None]  # (conn, connector, entry, attempt, started): handles the entry without an API call
AdoptCheck = Callable[..., None]  # (connector, entry, snapshot, found): raises to refuse adopting ``found``

_policy: Policy = SendAsIs()
_deliveries: dict[str, Stage] = {}
_adopt_checks: list[AdoptCheck] = []


def install(policy: Policy) -> None:
    global _policy
    _policy = policy


def add_delivery(name: str, stage: Stage) -> None:
    """Entries of connectors whose ``delivery`` is ``name`` go to ``stage`` instead of the platform's API."""
    _deliveries[name] = stage


def add_adopt_check(check: AdoptCheck) -> None:
    if check not in _adopt_checks:
        _adopt_checks.append(check)


def current() -> Policy:
    return _policy


def delivery(name: str) -> Stage | None:
    return _deliveries.get(name)


def check(conn, doc: Snapshot) -> None:
    _policy.check(conn, doc)


def apply(conn, connector, doc: Snapshot) -> Snapshot | None:
    return _policy.apply(conn, connector, doc)


def check_platform(conn, connector, doc: Snapshot, mapping: Mapping) -> None:
    _policy.check_platform(conn, connector, doc, mapping)


def on_failure(entry, exc: SyncError) -> SyncError:
    return _policy.on_failure(entry, exc)


def check_adopt(connector, entry, snapshot: Snapshot, found: RemoteResult) -> None:
    """Before the pipeline adopts a document it found on the platform: every installed check may refuse."""
    for adopt_check in _adopt_checks:
        adopt_check(connector, entry, snapshot, found)

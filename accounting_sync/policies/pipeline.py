"""The policies as the pipeline sees them (``core.policy.Policy``), installed by ``AccountingSyncConfig.ready``."""
from __future__ import annotations

from connectors.documents import Mapping, Snapshot
from connectors.errors import SyncError

from . import hierarchy, preflight, refusals, rules


class ConnectionPolicy:
    """Preflight before and after mapping, the connection's financial rules, mapping drift on failure."""

    not_sent = hierarchy.NOT_SENT

    def check(self, conn, doc: Snapshot) -> None:
        preflight.check(conn, doc)

    def apply(self, conn, connector, doc: Snapshot) -> Snapshot | None:
        return rules.apply(conn, connector, doc)

    def check_platform(self, conn, connector, doc: Snapshot, mapping: Mapping) -> None:
        preflight.check_platform(conn, connector, doc, mapping)

    def on_failure(self, entry, exc: SyncError) -> SyncError:
        return refusals.on_failure(entry, exc)

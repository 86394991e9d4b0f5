"""Queue a connection's local objects for (re)sending, for ``accounting_sync_resync``, the demo and admin."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from connectors.documents import Entity
from connectors.models import Connection

from ..models import ExternalReference
from . import outbox, sources


@dataclass
class PlannedItem:
    key: str
    entity: str
    label: str
    organization_id: int
    action: str  # "create", "update or skip if unchanged", "void", ...


def plan(conn: Connection, entities: list[str] | None = None, since: dt.date | None = None,
         ids: set[str] | None = None):
    """What a resync would queue, in dependency order (customers, items, invoices, payments, credit notes)."""
    wanted = [e for e in Entity.EVERY if e in (entities or Entity.EVERY) and conn.syncs(e)]
    org_ids = set(conn.organizations.values_list("pk", flat=True))
    refs = dict(ExternalReference.objects.filter(connection=conn).values_list("source_key", "remote_status"))
    for adapter in sorted(sources.adapters().values(), key=lambda a: Entity.ORDER.get(a.entity, 99)):
        if adapter.entity not in wanted:
            continue
        for obj in sources.objects_for(adapter, org_ids):
            if ids and str(obj.pk) not in ids:
                continue
            date = adapter.document_date(obj)
            if date and ((since and date < since) or (conn.start_date and date < conn.start_date)):
                continue
            key = sources.key_for(obj)
            status = refs.get(key)
            action = "create" if status is None else ("update if changed" if status == "active" else f"({status})")
            yield PlannedItem(key, adapter.entity, adapter.label(obj), adapter.organization_id(obj), action)


def queue(conn: Connection, items, *, force: bool = False) -> list[int]:
    """Upsert an entry per planned item; ``force`` forgets content hashes so unchanged documents are re-sent."""
    ids = []
    for item in items:
        if force:
            ExternalReference.objects.filter(connection=conn, source_key=item.key).update(content_hash="")
        ids.append(outbox.upsert_entry(conn, item.key, item.entity, item.organization_id, item.label[:200]))
    return ids

"""The QBO ``/batch`` operation: up to 30 BatchItemRequest objects applied one by one against the store.

Each item is independent: it gets exactly the entity, ``QueryResponse`` or ``Fault`` its single-entity
endpoint would have given (the same store calls), and one failing item never affects its neighbours. Shapes
follow ``IntuitRestServiceDef.xsd`` (BatchItemRequest / BatchItemResponse) and Intuit's batch reference.
"""

from __future__ import annotations

from typing import Any

from .schema import ENTITIES
from .store import Store
from .wire import QBOFault, required, unsupported

#: QBO: "The maximum number of payloads in a single BatchItemRequest is 30."
MAX_BATCH_ITEMS = 30
#: Attributes of a BatchItemRequest; any other key names its payload (an entity, Query, CDCQuery, ReportQuery).
_ATTRIBUTES = ("bId", "operation", "optionsData")
_OPERATIONS = ("create", "update", "delete", "void")


def too_many_items(count: int) -> QBOFault:
    """The whole batch is refused. Code and wording are the sandbox's: no public sample of QBO's answer exists."""
    return QBOFault("1040", "Batch size exceeds allowed limit",
                    f"Batch size exceeds allowed limit: the request has {count} BatchItemRequest objects; "
                    f"at most {MAX_BATCH_ITEMS} are allowed.", "BatchItemRequest")


def invalid_item(detail: str, element: str = "") -> QBOFault:
    return QBOFault("2010", "Request has invalid or unsupported property", detail, element)


def run_batch(store: Store, body: Any) -> dict:
    """Apply every item (atomically, under the store lock) and return the ``BatchItemResponse`` envelope."""
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise required("BatchItemRequest")
    if len(items) > MAX_BATCH_ITEMS:
        raise too_many_items(len(items))
    with store.lock:
        responses = [_run_item(store, item) for item in items]
    return {"BatchItemResponse": responses, "time": store.now_iso(millis=True)}


def _run_item(store: Store, item: Any) -> dict:
    out: dict[str, Any] = {}
    if isinstance(item, dict) and item.get("bId") not in (None, ""):
        out["bId"] = str(item["bId"])
    try:
        out.update(_apply(store, item))
    except QBOFault as fault:
        out["Fault"] = fault.body("")["Fault"]  # item faults carry no "time" of their own
    return out


def _apply(store: Store, item: Any) -> dict:
    if not isinstance(item, dict):
        raise invalid_item("BatchItemRequest must be an object")
    if item.get("bId") in (None, ""):
        raise required("bId")
    payloads = [key for key in item if key not in _ATTRIBUTES]
    if len(payloads) != 1:
        raise invalid_item("A BatchItemRequest needs exactly one of an entity, Query or CDCQuery; got "
                           f"{', '.join(payloads) or 'none'}")
    key = payloads[0]
    if key in ("Query", "CDCQuery", "ReportQuery"):
        if item.get("operation") not in (None, ""):
            raise invalid_item(f"operation is not allowed with {key}", "operation")
        return _read(store, key, item[key])
    if key not in ENTITIES:
        raise unsupported(f"batch {item.get('operation') or 'create'} on {key}")
    operation, include = _operation(item)
    return {key: store.write(key, item[key], operation, include)}


def _operation(item: dict) -> tuple[str, list[str]]:
    """``operation`` (default create) and ``optionsData`` (comma-separated include flags, e.g. ``void``)."""
    operation = str(item.get("operation") or "create").strip().lower()
    if operation not in _OPERATIONS:
        raise unsupported(f"batch {operation}")
    include = [opt.strip().lower() for opt in str(item.get("optionsData") or "").split(",") if opt.strip()]
    return operation, include


def _read(store: Store, key: str, payload: Any) -> dict:
    if key == "Query":
        if not isinstance(payload, str):
            raise invalid_item("Query must be a string", "Query")
        return {"QueryResponse": store.query(payload)["QueryResponse"]}
    if key == "CDCQuery":
        if not isinstance(payload, dict):
            raise invalid_item("CDCQuery must be an object with Entities and ChangedSince", "CDCQuery")
        result = store.cdc(payload.get("Entities"), payload.get("ChangedSince"))
        return {"CDCResponse": result["CDCResponse"][0]}
    raise unsupported("batch ReportQuery")

"""How the business system's account hierarchy becomes platform customers, per connection
(``settings["hierarchy"]``).

- ``"detailed"`` (the default): a parent customer per billing account and a sub-customer per child account
  (as the platform models it: a sub-customer, or a contact named "Parent: Child" where it has none). A child
  moved to another parent is moved there on the platform when it is next sent.
- ``"combined"``: one platform customer per billing account. A child account's documents go to its top-level
  account's customer; the child account itself is not sent.
"""
from __future__ import annotations

import dataclasses

from connectors.documents import CustomerSnapshot, PaymentSnapshot, RefundSnapshot, SalesDocumentSnapshot, Snapshot
from connectors.errors import DataError

from ..core import sources

MODES = ("detailed", "combined")
NOT_SENT = ("not sent: this connection combines child accounts into their top-level account (hierarchy "
            "“combined”), whose customer gets their documents")


def apply(doc: Snapshot, mode: str) -> Snapshot | None:
    """``doc`` for a connection with this hierarchy ``mode``; None when the document is not sent at all."""
    if mode != "combined":
        return doc
    if isinstance(doc, CustomerSnapshot):
        return None if doc.parent_key else doc
    if isinstance(doc, (SalesDocumentSnapshot, PaymentSnapshot, RefundSnapshot)):
        root = root_key(doc.customer_key)
        return doc if root == doc.customer_key else dataclasses.replace(doc, customer_key=root)
    return doc


def root_key(key: str) -> str:
    """The key of the top-level account above customer ``key`` (``key`` itself when it has no parent)."""
    seen = {key}
    while True:
        adapter, obj = sources.load(key)
        if obj is None:
            raise DataError(f"depends on {key}, which no longer exists locally",
                            hint="Restore the missing record or remove the reference from the document.")
        parent = getattr(adapter.snapshot(obj), "parent_key", None)
        if not parent:
            return key
        if parent in seen:
            raise DataError(f"the account hierarchy above {key} loops back to {parent}",
                            hint="Correct the accounts' parents in the business system.")
        seen.add(parent)
        key = parent

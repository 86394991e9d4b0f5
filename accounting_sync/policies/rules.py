"""A connection's financial rules, applied to a document's snapshot before its dependencies, mappings and
platform checks: the customer hierarchy (``hierarchy``), tax handling, and exchange rates (``rates``).

``apply`` is called once by the engine and once by bulk delivery. Its result is what is resolved, hashed and
sent, so changing a rule re-sends the documents it changes.

Tax handling (``settings["tax_mode"]``):

- ``"codes"`` (the default): each line carries the platform tax code its tax rate is mapped to.
- ``"line"``: tax as a separate line. The lines go without tax (the platform's no-tax code) and one line of kind
  ``"tax"`` carries the document's tax total. Its account is resolved like any line's income account: a rule
  for the line kind ``tax``, else the default income account (platforms whose lines need an item put it on a
  generic "Tax" item with that account).
"""
from __future__ import annotations

import dataclasses
from decimal import Decimal

from connectors.documents import LineSnapshot, SalesDocumentSnapshot, Snapshot
from connectors.errors import ConfigurationError

from . import hierarchy, rates

TAX_MODES = ("codes", "line")
TAX_LINE_KIND = "tax"


def apply(conn, connector, doc: Snapshot) -> Snapshot | None:
    """``doc`` as this connection sends it; None when the connection does not send it (see ``hierarchy``)."""
    doc = hierarchy.apply(doc, choice(conn, "hierarchy", hierarchy.MODES))
    if doc is None:
        return None
    if isinstance(doc, SalesDocumentSnapshot) and choice(conn, "tax_mode", TAX_MODES) == "line":
        doc = tax_as_line(doc)
    return rates.resolve(conn, connector, doc, choice(conn, "rate_source", rates.SOURCES))


def apply_offline(conn, doc: Snapshot) -> Snapshot | None:
    """``apply`` without the exchange rate (which may ask the platform): for previews that call no platform."""
    doc = hierarchy.apply(doc, choice(conn, "hierarchy", hierarchy.MODES))
    if doc is not None and isinstance(doc, SalesDocumentSnapshot) and choice(conn, "tax_mode", TAX_MODES) == "line":
        doc = tax_as_line(doc)
    return doc


def choice(conn, key: str, allowed: tuple[str, ...]) -> str:
    """The connection's ``settings[key]``, one of ``allowed`` (the first is the default)."""
    value = (conn.settings or {}).get(key) or allowed[0]
    if value not in allowed:
        raise ConfigurationError(f"the connection's setting “{key}” must be one of {', '.join(allowed)}, not "
                                 f"“{value}”", hint="Fix the connection's settings in the admin, then retry.")
    return value


def tax_as_line(doc: SalesDocumentSnapshot) -> SalesDocumentSnapshot:
    """The document with its lines untaxed and one "Tax" line carrying its tax total; the total is unchanged."""
    untaxed = tuple(dataclasses.replace(line, tax_amount=Decimal("0.00"), tax_rate_key=None, tax_rate_name="",
                                        tax_rate_percent=None) for line in doc.lines)
    if not doc.tax_total:
        return dataclasses.replace(doc, lines=untaxed)
    names = ", ".join(dict.fromkeys(line.tax_rate_name for line in doc.lines if line.tax_rate_name))
    tax = LineSnapshot(kind=TAX_LINE_KIND, description=f"Tax ({names})" if names else "Tax", quantity=Decimal("1"),
                       unit_price=doc.tax_total, net_amount=doc.tax_total, tax_amount=Decimal("0.00"))
    return dataclasses.replace(doc, lines=untaxed + (tax,), subtotal=doc.subtotal + doc.tax_total,
                               tax_total=Decimal("0.00"))

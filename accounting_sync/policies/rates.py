"""Where a foreign-currency document's exchange rate comes from, per connection (``settings["rate_source"]``).

- ``"document"`` (the default): the rate the document itself carries. A foreign-currency document without one
  is stopped by preflight.
- ``"table"``: a fixed table in ``settings["rates"]``, e.g. ``{"EUR": "1.08"}``.
- ``"platform"``: the platform's own rate on the document's date (``BaseConnector.exchange_rate``). A platform
  that publishes no rates but applies its own when the document is posted answers None, and the document goes
  without one; a platform that does neither refuses the setting.

A rate is home-currency units per one foreign unit (a connector whose platform counts the other way inverts it).
Documents in the company's home currency are left as they are.
"""
from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation

from connectors.documents import PaymentSnapshot, SalesDocumentSnapshot, Snapshot
from connectors.errors import ConfigurationError

from . import preflight

SOURCES = ("document", "table", "platform")


def resolve(conn, connector, doc: Snapshot, source: str) -> Snapshot:
    """``doc`` carrying the exchange rate of ``source``; raises ConfigurationError when that source has none."""
    if source == "document" or not isinstance(doc, (SalesDocumentSnapshot, PaymentSnapshot)):
        return doc
    connector = connector or conn.connector()
    home = preflight.reference_data(conn, connector).home_currency
    if not home or doc.currency == home:
        return doc
    if source == "table":
        rate = table_rate(conn, doc)
    else:
        rate = platform_rate(connector, doc)
        if rate is None:  # the platform applies its own rate when the document is posted
            return doc
    return dataclasses.replace(doc, exchange_rate=rate)


def platform_rate(connector, doc: SalesDocumentSnapshot | PaymentSnapshot) -> Decimal | None:
    """The platform's rate on the document's date; None when the platform applies it itself on posting."""
    return connector.exchange_rate(doc.currency, getattr(doc, "issue_date", None) or getattr(doc, "date", None))


def table_rate(conn, doc: SalesDocumentSnapshot | PaymentSnapshot) -> Decimal:
    """The rate of the document's currency in the connection's table (``settings["rates"]``)."""
    table = (conn.settings or {}).get("rates") or {}
    value = table.get(doc.currency) if isinstance(table, dict) else None
    label = f"{doc.entity.replace('_', ' ').capitalize()} {doc.number}".strip()
    hint = (f'Add the rate to the connection\'s settings, e.g. "rates": {{"{doc.currency}": "1.08"}} '
            f"(home-currency units per one {doc.currency}), then retry.")
    if value in (None, ""):
        raise ConfigurationError(f"{label}: the connection takes exchange rates from its rate table, which has no "
                                 f"{doc.currency} rate", hint=hint)
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        rate = Decimal("NaN")
    if not rate.is_finite() or rate <= 0:
        raise ConfigurationError(f"{label}: the connection's rate table gives {doc.currency} the rate “{value}”, "
                                 "which is not a positive number", hint=hint)
    return rate

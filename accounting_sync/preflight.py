"""Checks run before anything is sent. A failure names the document, the line and the missing piece.

``check`` looks at the snapshot alone (bad local data); ``check_platform`` compares it with the platform's
reference data (cached on the connection) and the connector's own rules.
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from connectors.base import ReferenceData
from connectors.documents import CustomerSnapshot, Mapping, PaymentSnapshot, SalesDocumentSnapshot, Snapshot
from connectors.errors import ConfigurationError, DataError, SyncError
from ledger.money import MAX_INPUT_PLACES, is_currency_code, places

from . import conf


def _label(doc: Snapshot) -> str:
    number = getattr(doc, "number", "") or getattr(doc, "name", "")
    return f"{doc.entity.replace('_', ' ').capitalize()} {number}".strip()


def check(conn, doc: Snapshot) -> None:
    """Local data problems: raises DataError listing all of them."""
    problems: list[str] = []
    if isinstance(doc, CustomerSnapshot) and not doc.name.strip():
        problems.append("the customer has no name")
    currency = getattr(doc, "currency", None)
    if currency is not None and not is_currency_code(currency):
        problems.append(f"currency “{currency}” is not an ISO 4217 code")
    if isinstance(doc, SalesDocumentSnapshot):
        if not doc.lines:
            problems.append("it has no lines")
        for n, line in enumerate(doc.lines, start=1):
            for name in ("quantity", "unit_price"):
                value = getattr(line, name)
                if places(value) > MAX_INPUT_PLACES:
                    problems.append(f"line {n}: {name.replace('_', ' ')} {value} has more than "
                                    f"{MAX_INPUT_PLACES} decimal places")
            if line.unit_price < 0:
                problems.append(f"line {n}: negative unit price (use a discount line)")
        if doc.total < 0:
            problems.append(f"the total {doc.total} is negative")
    if isinstance(doc, PaymentSnapshot):
        if doc.amount <= 0:
            problems.append("the amount must be positive")
        if places(doc.amount) > MAX_INPUT_PLACES:
            problems.append(f"amount {doc.amount} has more than {MAX_INPUT_PLACES} decimal places")
        allocated = sum((a.amount for a in doc.allocations), start=0)
        if allocated > doc.amount:
            problems.append(f"allocations ({allocated}) exceed the payment amount ({doc.amount})")
    if problems:
        raise DataError(f"{_label(doc)}: " + "; ".join(problems),
                        hint="Correct the document in the business system; it is sent once it is saved again.")


def reference_data(conn, connector, *, refresh: bool = False) -> ReferenceData:
    """The platform's accounts, tax codes and currencies, cached on the connection for a while."""
    ttl = dt.timedelta(seconds=conf.get("REFERENCE_DATA_TTL_SECONDS"))
    cached = conn.reference_data or {}
    if refresh or not cached or not conn.reference_data_at or conn.reference_data_at < timezone.now() - ttl:
        data = connector.reference_data()
        cached = {"accounts": data.accounts, "tax_codes": data.tax_codes, "currencies": sorted(data.currencies),
                  "home_currency": data.home_currency, "account_kinds": data.account_kinds,
                  "control_accounts": {kind: list(pair) for kind, pair in data.control_accounts.items()}}
        conn.reference_data, conn.reference_data_at = cached, timezone.now()
        type(conn).objects.filter(pk=conn.pk).update(reference_data=cached, reference_data_at=conn.reference_data_at)
    return _from_cache(cached)


def _from_cache(cached: dict) -> ReferenceData:
    return ReferenceData(accounts=cached["accounts"], tax_codes=cached["tax_codes"],
                         currencies=frozenset(cached["currencies"]), home_currency=cached["home_currency"],
                         account_kinds=cached.get("account_kinds", {}),
                         control_accounts={k: tuple(v) for k, v in cached.get("control_accounts", {}).items()})


def platform_lists(conn, *, refresh: bool = False) -> tuple[ReferenceData | None, str]:
    """Reference data for people to pick from and read: ``(data, warning)``.

    When the platform cannot be reached, the lists fetched last time (with a warning saying so), or ``None``.
    A cache written before accounts carried their kinds is refreshed, so the editor can offer bank accounts only
    for deposits.
    """
    refresh = refresh or bool(conn.reference_data and "account_kinds" not in conn.reference_data)
    try:
        return reference_data(conn, conn.connector(), refresh=refresh), ""
    except SyncError as exc:
        problem = f"Could not load the lists from {conn.platform_name}: {exc.message}"
        if conn.reference_data:
            when = f"{conn.reference_data_at:%Y-%m-%d %H:%M} UTC" if conn.reference_data_at else "earlier"
            return _from_cache(conn.reference_data), f"{problem}; showing its lists as fetched at {when}."
        return None, f"{problem}; its accounts and tax codes are unknown until it answers."


def check_platform(conn, connector, doc: Snapshot, mapping: Mapping) -> None:
    """Problems only the platform's reference data reveals; raises ConfigurationError."""
    currency = getattr(doc, "currency", None)
    problems = list(connector.preflight(doc, mapping))
    if currency:
        allowed = connector.capabilities.currencies
        ref = None
        if allowed is None:
            ref = reference_data(conn, connector)
            allowed = ref.currencies
        if currency not in allowed:
            problems.append(f"the platform company does not accept {currency} "
                            f"(it takes {', '.join(sorted(allowed)) or 'none'})")
        elif ref and ref.home_currency and currency != ref.home_currency and not getattr(doc, "exchange_rate", None):
            problems.append(f"{currency} is a foreign currency for this company ({ref.home_currency}) and the "
                            "document has no exchange rate")
    if problems:
        raise ConfigurationError(f"{_label(doc)}: " + "; ".join(problems),
                                 hint="Enable the currency on the platform or change the document, then retry.")

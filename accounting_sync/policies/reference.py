"""The platform's reference data (accounts, tax codes, currencies), cached on the connection for a while.

Every fetch runs ``drift.check_rules``: rules pointing at what the platform no longer offers turn stale.
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from connectors.base import ReferenceData
from connectors.errors import SyncError

from .. import conf
from . import drift


def reference_data(conn, connector, *, refresh: bool = False) -> ReferenceData:
    """The platform's accounts, tax codes and currencies, cached on the connection for a while."""
    ttl = dt.timedelta(seconds=conf.get("REFERENCE_DATA_TTL_SECONDS"))
    cached = conn.reference_data or {}
    if refresh or not cached or not conn.reference_data_at or conn.reference_data_at < timezone.now() - ttl:
        data = connector.reference_data()
        previous = type(conn).objects.filter(pk=conn.pk).values_list("reference_data", flat=True).first()
        cached = {"accounts": data.accounts, "tax_codes": data.tax_codes, "currencies": sorted(data.currencies),
                  "home_currency": data.home_currency, "account_kinds": data.account_kinds,
                  "control_accounts": {kind: list(pair) for kind, pair in data.control_accounts.items()}}
        conn.reference_data, conn.reference_data_at = cached, timezone.now()
        type(conn).objects.filter(pk=conn.pk).update(reference_data=cached, reference_data_at=conn.reference_data_at)
        data = _from_cache(cached)
        drift.check_rules(conn, data, previous)  # rules pointing at what disappeared turn stale
        return data
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

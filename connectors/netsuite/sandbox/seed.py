"""The sandbox company: one account (``ACCOUNT_ID``), a few GL accounts, a subsidiary, a currency and two items."""
from __future__ import annotations

from decimal import Decimal

from ...sandboxkit.resources import ResourceStore

ACCOUNT_ID = "1234567_SB1"  # a sandbox account's id; the realm is this, the host uses "1234567-sb1"
SUBSIDIARY = "1"
CURRENCY = "1"  # USD, the base currency
ACCOUNTS = (("54", "4000 Sales", "Income"), ("55", "4100 Service Revenue", "Income"),
            ("1", "1000 Checking", "Bank"), ("122", "1100 Undeposited Funds", "OthCurrAsset"),
            ("119", "1200 Accounts Receivable", "AcctRec"))
ITEMS = (("201", "Consulting hour", Decimal("150.00"), "55"), ("202", "Widget", Decimal("25.00"), "54"))


def seed(store: ResourceStore) -> None:
    for rid, name, kind in ACCOUNTS:
        store.create("account", {"acctName": name, "acctType": {"id": kind, "refName": kind}}, record_id=rid)
    for rid, name, price, income in ITEMS:
        store.create("noninventorysaleitem", {"itemId": name, "displayName": name, "basePrice": price,
                                              "incomeAccount": {"id": income}, "isInactive": False}, record_id=rid)

"""The NetSuite sandbox account's public, non-secret credentials and reference data (items and tax codes)."""
from __future__ import annotations

from decimal import Decimal

ACCOUNT_ID = "1234567_SB1"
CONSUMER_KEY = "sandbox-client"
CONSUMER_SECRET = "sandbox-secret"  # nosec B105 - the sandbox's public value, like its OAuth client
TOKEN_ID = "sandbox-token"
TOKEN_SECRET = "sandbox-token-secret"  # nosec B105 - the sandbox's public value
#: internalId, name, base rate (non-inventory sale items: an invoice line in NetSuite is always on an item)
ITEMS = (("11", "Services", Decimal("0.00")), ("12", "Shipping", Decimal("0.00")), ("13", "Discount", Decimal("0.00")))
#: internalId -> rate in percent
TAX_CODES = {"21": Decimal("10"), "22": Decimal("0")}


def seed(books) -> None:
    for internal_id, name, rate in ITEMS:
        books.items[internal_id] = {"internalId": internal_id, "name": name, "rate": rate}
    books.tax_codes.update(TAX_CODES)

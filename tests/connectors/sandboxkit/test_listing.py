"""``Listing``: a platform's list query (filters, modified-since, sort, pages) read from a query string."""
import datetime as dt
from decimal import Decimal

import pytest

from connectors.sandboxkit.listing import Listing
from connectors.sandboxkit.resources import ResourceStore
from tests.connectors.sandbox_clock import Clock


class Invalid(Exception):
    pass


LISTING = Listing({"docs": ("number", "status")}, frozenset({"created", "number", "amount"}), Invalid,
                  default_sort="created", descending=frozenset({"docs"}), max_per_page=3,
                  modified_param="modified_since")


@pytest.fixture
def store():
    clock = Clock()
    s = ResourceStore(clock)
    s.declare("docs")
    for i, status in enumerate(("open", "paid", "open", "void", "open")):
        s.create("docs", {"number": f"INV-{i}", "status": status, "amount": Decimal(10 - i)})
        clock.advance(10)
    return s


def numbers(page):
    return [r.data["number"] for r in page.rows]


def test_defaults_newest_first_in_pages_of_at_most_max(store):
    page, column, descending = LISTING.query(store, "docs", {"per_page": "50"})
    assert numbers(page) == ["INV-4", "INV-3", "INV-2"] and page.has_more and page.per_page == 3
    assert (column, descending) == ("created", True)
    last, _, _ = LISTING.query(store, "docs", {"page": "2"})
    assert numbers(last) == ["INV-1", "INV-0"] and not last.has_more


def test_filters_sort_and_where(store):
    found, _, _ = LISTING.query(store, "docs", {"status": "OPEN", "sort_column": "amount", "sort_order": "A"})
    assert numbers(found) == ["INV-4", "INV-2", "INV-0"]
    found, _, _ = LISTING.query(store, "docs", {"number_contains": "-3"})
    assert numbers(found) == ["INV-3"]
    found, _, _ = LISTING.query(store, "docs", {"number_startswith": "inv-1"}, where=lambda r: True)
    assert numbers(found) == ["INV-1"]
    found, _, _ = LISTING.query(store, "docs", {}, where=lambda r: r.data["status"] == "paid")
    assert numbers(found) == ["INV-1"]


def test_modified_since_and_bad_parameters(store):
    since = dt.datetime.fromtimestamp(store.get("docs", "4").modified, dt.UTC)
    found, _, _ = LISTING.query(store, "docs", {"modified_since": since.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                                                "sort_order": "asc"})
    assert numbers(found) == ["INV-3", "INV-4"]
    for bad in ({"sort_column": "bogus"}, {"page": "x"}, {"modified_since": "yesterday"}):
        with pytest.raises(Invalid):
            LISTING.query(store, "docs", bad)

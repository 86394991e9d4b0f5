"""The generic resource store: ids, versions, uniqueness, void vs delete, paging, since-queries, idempotency."""
import threading
from decimal import Decimal

import pytest

from connectors.sandboxkit.resources import Conflict, Duplicate, NotFound, ResourceStore, Unique
from tests.connectors.sandbox_clock import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(clock):
    s = ResourceStore(clock)
    s.declare("docs", id_start=100, versioned=True,
              unique=(Unique(("number",), scope="org", except_status=("void",)),))
    s.declare("people", ids="uuid", unique=(Unique(("name",), ignore_case=False),))
    return s


def test_sequential_and_uuid_ids(store):
    assert [store.create("docs", {"number": f"N{i}"}).id for i in range(3)] == ["100", "101", "102"]
    person = store.create("people", {"name": "Ann"})
    assert len(person.id) == 36 and store.get("people", person.id).data == {"name": "Ann"}


def test_rows_are_copies(store):
    row = store.create("docs", {"number": "A", "lines": [{"amount": Decimal("1.00")}]})
    row.data["lines"][0]["amount"] = Decimal("9")
    assert store.get("docs", row.id).data["lines"][0]["amount"] == Decimal("1.00")


def test_float_money_refused(store):
    with pytest.raises(TypeError, match="Decimal"):
        store.create("docs", {"number": "A", "lines": [{"amount": 1.5}]})


def test_version_checked_on_update(store):
    row = store.create("docs", {"number": "A"})
    updated = store.update("docs", row.id, {"memo": "x"}, version=row.version)
    assert updated.version != row.version and updated.data == {"number": "A", "memo": "x"}
    with pytest.raises(Conflict) as exc:
        store.update("docs", row.id, {"memo": "y"}, version=row.version)
    assert exc.value.current == updated.version
    assert store.update("docs", row.id, {"memo": "z"}).data["memo"] == "z"  # no version: no check


def test_uniqueness_case_scope_and_void(store):
    first = store.create("docs", {"number": "INV-1", "org": "a"})
    with pytest.raises(Duplicate) as exc:
        store.create("docs", {"number": "inv-1", "org": "a"})
    assert exc.value.existing_id == first.id and exc.value.rule.fields == ("number",)
    store.create("docs", {"number": "INV-1", "org": "b"})  # another organisation
    store.void("docs", first.id, zero=("total",))
    store.create("docs", {"number": "INV-1", "org": "a"})  # a void one does not count for this rule
    store.create("people", {"name": "Ann"})
    store.create("people", {"name": "ann"})  # case-sensitive rule
    with pytest.raises(Duplicate):
        store.create("people", {"name": "Ann"})


def test_uniqueness_checked_on_update(store):
    store.create("docs", {"number": "A"})
    b = store.create("docs", {"number": "B"})
    with pytest.raises(Duplicate):
        store.update("docs", b.id, {"number": "a"})


def test_void_keeps_record_delete_leaves_tombstone(store, clock):
    a = store.create("docs", {"number": "A", "total": Decimal("10.00"), "status": "open"})
    voided = store.void("docs", a.id, zero=("total",))
    assert voided.data["total"] == Decimal("0.00") and voided.data["status"] == "void"
    assert store.get("docs", a.id).data["status"] == "void"
    start = clock()
    clock.advance(5)
    store.delete("docs", a.id)
    with pytest.raises(NotFound):
        store.get("docs", a.id)
    assert store.find("docs", a.id) is None
    assert [rid for rid, _ in store.deleted_since("docs", start)] == [a.id]
    assert store.deleted_since("docs", clock() + 1) == []
    assert store.query("docs").total == 0


def test_paging_filters_and_modified_since(store, clock):
    for i in range(5):
        store.create("docs", {"number": f"N{i}", "memo": "big order" if i % 2 else "small"})
        clock.advance(10)
    page = store.query("docs", page=2, per_page=2)
    assert [r.data["number"] for r in page.rows] == ["N2", "N3"] and page.has_more and page.total == 5
    last = store.query("docs", page=3, per_page=2)
    assert [r.data["number"] for r in last.rows] == ["N4"] and not last.has_more
    sliced = store.query("docs", offset=3, limit=5)
    assert [r.data["number"] for r in sliced.rows] == ["N3", "N4"] and not sliced.has_more
    assert [r.data["number"] for r in store.query("docs", equals={"number": "n1"}).rows] == ["N1"]
    assert len(store.query("docs", contains={"memo": "BIG"}).rows) == 2
    since = store.get("docs", "103").modified
    assert [r.data["number"] for r in store.query("docs", modified_since=since).rows] == ["N3", "N4"]
    store.update("docs", "100", {"memo": "edited"})
    assert {r.data["number"] for r in store.query("docs", modified_since=since).rows} == {"N0", "N3", "N4"}
    newest = store.query("docs", sort=lambda r: r.modified, descending=True, page=1, per_page=1)
    assert newest.rows[0].data["number"] == "N0"


def test_idempotency_memory(store):
    calls = []

    def run():
        calls.append(1)
        return store.create("docs", {"number": f"K{len(calls)}"}).id

    assert store.once("key-1", run) == store.once("key-1", run) and len(calls) == 1
    assert store.recall("key-1") == "100"
    store.forget_idempotency()
    assert store.recall("key-1") is None
    assert store.once("key-1", run) == "101"
    assert store.once(None, run) == "102"


def test_idempotency_under_concurrency(store):
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        store.once("same", lambda: store.create("docs", {"number": None}).id))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results) == {"100"} and store.counts()["docs"] == 1


def test_events_and_clear(store):
    seen = []
    store.subscribe(lambda event, resource, row: seen.append((event, resource, row.id)))
    a = store.create("docs", {"number": "A"})
    store.update("docs", a.id, {"memo": "m"})
    store.void("docs", a.id)
    store.delete("docs", a.id)
    assert seen == [("create", "docs", "100"), ("update", "docs", "100"), ("void", "docs", "100"),
                    ("delete", "docs", "100")]
    store.clear()
    assert store.counts() == {"docs": 0, "people": 0} and store.deleted_since("docs", 0) == []
    assert store.create("docs", {"number": "A"}).id == "100"  # ids start again; subscribers kept
    assert seen[-1][0] == "create"


def test_undeclared_resource(store):
    with pytest.raises(KeyError, match="undeclared"):
        store.create("nope", {})


def test_public_view_and_sort_by_column(store, clock):
    a = store.create("docs", {"number": "B", "total": Decimal("5"), "_sent": True})
    clock.advance(1)
    store.create("docs", {"number": "a", "total": Decimal("20")})
    store.create("docs", {"number": "", "total": None})
    assert a.public("doc_id") == {"doc_id": "100", "number": "B", "total": Decimal("5")}
    assert [r.data["number"] for r in store.query("docs", sort="number").rows] == ["a", "B", ""]
    assert [r.id for r in store.query("docs", sort="total", descending=True).rows] == ["102", "101", "100"]
    assert [r.id for r in store.query("docs", sort="created", descending=True).rows] == ["102", "101", "100"]


def test_require_first_total_and_startswith(store):
    a = store.create("docs", {"number": "AB-1", "org": 1, "amount": Decimal("2.50")})
    store.create("docs", {"number": "ab-2", "org": 1, "amount": Decimal("1.25")})
    store.create("docs", {"number": "C-3", "org": 2, "amount": Decimal("4.00")})
    refused = LookupError("no such doc")
    assert store.require("docs", a.id, refused).data["number"] == "AB-1"
    for missing in (None, "", "999"):
        with pytest.raises(LookupError):
            store.require("docs", missing, refused)
    assert store.first("docs", org=2).data["number"] == "C-3" and store.first("docs", org=3) is None
    assert store.total("docs", "amount", org=1) == Decimal("3.75") and store.total("docs", "amount", org=9) == 0
    assert [r.data["number"] for r in store.query("docs", startswith={"number": "ab"}).rows] == ["AB-1", "ab-2"]


def test_a_transaction_that_fails_leaves_every_record_and_key_as_it_was(store):
    kept = store.create("docs", {"number": "K-1", "org": 1, "total": Decimal("5.00")})
    with pytest.raises(ValueError), store.transaction():
        store.create("docs", {"number": "T-1", "org": 1})
        store.update("docs", kept.id, {"total": Decimal("9.00")})
        store.remember("key-1", {"done": True})
        raise ValueError("the third request of the change set failed")
    assert [r.data["number"] for r in store.rows("docs")] == ["K-1"]
    assert store.get("docs", kept.id).data["total"] == Decimal("5.00") and store.recall("key-1") is None
    with store.transaction():  # one that ends well keeps what it did
        made = store.create("docs", {"number": "T-2", "org": 1})
    assert store.get("docs", made.id).data["number"] == "T-2" and made.id != kept.id

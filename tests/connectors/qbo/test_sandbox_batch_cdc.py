"""QBO sandbox ``/batch`` and ``/cdc`` (change data capture), over real loopback HTTP with ``requests``.

The sandbox runs on a frozen clock that only the tests move, so change windows and timestamps are exact and
nothing sleeps.
"""

from __future__ import annotations

import time

import pytest
import requests

from connectors.qbo.sandbox import QBOSandbox
from connectors.qbo.sandbox.wire import iso_time

from tests.connectors.sandbox_clock import Clock

from .test_sandbox import Api, fault_of, sales_line

DAY = 86400


class FrozenClock(Clock):
    """Stands still until a test calls ``advance``."""

    def __init__(self) -> None:
        super().__init__()
        self.start = float(int(time.time()))

    def __call__(self) -> float:
        return self.start + self.offset


@pytest.fixture(scope="module")
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(scope="module")
def sandbox(clock):
    sb = QBOSandbox(clock=clock).start()
    yield sb
    sb.stop()


@pytest.fixture
def api(sandbox):
    sandbox.reset()
    client = Api(sandbox)
    client.item_id = client.item()["Id"]
    yield client
    sandbox.faults.clear()


def batch(api: Api, items: list, **params) -> requests.Response:
    return requests.post(f"{api.base}/batch", json={"BatchItemRequest": items}, params=params,
                         headers=api.headers(), timeout=5)


def by_bid(response: requests.Response) -> dict:
    assert response.status_code == 200, response.text
    return {item["bId"]: item for item in response.json()["BatchItemResponse"]}


def cdc(api: Api, entities: str, since: str) -> requests.Response:
    return requests.get(f"{api.base}/cdc", params={"entities": entities, "changedSince": since},
                        headers=api.headers(), timeout=5)


def ref(row: dict) -> dict:
    return {"Id": row["Id"], "SyncToken": row["SyncToken"]}


def invoice_body(api: Api, customer_id: str, amount: str = "10.00", **extra) -> dict:
    return {"CustomerRef": {"value": customer_id}, "Line": [sales_line(api.item_id, amount)], **extra}


# --- batch ------------------------------------------------------------------------------------------------------


def test_batch_items_are_independent_with_single_endpoint_faults(api, sandbox):
    cust = api.customer("Acme")
    inv = api.invoice(cust["Id"])
    duplicate = fault_of(api.post("customer", {"DisplayName": "Acme"}))
    items = [
        {"bId": "c1", "operation": "create", "Invoice": invoice_body(api, cust["Id"], "12.50")},
        {"bId": "c2", "operation": "create", "Customer": {"DisplayName": "Acme"}},
        {"bId": "u1", "operation": "update",
         "Invoice": {"Id": inv["Id"], "SyncToken": "7", "sparse": True, "PrivateNote": "x"}},
        {"bId": "q1", "Query": "select * from Customer where DisplayName = 'Acme'"},
        {"bId": "v1", "operation": "create", "PurchaseOrder": {"VendorRef": {"value": "1"}}},  # not emulated
        {"bId": "c3", "Customer": {"DisplayName": "Beta"}},  # no operation: a create
        {"bId": "t1", "operation": "create", "Customer": {"DisplayNmae": "typo"}},
        {"bId": "a1", "operation": "create", "Account": {"Name": "New"}},
    ]
    response = batch(api, items)
    assert [item["bId"] for item in response.json()["BatchItemResponse"]] == [i["bId"] for i in items]
    assert set(response.json()) == {"BatchItemResponse", "time"}
    result = by_bid(response)
    assert result["c1"]["Invoice"]["TotalAmt"] == 12.5 and result["c1"]["Invoice"]["SyncToken"] == "0"
    assert result["c2"] == {"bId": "c2", "Fault": {"Error": [duplicate], "type": "ValidationFault"}}
    assert result["u1"]["Fault"]["Error"][0]["code"] == "5010"
    assert [c["DisplayName"] for c in result["q1"]["QueryResponse"]["Customer"]] == ["Acme"]
    assert result["q1"]["QueryResponse"]["startPosition"] == 1
    assert result["v1"]["Fault"]["Error"][0]["code"] == "500"
    assert result["c3"]["Customer"]["DisplayName"] == "Beta"
    assert result["t1"]["Fault"]["Error"][0] == fault_of(api.post("customer", {"DisplayNmae": "typo"}))
    assert result["a1"]["Fault"]["Error"][0]["code"] == "500"
    assert sorted(c["DisplayName"] for c in sandbox.store.entities("Customer")) == ["Acme", "Beta"]
    assert len(sandbox.store.entities("Invoice")) == 2
    assert sandbox.store.get("Invoice", inv["Id"])["SyncToken"] == "0"  # the stale update changed nothing


def test_batch_void_delete_and_options(api, sandbox):
    cust = api.customer()
    first, second, third = (api.invoice(cust["Id"], "20.00", DocNumber=f"B-{n}") for n in range(3))
    payment = api.ok("payment", {"CustomerRef": {"value": cust["Id"]}, "TotalAmt": 5})
    result = by_bid(batch(api, [
        {"bId": "1", "operation": "update", "optionsData": "void", "Invoice": ref(first)},
        {"bId": "2", "operation": "void", "Invoice": ref(second)},
        {"bId": "3", "operation": "delete", "Invoice": ref(third)},
        {"bId": "4", "operation": "update", "optionsData": "void", "Payment": {**ref(payment), "sparse": True}},
        {"bId": "5", "operation": "delete", "Customer": {"Id": cust["Id"], "SyncToken": "0"}},
        {"bId": "6", "operation": "merge", "Invoice": ref(first)},
        {"bId": "7", "operation": "update", "Invoice": {"PrivateNote": "no id"}},
        {"bId": "8", "operation": "create", "Invoice": invoice_body(api, cust["Id"], DocNumber="B-0")},
        {"bId": "9", "operation": "create", "optionsData": "allowduplicatedocnum",
         "Invoice": invoice_body(api, cust["Id"], DocNumber="B-0")},
    ]))
    for bid in ("1", "2"):
        voided = result[bid]["Invoice"]
        assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["PrivateNote"] == "Voided"
    assert result["3"]["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": third["Id"]}
    assert result["4"]["Payment"]["TotalAmt"] == 0
    assert result["5"]["Fault"]["Error"][0]["code"] == "500"
    assert result["6"]["Fault"]["Error"][0]["code"] == "500"
    assert result["7"]["Fault"]["Error"][0]["code"] == "2020"
    assert result["8"]["Fault"]["Error"][0]["code"] == "6140"
    assert result["9"]["Invoice"]["DocNumber"] == "B-0"
    assert sandbox.store.get("Invoice", third["Id"]) is None


def test_batch_item_shapes(api, sandbox):
    result = batch(api, [
        {"bId": "q", "operation": "create", "Query": "select * from Customer"},
        {"bId": "none"},
        {"bId": "two", "Query": "select * from Customer", "Customer": {"DisplayName": "X"}},
        {"Query": "select * from Customer"},
        {"bId": "bad", "Query": "select from"},
        {"bId": "r", "ReportQuery": "ProfitAndLoss"},
    ]).json()["BatchItemResponse"]
    codes = [(item.get("bId"), item["Fault"]["Error"][0]["code"]) for item in result]
    assert codes == [("q", "2010"), ("none", "2010"), ("two", "2010"), (None, "2020"), ("bad", "4000"),
                     ("r", "500")]
    assert all("time" not in item["Fault"] for item in result)
    assert sandbox.store.entities("Customer") == []


def test_batch_size_limit_and_envelope_errors(api, sandbox):
    items = [{"bId": str(n), "operation": "create", "Customer": {"DisplayName": f"C{n}"}} for n in range(31)]
    too_many = batch(api, items)
    assert too_many.status_code == 400
    error = fault_of(too_many)
    assert error["code"] == "1040" and too_many.json()["Fault"]["type"] == "ValidationFault"
    assert sandbox.store.entities("Customer") == []  # nothing applied
    assert len(by_bid(batch(api, items[:30]))) == 30
    assert len(sandbox.store.entities("Customer")) == 30
    empty = requests.post(f"{api.base}/batch", json={}, headers=api.headers(), timeout=5)
    assert empty.status_code == 400 and fault_of(empty)["code"] == "2020"
    broken = requests.post(f"{api.base}/batch", data="{nope", headers=api.headers(), timeout=5)
    assert broken.status_code == 400 and fault_of(broken)["code"] == "2010"
    get = requests.get(f"{api.base}/batch", headers=api.headers(), timeout=5)
    assert get.status_code == 400 and fault_of(get)["code"] == "500"


def test_batch_requestid_replays_whole_response(api, sandbox):
    items = [{"bId": "1", "operation": "create", "Customer": {"DisplayName": "Once"}},
             {"bId": "2", "operation": "create", "Customer": {"DisplayName": ""}}]
    first = batch(api, items, requestid="batch-1")
    assert first.status_code == 200
    again = batch(api, items, requestid="batch-1")
    other_body = batch(api, items[:1] + [{"bId": "3", "Query": "select * from Item"}], requestid="batch-1")
    assert again.content == first.content and other_body.content == first.content
    assert [c["DisplayName"] for c in sandbox.store.entities("Customer")] == ["Once"]
    assert by_bid(batch(api, items, requestid="batch-2"))["1"]["Fault"]["Error"][0]["code"] == "6240"


def test_faults_apply_to_batch_and_cdc(api, sandbox):
    items = [{"bId": str(n), "operation": "create", "Customer": {"DisplayName": f"L{n}"}} for n in range(3)]
    sandbox.faults.add("lost_response", match="POST /batch")
    with pytest.raises(requests.ConnectionError):
        batch(api, items, requestid="lost-batch")
    assert len(sandbox.store.entities("Customer")) == 3  # every item applied, then the connection dropped
    retry = by_bid(batch(api, items, requestid="lost-batch"))
    assert [retry[str(n)]["Customer"]["DisplayName"] for n in range(3)] == ["L0", "L1", "L2"]
    assert len(sandbox.store.entities("Customer")) == 3
    sandbox.faults.add("http_500", match="/batch")
    more = [{"bId": "x", "operation": "create", "Customer": {"DisplayName": "Never"}}]
    assert batch(api, more).status_code == 500
    assert len(sandbox.store.entities("Customer")) == 3
    since = iso_time(sandbox.clock() - 60)
    sandbox.faults.add("http_503", match="GET /cdc")
    assert cdc(api, "Customer", since).status_code == 503
    sandbox.faults.add("reset", match="/cdc")
    with pytest.raises(requests.ConnectionError):
        cdc(api, "Customer", since)
    assert cdc(api, "Customer", since).status_code == 200
    assert [kind for kind, _, _ in sandbox.faults.fired[-4:]] == ["lost_response", "http_500", "http_503", "reset"]


# --- change data capture ----------------------------------------------------------------------------------------


def test_cdc_reports_creates_updates_and_deletions(api, sandbox, clock):
    early = api.customer("Early")
    gone = api.invoice(early["Id"], "30.00")
    untouched = api.invoice(early["Id"], "40.00")
    clock.advance(5)
    since = iso_time(clock())
    clock.advance(1)
    late = api.customer("Late")
    clock.advance(1)
    fresh = api.invoice(early["Id"], "50.00")
    clock.advance(1)
    api.ok("customer", {"Id": early["Id"], "SyncToken": early["SyncToken"], "sparse": True, "CompanyName": "E"})
    clock.advance(1)
    assert api.post("invoice", {"Id": gone["Id"], "SyncToken": gone["SyncToken"]}, operation="delete").ok
    deleted_at = iso_time(clock())
    response = cdc(api, "Invoice,Payment,Customer", since)
    assert response.status_code == 200 and set(response.json()) == {"CDCResponse", "time"}
    groups = response.json()["CDCResponse"][0]["QueryResponse"]
    invoices, payments, customers = groups
    assert [i["Id"] for i in invoices["Invoice"]] == [fresh["Id"], gone["Id"]]  # deletions come last
    assert invoices["Invoice"][0]["TotalAmt"] == 50.0 and invoices["Invoice"][0]["Line"]  # full payload
    assert invoices["Invoice"][1] == {"domain": "QBO", "status": "Deleted", "Id": gone["Id"],
                                      "MetaData": {"LastUpdatedTime": deleted_at}}
    assert invoices["startPosition"] == 1 and invoices["maxResults"] == 2
    assert payments == {}
    assert [c["DisplayName"] for c in customers["Customer"]] == ["Late", "Early"]  # by LastUpdatedTime
    assert customers["Customer"][0]["Id"] == late["Id"]
    assert untouched["Id"] not in {i["Id"] for i in invoices["Invoice"]}
    later = cdc(api, "Customer", iso_time(clock() + 1)).json()["CDCResponse"][0]["QueryResponse"]
    assert later == [{}]


def test_cdc_parameters_and_lookback(api, sandbox, clock):
    api.customer("Someone")
    now = clock()
    assert cdc(api, "customer", iso_time(now - 29 * DAY)).status_code == 200  # entity names: any case
    too_old = cdc(api, "Customer", iso_time(now - 31 * DAY))
    assert too_old.status_code == 400
    error = fault_of(too_old)
    assert error["code"] == "500" and error["Message"] == "Unsupported Operation"
    assert error["Detail"] == (f"Operation cdc with changedSince date {iso_time(now - 31 * DAY)} which is older "
                               "than fixed days is not supported.")
    utc = requests.get(f"{api.base}/cdc", headers=api.headers(), timeout=5,
                       params={"entities": "Customer", "changedSince": "2000-01-01T00:00:00Z"})
    assert fault_of(utc)["code"] == "500"
    day = cdc(api, "Customer", iso_time(now)[:10]).json()  # a bare date: midnight, company time
    assert day["CDCResponse"][0]["QueryResponse"][0]["Customer"][0]["DisplayName"] == "Someone"
    for entities, since, code in (("", iso_time(now), "2020"), ("Customer", "", "2020"),
                                  ("TaxCode", iso_time(now), "500"), ("PurchaseOrder", iso_time(now), "500"),
                                  ("Customer", "yesterday", "2010")):
        response = cdc(api, entities, since)
        assert response.status_code == 400 and fault_of(response)["code"] == code, (entities, since)


def test_cdc_caps_a_response_at_1000_objects(api, sandbox, clock):
    since = iso_time(clock())
    for n in range(1001):
        sandbox.store.write("Item", {"Name": f"Bulk {n}", "IncomeAccountRef": {"value": "1"}})
    api.customer("Crowded out")
    groups = cdc(api, "Item,Customer", since).json()["CDCResponse"][0]["QueryResponse"]
    assert len(groups[0]["Item"]) == 1000 and groups[0]["maxResults"] == 1000
    assert groups[1] == {}  # nothing left for the next entity: narrow the window and ask again


def test_cdc_in_a_batch_and_voids_show_as_updates(api, sandbox, clock):
    cust = api.customer()
    inv = api.invoice(cust["Id"])
    clock.advance(2)
    since = iso_time(clock())
    assert api.post("invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, operation="void").ok
    result = by_bid(batch(api, [{"bId": "cdc", "CDCQuery": {"Entities": "Invoice,Customer", "ChangedSince": since}},
                                {"bId": "old", "CDCQuery": {"Entities": "Invoice",
                                                            "ChangedSince": iso_time(clock() - 40 * DAY)}}]))
    groups = result["cdc"]["CDCResponse"]["QueryResponse"]
    assert groups[0]["Invoice"][0]["Id"] == inv["Id"] and groups[0]["Invoice"][0]["TotalAmt"] == 0
    assert groups[1] == {}
    assert result["old"]["Fault"]["Error"][0]["code"] == "500"

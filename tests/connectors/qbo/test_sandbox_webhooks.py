"""QBO sandbox webhooks and the "as a person in the QBO UI" helpers, over real loopback HTTP.

A tiny standard-library receiver stands in for the app's webhook endpoint. Signatures are checked here with
the documented algorithm, computed independently: base64(HMAC-SHA256(verifier token, raw body)). Tests
configure a long batch window and call ``flush()`` instead of waiting, except the one that checks background
delivery itself.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connectors.qbo.sandbox import QBOSandbox
from connectors.qbo.sandbox.wire import iso_time

from tests.connectors.sandbox_clock import Clock

from .test_sandbox import Api

TOKEN = "verifier-token-for-tests"
UTC_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
NO_WAIT = {"batch_window": 60, "retry_delays": [0, 0, 0]}  # only flush() sends; retries are immediate


def signature(key: str, body: bytes) -> str:
    """The documented algorithm, written out here rather than imported from the sandbox."""
    return base64.b64encode(hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


class Receiver:
    """A webhook endpoint on loopback that records every request.

    Answers 200 with an empty body, unless ``statuses`` holds codes to answer first, or ``verify`` is set:
    then (header name, key) is checked like a real receiver and a bad signature gets 401. ``reply`` changes
    the body of a 200.
    """

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.verify: tuple[str, str] | None = None
        self.reply = b""
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, reply = receiver.answer(headers, body)
                with receiver.cond:  # recorded before answering: the sender may look as soon as it has the answer
                    receiver.requests.append((headers, body))
                    receiver.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/webhooks"

    def answer(self, headers: dict, body: bytes) -> tuple[int, bytes]:
        with self.cond:
            if self.statuses:
                return self.statuses.pop(0), b""
        if self.verify is not None:
            header, key = self.verify
            if not hmac.compare_digest(headers.get(header, ""), signature(key, body)):
                return 401, b""
        return 200, self.reply

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.requests) >= count, timeout)

    def bodies(self) -> list[bytes]:
        with self.cond:
            return [body for _, body in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port_url() -> str:
    """A loopback URL nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhooks"


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.close()


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def sandbox(clock):
    sb = QBOSandbox(clock=clock, limits=False).start()
    yield sb
    sb.stop()


@pytest.fixture
def api(sandbox):
    sandbox.reset()
    client = Api(sandbox)
    client.item_id = client.item()["Id"]
    client.customer_id = client.customer()["Id"]
    yield client
    sandbox.reset()  # also switches webhooks off


def configure(sandbox: QBOSandbox, receiver: Receiver, **options) -> None:
    sandbox.webhooks.configure(receiver.url, TOKEN, **{**NO_WAIT, **options})


def entities(delivery) -> list[tuple[str, str, str]]:
    """(name, id, operation) of a classic payload."""
    notes = delivery.payload["eventNotifications"]
    return [(e["name"], e["id"], e["operation"]) for n in notes for e in n["dataChangeEvent"]["entities"]]


# --- payloads and signatures ------------------------------------------------------------------------------------


def test_classic_payload_batches_api_changes_and_is_signed(api, sandbox, receiver):
    configure(sandbox, receiver)
    invoice = api.invoice(api.customer_id, "100.00")
    response = api.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"], "sparse": True,
                                    "PrivateNote": "rush"})
    assert response.status_code == 200
    assert receiver.requests == []  # nothing before the batch window closes

    made = sandbox.webhooks.flush()

    assert [d.state for d in made] == ["delivered"] and made[0].events == 2
    headers, body = receiver.requests[0]
    assert headers["intuit-signature"] == signature(TOKEN, body)
    assert headers["content-type"].startswith("application/json")
    payload = json.loads(body)
    assert set(payload) == {"eventNotifications"}
    (note,) = payload["eventNotifications"]
    assert note["realmId"] == sandbox.realm_id
    assert [(e["name"], e["id"], e["operation"]) for e in note["dataChangeEvent"]["entities"]] == [
        ("Invoice", invoice["Id"], "Create"), ("Invoice", invoice["Id"], "Update")]
    for entity in note["dataChangeEvent"]["entities"]:
        assert set(entity) == {"name", "id", "operation", "lastUpdated"}
        assert UTC_MILLIS.match(entity["lastUpdated"])


def test_cloudevents_payload(api, sandbox, receiver):
    configure(sandbox, receiver, payload="cloudevents")
    invoice = api.invoice(api.customer_id)
    voided = api.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, operation="void")
    assert voided.status_code == 200

    (delivery,) = sandbox.webhooks.flush()

    headers, body = receiver.requests[0]
    assert headers["intuit-signature"] == signature(TOKEN, body) == delivery.signature
    events = json.loads(body)
    assert isinstance(events, list)
    assert [e["type"] for e in events] == ["qbo.invoice.created.v1", "qbo.invoice.void.v1"]
    for event in events:
        assert set(event) == {"specversion", "id", "source", "type", "datacontenttype", "time", "intuitentityid",
                              "intuitaccountid", "data"}
        assert event["specversion"] == "1.0" and event["datacontenttype"] == "application/json"
        uuid.UUID(event["id"])
        assert event["source"].startswith("intuit.")
        assert UTC_MILLIS.match(event["time"])
        assert (event["intuitentityid"], event["intuitaccountid"], event["data"]) == (invoice["Id"],
                                                                                     sandbox.realm_id, {})
    assert len({e["id"] for e in events}) == 2


def test_background_delivery_without_flush(api, sandbox, receiver):
    sandbox.webhooks.configure(receiver.url, TOKEN, batch_window=0.05)
    api.customer("Walk-in")
    assert receiver.wait_for(1, timeout=5)
    assert entities(sandbox.webhooks.deliveries[0]) == [("Customer", str(int(api.customer_id) + 1), "Create")]


def test_a_notification_carries_at_most_max_batch_events(api, sandbox, receiver):
    configure(sandbox, receiver, max_batch=2)
    for name in ("A", "B", "C", "D", "E"):
        api.customer(name)
    made = sandbox.webhooks.flush()
    assert [d.events for d in made] == [2, 2, 1]
    assert [e[0] for d in made for e in entities(d)] == ["Customer"] * 5


def test_changes_are_only_announced_while_subscribed(api, sandbox, receiver):
    api.customer("Before")
    configure(sandbox, receiver)
    api.customer("During")
    sandbox.webhooks.disable()
    api.customer("After")
    assert sandbox.webhooks.flush() == []
    assert receiver.requests == []


def test_failed_and_replayed_writes_announce_nothing_extra(api, sandbox, receiver):
    configure(sandbox, receiver)
    api.invoice(api.customer_id, DocNumber="A-1")
    duplicate = api.post("invoice", {"CustomerRef": {"value": api.customer_id}, "DocNumber": "A-1",
                                     "Line": [{"Amount": "5.00", "DetailType": "SalesItemLineDetail",
                                               "SalesItemLineDetail": {"ItemRef": {"value": api.item_id}}}]})
    assert duplicate.status_code == 400
    for _ in range(2):  # the same requestid twice: one customer, one event
        assert api.post("customer", {"DisplayName": "Once"}, requestid="rid-1").status_code == 200
    (delivery,) = sandbox.webhooks.flush()
    assert [(name, op) for name, _, op in entities(delivery)] == [("Invoice", "Create"), ("Customer", "Create")]


# --- retries, redelivery, tampering -----------------------------------------------------------------------------


def test_a_500_is_retried_with_the_same_bytes(api, sandbox, receiver):
    configure(sandbox, receiver)
    receiver.statuses = [500, 503]
    api.customer("Retry")

    (delivery,) = sandbox.webhooks.flush()

    assert (delivery.state, delivery.attempts, delivery.status) == ("delivered", 3, 200)
    assert [a.status for a in delivery.history] == [500, 503, 200]
    assert len(set(receiver.bodies())) == 1
    assert {h["intuit-signature"] for h, _ in receiver.requests} == {delivery.signature}


def test_an_unreachable_endpoint_fails_after_the_retries(api, sandbox):
    sandbox.webhooks.configure(free_port_url(), TOKEN, batch_window=60, retry_delays=[0, 0.01])
    api.customer("Nobody home")
    (delivery,) = sandbox.webhooks.flush()
    assert (delivery.state, delivery.attempts, delivery.status) == ("failed", 3, None)
    assert delivery.history[-1].error


def test_redeliver_last_repeats_deliveries_byte_for_byte(api, sandbox, receiver):
    configure(sandbox, receiver)
    api.customer("One")
    sandbox.webhooks.flush()
    api.customer("Two")
    first, second = sandbox.webhooks.deliveries[0], sandbox.webhooks.flush()[0]

    repeats = sandbox.webhooks.redeliver_last(2)

    assert [(d.kind, d.redelivery_of, d.status) for d in repeats] == [("redelivery", first.id, 200),
                                                                       ("redelivery", second.id, 200)]
    assert receiver.bodies() == [first.body, second.body, first.body, second.body]
    assert [h["intuit-signature"] for h, _ in receiver.requests[2:]] == [first.signature, second.signature]


def test_send_raw_can_tamper_with_a_delivery(api, sandbox, receiver):
    configure(sandbox, receiver)
    receiver.verify = ("intuit-signature", TOKEN)
    api.customer("Genuine")
    (original,) = sandbox.webhooks.flush()
    assert original.status == 200

    tampered = original.body.replace(b'"Create"', b'"Delete"')
    forged = sandbox.webhooks.send_raw(tampered, signature=original.signature)
    resigned = sandbox.webhooks.send_raw(tampered)  # signature=None: signed correctly

    assert forged.status == 401 and forged.attempts == 1 and forged.kind == "raw"
    assert resigned.status == 200
    assert receiver.requests[1][1] == tampered


# --- acting as a person in the QBO UI, seen by webhooks and CDC -------------------------------------------------


def cdc(api: Api, entities_: str, since: str) -> dict:
    response = requests.get(f"{api.base}/cdc", params={"entities": entities_, "changedSince": since},
                            headers=api.headers(), timeout=5)
    assert response.status_code == 200, response.text
    groups = response.json()["CDCResponse"][0]["QueryResponse"]
    return {name: rows for group in groups for name, rows in group.items() if isinstance(rows, list)}


def test_payment_recorded_in_the_ui(api, sandbox, clock, receiver):
    invoice = api.invoice(api.customer_id, "100.00")
    clock.advance(5)
    since = iso_time(clock())
    configure(sandbox, receiver)

    payment = sandbox.store.record_payment_as_user(invoice["Id"], "40.00")

    after = sandbox.store.get("Invoice", invoice["Id"])
    assert (after["Balance"], after["SyncToken"]) == (60, str(int(invoice["SyncToken"]) + 1))
    assert after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    changed = cdc(api, "Payment,Invoice", since)
    assert [p["Id"] for p in changed["Payment"]] == [payment["Id"]]
    assert changed["Payment"][0]["Line"][0]["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    assert [(i["Id"], i["Balance"]) for i in changed["Invoice"]] == [(invoice["Id"], 60)]
    (delivery,) = sandbox.webhooks.flush()
    assert entities(delivery) == [("Payment", payment["Id"], "Create"), ("Invoice", invoice["Id"], "Update")]


def test_line_edited_in_the_ui(api, sandbox, clock, receiver):
    invoice = api.invoice(api.customer_id, "100.00")
    clock.advance(5)
    since = iso_time(clock())
    configure(sandbox, receiver)

    edited = sandbox.store.edit_invoice_line_as_user(invoice["Id"], 0, amount="120.00")

    line = edited["Line"][0]
    assert (line["Amount"], line["SalesItemLineDetail"]["Qty"], line["SalesItemLineDetail"]["UnitPrice"]) == (
        120, 1, 120)
    assert (edited["TotalAmt"], edited["Balance"], edited["SyncToken"]) == (120, 120, "1")
    assert [(i["Id"], i["TotalAmt"]) for i in cdc(api, "Invoice", since)["Invoice"]] == [(invoice["Id"], 120)]
    assert entities(sandbox.webhooks.flush()[0]) == [("Invoice", invoice["Id"], "Update")]


def test_invoice_voided_in_the_ui_unapplies_its_payment(api, sandbox, clock, receiver):
    invoice = api.invoice(api.customer_id, "100.00")
    payment = sandbox.store.record_payment_as_user(invoice["Id"])
    clock.advance(5)
    since = iso_time(clock())
    configure(sandbox, receiver)

    voided = sandbox.store.void_invoice_as_user(invoice["Id"])

    assert (voided["TotalAmt"], voided["Balance"], voided["PrivateNote"]) == (0, 0, "Voided")
    assert sandbox.store.get("Payment", payment["Id"])["UnappliedAmt"] == 100
    changed = cdc(api, "Invoice,Payment", since)
    assert [i["PrivateNote"] for i in changed["Invoice"]] == ["Voided"]
    assert [p["Id"] for p in changed["Payment"]] == [payment["Id"]]
    assert entities(sandbox.webhooks.flush()[0]) == [
        ("Payment", payment["Id"], "Update"), ("Invoice", invoice["Id"], "Update"), ("Invoice", invoice["Id"], "Void")]
    # the API itself still refuses to void an invoice with payments applied (6000)
    again = api.invoice(api.customer_id, "10.00")
    sandbox.store.record_payment_as_user(again["Id"])
    fresh = sandbox.store.get("Invoice", again["Id"])
    refused = api.post("invoice", {"Id": fresh["Id"], "SyncToken": fresh["SyncToken"]}, operation="void")
    assert refused.status_code == 400 and refused.json()["Fault"]["Error"][0]["code"] == "6000"


def test_payment_and_invoice_deleted_in_the_ui(api, sandbox, clock, receiver):
    invoice = api.invoice(api.customer_id, "100.00")
    payment = sandbox.store.record_payment_as_user(invoice["Id"], "25.00")
    clock.advance(5)
    since = iso_time(clock())
    configure(sandbox, receiver, payload="cloudevents")

    sandbox.store.delete_payment_as_user(payment["Id"])
    assert sandbox.store.get("Invoice", invoice["Id"])["Balance"] == 100
    sandbox.store.delete_invoice_as_user(invoice["Id"])

    changed = cdc(api, "Payment,Invoice", since)
    stamp = changed["Payment"][0]["MetaData"]["LastUpdatedTime"]
    assert changed["Payment"] == [{"domain": "QBO", "status": "Deleted", "Id": payment["Id"],
                                   "MetaData": {"LastUpdatedTime": stamp}}]
    assert [(i["Id"], i.get("status")) for i in changed["Invoice"]] == [(invoice["Id"], "Deleted")]
    events = sandbox.webhooks.flush()[0].payload
    assert [(e["type"], e["intuitentityid"]) for e in events] == [
        ("qbo.payment.deleted.v1", payment["Id"]), ("qbo.invoice.updated.v1", invoice["Id"]),
        ("qbo.invoice.deleted.v1", invoice["Id"])]


def test_payment_voided_in_the_ui(api, sandbox, receiver):
    invoice = api.invoice(api.customer_id, "100.00")
    payment = sandbox.store.record_payment_as_user(invoice["Id"], "100.00")
    configure(sandbox, receiver, payload="cloudevents")

    voided = sandbox.store.void_payment_as_user(payment["Id"])

    assert (voided["TotalAmt"], voided["SyncToken"]) == (0, "1")
    assert sandbox.store.get("Invoice", invoice["Id"])["Balance"] == 100
    assert [e["type"] for e in sandbox.webhooks.flush()[0].payload] == ["qbo.payment.void.v1",
                                                                        "qbo.invoice.updated.v1"]


def test_edit_as_user_and_store_write_announce_updates(api, sandbox, receiver):
    configure(sandbox, receiver)
    invoice = api.invoice(api.customer_id)
    sandbox.store.edit_as_user("Invoice", invoice["Id"], {"DueDate": "2030-01-31"})
    sandbox.store.write("Customer", {"DisplayName": "Direct"})
    assert [(n, op) for n, _, op in entities(sandbox.webhooks.flush()[0])] == [
        ("Invoice", "Create"), ("Invoice", "Update"), ("Customer", "Create")]
    assert sandbox.store.get("Invoice", invoice["Id"])["DueDate"] == "2030-01-31"


# --- control endpoints (a sandbox in another process) -----------------------------------------------------------


def test_control_endpoints(api, sandbox, receiver):
    control = f"{sandbox.base_url}/_sandbox"
    answer = requests.post(f"{control}/webhooks", json={"url": receiver.url, "key": TOKEN, "payload": "cloudevents",
                                                        "batch_window": 60, "retry_delays": []}, timeout=5)
    assert answer.status_code == 200
    config = answer.json()["config"]
    assert (config["url"], config["key_set"], config["payload"], config["batch_window"]) == (
        receiver.url, True, "cloudevents", 60)
    assert TOKEN not in answer.text
    assert requests.post(f"{control}/webhooks", json={"payload": "xml"}, timeout=5).status_code == 400

    invoice = api.invoice(api.customer_id, "50.00")
    paid = requests.post(f"{control}/as-user", json={"action": "record_payment", "invoice_id": invoice["Id"],
                                                     "amount": "50.00"}, timeout=5)
    assert paid.status_code == 200 and paid.json()["result"]["TotalAmt"] == 50
    edited = requests.post(f"{control}/as-user", json={"action": "edit_invoice_line", "invoice_id": invoice["Id"],
                                                       "line": 0, "amount": "10.00"}, timeout=5)
    assert edited.status_code == 400 and edited.json()["Fault"]["Error"][0]["code"] == "6000"  # paid: total < payment

    flushed = requests.post(f"{control}/webhooks/flush", timeout=5).json()["deliveries"]
    assert [d["state"] for d in flushed] == ["delivered"] and flushed[0]["events"] == 3
    again = requests.post(f"{control}/webhooks/redeliver", json={"n": 1}, timeout=5).json()["deliveries"]
    assert again[0]["body"] == flushed[0]["body"]
    raw = requests.post(f"{control}/webhooks/send-raw", json={"body": "[]", "signature": "bogus"}, timeout=5)
    assert raw.json()["delivery"]["signature"] == "bogus"
    state = requests.get(f"{control}/webhooks", timeout=5).json()
    assert [d["kind"] for d in state["deliveries"]] == ["event", "redelivery", "raw"]
    assert state["pending"] == 0
    assert requests.get(f"{control}/state", timeout=5).json()["webhooks"]["deliveries"] == 3
    assert requests.post(f"{control}/webhooks", json={"url": None}, timeout=5).json()["config"]["url"] is None


def test_reset_switches_webhooks_off(api, sandbox, receiver):
    configure(sandbox, receiver)
    api.customer("Pending")
    sandbox.reset()
    assert (sandbox.webhooks.enabled, sandbox.webhooks.pending, sandbox.webhooks.deliveries) == (False, 0, [])
    assert sandbox.webhooks.config()["payload"] == "classic"


def test_configure_rejects_bad_options(sandbox):
    for bad in ({"payload": "xml"}, {"batch_window": -1}, {"retry_delays": "fast"}, {"max_batch": 0},
                {"colour": "blue"}):
        with pytest.raises(ValueError):
            sandbox.webhooks.configure("http://127.0.0.1:9/x", TOKEN, **bad)
    with pytest.raises(ValueError):
        sandbox.webhooks.configure("ftp://example.invalid/", TOKEN)
    with pytest.raises(ValueError):
        sandbox.webhooks.configure("http://127.0.0.1:9/x", "")


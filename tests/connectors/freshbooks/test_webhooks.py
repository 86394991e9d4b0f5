"""FreshBooks webhooks (callbacks) end to end over loopback: registration, the verification request and the
verifier sent back, events as signed form posts, and the connector's ``verify_webhook`` / ``parse_webhook``.
``capabilities.webhooks`` stays false (see docs/connectors/freshbooks.md): these are the pieces, tested here."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from connectors.documents import Entity, Mapping
from connectors.errors import ValidationFailed
from connectors.freshbooks.connector import FreshBooksConnector
from tests.connectors.contract import customer, invoice


@pytest.fixture
def receiver():
    """A loopback endpoint that records every POST (headers and raw body) and answers 200."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append((dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", seen
    server.shutdown()
    server.server_close()


def form(body: bytes) -> dict:
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


def test_register_verify_then_signed_events_arrive_and_verify(fsandbox, connector, receiver):
    url, seen = receiver
    callback = connector.register_callback("invoice", url)
    assert callback["verified"] is False
    [(headers, body)] = seen
    handshake = form(body)
    assert handshake["name"] == "callback.verify" and handshake["object_id"] == str(callback["callbackid"])
    assert FreshBooksConnector.parse_webhook(body) == []  # the handshake announces no change
    with pytest.raises(ValidationFailed):
        connector.verify_callback(str(callback["callbackid"]), "not-the-verifier")
    client = customer()
    cust = connector.create(client, connector_mapping(), "k")
    assert fsandbox.notify() == []  # not verified yet: nothing delivered
    assert connector.verify_callback(str(callback["callbackid"]), handshake["verifier"])["verified"] is True
    doc = invoice(client.key, "HOOK-1")
    created = connector.create(doc, connector_mapping({client.key: cust.remote_id}, lines=1), "k2")
    sent = fsandbox.notify()
    assert [form(s["body"].encode())["name"] for s in sent] == ["invoice.create", "invoice.update"]
    headers, body = seen[1]
    verifier = handshake["verifier"]
    assert FreshBooksConnector.verify_webhook(headers, body, verifier)
    assert not FreshBooksConnector.verify_webhook(headers, body.replace(b"object_id=", b"object_id=9"), verifier)
    assert not FreshBooksConnector.verify_webhook(headers, body, f"not-{verifier}")
    assert not FreshBooksConnector.verify_webhook({}, body, verifier)
    [change] = FreshBooksConnector.parse_webhook(body)
    assert (change.entity, change.remote_id, change.operation, change.company_id) == (
        Entity.INVOICE, created.remote_id, "create", fsandbox.company_id)


def test_only_the_registered_events_are_sent(fsandbox, connector, receiver):
    url, seen = receiver
    callback = connector.register_callback("payment.create", url)
    connector.verify_callback(str(callback["callbackid"]), form(seen[0][1])["verifier"])
    client = customer()
    cust = connector.create(client, connector_mapping(), "k")
    connector.create(invoice(client.key, "HOOK-2"), connector_mapping({client.key: cust.remote_id}, lines=1), "k2")
    assert fsandbox.notify() == []
    assert len(seen) == 1


def test_a_body_that_is_no_freshbooks_webhook_is_refused():
    with pytest.raises(ValueError):
        FreshBooksConnector.parse_webhook(b'{"name": "invoice.create"}')
    with pytest.raises(ValueError):
        FreshBooksConnector.parse_webhook(b"name=invoice.create")
    assert FreshBooksConnector.parse_webhook(b"name=expense.create&object_id=5&account_id=x") == []
    assert not FreshBooksConnector.verify_webhook({"X-FreshBooks-Hmac-SHA256": "x"}, b"\xff", "secret")


def connector_mapping(refs=None, lines=0):
    return Mapping(line_accounts=(None,) * lines, refs=dict(refs or {}))


"""Xero sandbox webhooks, intent to receive, If-Modified-Since polling and the "as a person in Xero" helpers.

Real loopback HTTP both ways: the sandbox POSTs to a tiny standard-library receiver. Signatures are checked
with the documented algorithm, computed here: base64(HMAC-SHA256(webhook key, raw body)). Payloads are
validated against the component schemas of Xero's ``xero-webhooks.yaml``, vendored in ``connectors/xero/spec/``;
a missing spec (or a missing jsonschema / PyYAML) fails those tests, it never skips them.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

import pytest
import requests

from connectors.xero.sandbox import XeroSandbox, schema

from ..qbo.test_sandbox_webhooks import Receiver, free_port_url, signature
from tests.connectors.sandbox_clock import Clock

from .test_sandbox import Api, line

KEY = "webhook-key-for-tests"
HEADER = "x-xero-signature"
NO_WAIT = {"batch_window": 60, "retry_delays": [0, 0]}  # only flush() sends; retries are immediate
SPEC = schema.SPEC_DIR / "xero-webhooks.yaml"


@functools.cache
def validators() -> dict[str, Any]:
    """Validators for the webhook payload schemas; a missing spec or library fails the calling test loudly."""
    import jsonschema  # the test extra installs both: their absence is a failure, not a skip
    import yaml

    assert SPEC.is_file(), ("xero-webhooks.yaml is missing from connectors/xero/spec/: the webhook checks need the "
                            "vendored spec (restore the folder from version control)")
    components = yaml.safe_load(SPEC.read_text(encoding="utf-8"))["components"]
    formats = jsonschema.FormatChecker(formats=("uuid",))
    return {name: jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": components},
                                                  format_checker=formats)
            for name in ("WebhookEvent", "CreditNoteWebhookEvent")}


def schema_errors(name: str, payload: Any) -> list[str]:
    return [error.message for error in validators()[name].iter_errors(payload)]


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
    sb = XeroSandbox(clock=clock).start()
    yield sb
    sb.stop()


@pytest.fixture
def api(sandbox):
    sandbox.reset()
    sandbox.limits.off()
    client = Api(sandbox)
    client.contact_id = client.contact("Acme Ltd")["ContactID"]
    yield client
    sandbox.reset()  # also switches webhooks off


def configure(sandbox: XeroSandbox, receiver: Receiver, **options) -> None:
    sandbox.webhooks.configure(receiver.url, KEY, **{**NO_WAIT, **options})


def summary(payload: dict) -> list[tuple[str, str, str]]:
    return [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in payload["events"]]


# --- payloads -----------------------------------------------------------------------------------------------


def test_payload_is_signed_and_shaped_like_xero(api, sandbox, receiver):
    configure(sandbox, receiver)
    invoice = api.invoice(api.contact_id)
    assert receiver.requests == []

    (delivery,) = sandbox.webhooks.flush()

    headers, body = receiver.requests[0]
    assert headers[HEADER] == signature(KEY, body) == delivery.signature
    payload = json.loads(body)
    assert set(payload) == {"events", "firstEventSequence", "lastEventSequence", "entropy"}
    assert payload["lastEventSequence"] - payload["firstEventSequence"] + 1 == len(payload["events"]) == 1
    assert payload["entropy"].isalpha() and len(payload["entropy"]) == 20
    (event,) = payload["events"]
    assert event == {"resourceUrl": f"{sandbox.api_base}/Invoices/{invoice['InvoiceID']}",
                     "resourceId": invoice["InvoiceID"], "eventDateUtc": event["eventDateUtc"],
                     "eventType": "CREATE", "eventCategory": "INVOICE", "tenantId": sandbox.tenant_id,
                     "tenantType": "ORGANISATION"}
    stamp = dt.datetime.strptime(event["eventDateUtc"], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=dt.UTC)
    updated = int(invoice["UpdatedDateUTC"][6:-7])  # /Date(ms+0000)/
    assert round(stamp.timestamp() * 1000) == updated
    # the resource URL is where a receiver re-fetches the invoice
    fetched = requests.get(event["resourceUrl"], headers=api.headers(), timeout=5)
    assert fetched.json()["Invoices"][0]["InvoiceID"] == invoice["InvoiceID"]


def test_payloads_validate_against_the_webhooks_spec(api, sandbox, receiver):
    configure(sandbox, receiver)
    invoice = api.invoice(api.contact_id)
    api.put("Contacts", {"Name": "New Co"})
    note = api.ok(api.put("CreditNotes", {"Type": "ACCRECCREDIT", "Contact": {"ContactID": api.contact_id},
                                          "Status": "AUTHORISED", "LineItems": [line(10)]}), "CreditNotes")
    sandbox.store.record_payment_as_user(invoice["InvoiceID"], 10)

    payload = sandbox.webhooks.flush()[0].payload

    assert schema_errors("WebhookEvent", payload) == []
    assert [e["eventCategory"] for e in payload["events"]] == ["INVOICE", "CONTACT", "CREDITNOTE", "INVOICE"]
    notes = {**payload, "events": [e for e in payload["events"] if e["eventCategory"] == "CREDITNOTE"]}
    assert schema_errors("CreditNoteWebhookEvent", notes) == []
    assert notes["events"][0]["data"] == {"Type": "ACCRECCREDIT", "Status": "AUTHORISED"}
    assert note["CreditNoteID"] == notes["events"][0]["resourceId"]
    broken = {**payload, "events": [{**payload["events"][0], "eventType": "DELETE"}]}
    assert schema_errors("WebhookEvent", broken)  # the validator does bite


def test_sequence_numbers_run_on_across_deliveries(api, sandbox, receiver):
    configure(sandbox, receiver, max_batch=2)
    for name in ("A", "B", "C"):
        api.contact(name)
    first, second = sandbox.webhooks.flush()
    api.contact("D")
    (third,) = sandbox.webhooks.flush()
    ranges = [(d.payload["firstEventSequence"], d.payload["lastEventSequence"], len(d.payload["events"]))
              for d in (first, second, third)]
    start = ranges[0][0]
    assert ranges == [(start, start + 1, 2), (start + 2, start + 2, 1), (start + 3, start + 3, 1)]
    sandbox.reset()  # a reset never restarts the sequence
    configure(sandbox, receiver)
    api.contact("E")
    assert sandbox.webhooks.flush()[0].payload["firstEventSequence"] == start + 4


def test_what_is_announced(api, sandbox, receiver):
    configure(sandbox, receiver)
    # the known contact becomes a customer without a CONTACT event: Xero leaves its UpdatedDateUTC alone
    invoice = api.invoice(api.contact_id)
    named = api.ok(api.put("Invoices", {"Type": "ACCREC", "Contact": {"Name": "Walk-in"}, "Status": "DRAFT",
                                        "LineItems": [line(5)]}), "Invoices")  # an unknown name: a new contact
    payment = api.ok(api.pay(invoice["InvoiceID"], 20), "Payments")
    api.call("PUT", "Items", {"Items": [{"Code": "W1", "Name": "Widget"}]})

    payload = sandbox.webhooks.flush()[0].payload

    walk_in = named["Contact"]["ContactID"]
    assert summary(payload) == [("INVOICE", "CREATE", invoice["InvoiceID"]), ("CONTACT", "CREATE", walk_in),
                                ("INVOICE", "CREATE", named["InvoiceID"]), ("INVOICE", "UPDATE", invoice["InvoiceID"])]
    assert payment["PaymentID"] not in {e["resourceId"] for e in payload["events"]}  # no PAYMENT category


def test_failed_requests_announce_nothing(api, sandbox, receiver):
    configure(sandbox, receiver)
    good, bad = line(10), line(10, account="999")
    refused = api.put("Invoices", {"Type": "ACCREC", "Contact": {"ContactID": api.contact_id}, "LineItems": [good]},
                      {"Type": "ACCREC", "Contact": {"Name": "Ghost"}, "LineItems": [bad]})
    assert refused.status_code == 400
    mixed = api.put("Invoices", {"Type": "ACCREC", "Contact": {"ContactID": api.contact_id}, "LineItems": [good]},
                    {"Type": "ACCREC", "Contact": {"Name": "Ghost"}, "LineItems": [bad]}, summarizeErrors="false")
    saved = [row for row in mixed.json()["Invoices"] if row["StatusAttributeString"] == "OK"]

    payload = sandbox.webhooks.flush()[0].payload

    assert summary(payload) == [("INVOICE", "CREATE", saved[0]["InvoiceID"])]  # not the Ghost contact either


# --- retries, disabling, duplicates, tampering --------------------------------------------------------------


def test_a_500_is_retried(api, sandbox, receiver):
    configure(sandbox, receiver)
    receiver.statuses = [500]
    api.contact("Retry")
    (delivery,) = sandbox.webhooks.flush()
    assert (delivery.state, delivery.attempts, [a.status for a in delivery.history]) == ("delivered", 2, [500, 200])
    assert len(set(receiver.bodies())) == 1


def test_a_webhook_that_keeps_failing_is_disabled_until_it_passes_intent_to_receive(api, sandbox, receiver):
    configure(sandbox, receiver)
    receiver.statuses = [500, 500, 500]
    api.contact("Doomed")
    (delivery,) = sandbox.webhooks.flush()
    assert (delivery.state, delivery.attempts) == ("failed", 3)
    assert sandbox.webhooks.status == "DISABLED"
    api.contact("Unheard")
    assert sandbox.webhooks.pending == 0 and sandbox.webhooks.flush() == []

    receiver.verify = (HEADER, KEY)
    assert sandbox.webhooks.intent_to_receive()["passed"]
    assert sandbox.webhooks.status == "OK"
    api.contact("Heard")
    assert [e["eventType"] for e in sandbox.webhooks.flush()[0].payload["events"]] == ["CREATE"]


def test_an_unreachable_endpoint_is_logged(api, sandbox):
    sandbox.webhooks.configure(free_port_url(), KEY, batch_window=60, retry_delays=[])
    api.contact("Nobody")
    (delivery,) = sandbox.webhooks.flush()
    assert (delivery.state, delivery.status, delivery.attempts) == ("failed", None, 1)
    assert "Connection" in delivery.history[0].error or "refused" in delivery.history[0].error


def test_redelivery_is_an_exact_duplicate(api, sandbox, receiver):
    configure(sandbox, receiver)
    api.contact("Twice")
    (original,) = sandbox.webhooks.flush()
    (repeat,) = sandbox.webhooks.redeliver_last()
    assert (repeat.kind, repeat.redelivery_of, repeat.ok) == ("redelivery", original.id, True)
    (h1, b1), (h2, b2) = receiver.requests
    assert b1 == b2 and h1[HEADER] == h2[HEADER] == signature(KEY, b1)
    assert json.loads(b2)["firstEventSequence"] == original.payload["firstEventSequence"]


def test_tampered_delivery_is_refused_by_a_verifying_receiver(api, sandbox, receiver):
    configure(sandbox, receiver)
    receiver.verify = (HEADER, KEY)
    api.contact("Original")
    (original,) = sandbox.webhooks.flush()
    tampered = original.body.replace(b'"CREATE"', b'"UPDATE"')
    assert sandbox.webhooks.send_raw(tampered, signature=original.signature).status == 401
    assert sandbox.webhooks.send_raw(tampered, signature="").status == 401
    assert sandbox.webhooks.send_raw(tampered).status == 200


# --- intent to receive --------------------------------------------------------------------------------------


def test_intent_to_receive_passes_a_correct_receiver(api, sandbox, receiver):
    configure(sandbox, receiver)
    receiver.verify = (HEADER, KEY)

    report = sandbox.webhooks.intent_to_receive()

    assert report["passed"] and report["status"] == "OK"
    assert [(c["signed"], c["status"], c["passed"]) for c in report["checks"]] == [
        ("correctly", 200, True), ("incorrectly", 401, True), ("correctly", 200, True)]
    bodies = [json.loads(body) for body in receiver.bodies()]
    assert all(b["events"] == [] and b["firstEventSequence"] == b["lastEventSequence"] == 0 for b in bodies)
    good, bad = receiver.requests[0], receiver.requests[1]
    assert good[0][HEADER] == signature(KEY, good[1])
    assert bad[0][HEADER] != signature(KEY, bad[1])
    assert [d.kind for d in sandbox.webhooks.deliveries] == ["intent"] * 3
    assert schema_errors("WebhookEvent", bodies[0])  # Xero's own spec says sequences start at 1; its ITR sends 0


def test_intent_to_receive_fails_a_receiver_that_accepts_everything(api, sandbox, receiver):
    configure(sandbox, receiver)
    report = sandbox.webhooks.intent_to_receive()
    assert not report["passed"]
    assert [c["passed"] for c in report["checks"]] == [True, False, True]


def test_intent_to_receive_wants_an_empty_body(api, sandbox, receiver):
    configure(sandbox, receiver)
    receiver.verify = (HEADER, KEY)
    receiver.reply = b'{"ok": true}'
    report = sandbox.webhooks.intent_to_receive()
    assert not report["passed"]
    assert [(c["status"], c["empty_body"]) for c in report["checks"]] == [(200, False), (401, True), (200, False)]


# --- polling: If-Modified-Since sees what a person did in Xero ----------------------------------------------


def modified_since(api: Api, collection: str, since: str) -> list[dict]:
    response = api.call("GET", collection, headers={"If-Modified-Since": since})
    assert response.status_code == 200, response.text
    return response.json()[collection]


def test_if_modified_since_reports_changes_made_in_the_ui(api, sandbox, clock, receiver):
    paid = api.invoice(api.contact_id, line(100))
    edited = api.invoice(api.contact_id, line(50))
    voided = api.invoice(api.contact_id, line(30))
    untouched = api.invoice(api.contact_id, line(20))
    note = api.ok(api.put("CreditNotes", {"Type": "ACCRECCREDIT", "Contact": {"ContactID": api.contact_id},
                                          "Status": "AUTHORISED", "LineItems": [line(10)]}), "CreditNotes")
    clock.advance(60)
    since = dt.datetime.fromtimestamp(clock() - 30, dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    configure(sandbox, receiver)

    payment = sandbox.store.record_payment_as_user(paid["InvoiceID"], 40)
    sandbox.store.edit_invoice_line_as_user(edited["InvoiceID"], 0, amount=80)
    sandbox.store.void_invoice_as_user(voided["InvoiceID"])
    sandbox.store.edit_as_user("CreditNotes", note["CreditNoteID"], {"Reference": "per phone call"})
    sandbox.store.edit_as_user("Contacts", api.contact_id, {"EmailAddress": "ap@acme.test"})

    invoices = {row["InvoiceID"]: row for row in modified_since(api, "Invoices", since)}
    assert set(invoices) == {paid["InvoiceID"], edited["InvoiceID"], voided["InvoiceID"]}
    assert untouched["InvoiceID"] not in invoices
    after = invoices[paid["InvoiceID"]]
    assert (after["AmountPaid"], after["AmountDue"], after["Status"]) == (40, 70, "AUTHORISED")
    assert after["UpdatedDateUTC"] != paid["UpdatedDateUTC"]
    assert [p["PaymentID"] for p in after["Payments"]] == [payment["PaymentID"]]
    assert (invoices[edited["InvoiceID"]]["SubTotal"], invoices[edited["InvoiceID"]]["Total"]) == (80, 88)
    assert invoices[voided["InvoiceID"]]["Status"] == "VOIDED"
    payments = modified_since(api, "Payments", since)
    assert [(p["PaymentID"], p["Invoice"]["InvoiceID"], p["Amount"]) for p in payments] == [
        (payment["PaymentID"], paid["InvoiceID"], 40)]
    assert [n["Reference"] for n in modified_since(api, "CreditNotes", since)] == ["per phone call"]
    assert [c["ContactID"] for c in modified_since(api, "Contacts", since)] == [api.contact_id]
    # and each change was announced
    assert summary(sandbox.webhooks.flush()[0].payload) == [
        ("INVOICE", "UPDATE", paid["InvoiceID"]), ("INVOICE", "UPDATE", edited["InvoiceID"]),
        ("INVOICE", "UPDATE", voided["InvoiceID"]), ("CREDITNOTE", "UPDATE", note["CreditNoteID"]),
        ("CONTACT", "UPDATE", api.contact_id)]


def test_payment_removed_and_draft_deleted_in_the_ui(api, sandbox, clock, receiver):
    invoice = api.invoice(api.contact_id, line(100))
    draft = api.invoice(api.contact_id, line(10), Status="DRAFT")
    payment = sandbox.store.record_payment_as_user(invoice["InvoiceID"])
    assert sandbox.store.get("Invoices", invoice["InvoiceID"])["Status"] == "PAID"
    clock.advance(60)
    since = dt.datetime.fromtimestamp(clock() - 30, dt.UTC).isoformat()
    configure(sandbox, receiver)

    removed = sandbox.store.delete_payment_as_user(payment["PaymentID"])
    deleted = sandbox.store.delete_invoice_as_user(draft["InvoiceID"])

    assert removed["Status"] == "DELETED" and deleted["Status"] == "DELETED"
    reopened = sandbox.store.get("Invoices", invoice["InvoiceID"])
    assert (reopened["Status"], reopened["AmountDue"], reopened["AmountPaid"]) == ("AUTHORISED", 110, 0)
    assert [p["Status"] for p in modified_since(api, "Payments", since)] == ["DELETED"]
    assert {i["InvoiceID"]: i["Status"] for i in modified_since(api, "Invoices", since)} == {
        invoice["InvoiceID"]: "AUTHORISED", draft["InvoiceID"]: "DELETED"}
    assert summary(sandbox.webhooks.flush()[0].payload) == [("INVOICE", "UPDATE", invoice["InvoiceID"]),
                                                           ("INVOICE", "UPDATE", draft["InvoiceID"])]


def test_the_ui_follows_xeros_rules(api, sandbox):
    from connectors.xero.sandbox import XeroError

    invoice = api.invoice(api.contact_id, line(100))
    sandbox.store.record_payment_as_user(invoice["InvoiceID"], 10)
    for change in (lambda: sandbox.store.void_invoice_as_user(invoice["InvoiceID"]),
                   lambda: sandbox.store.edit_invoice_line_as_user(invoice["InvoiceID"], 0, amount=5),
                   lambda: sandbox.store.delete_invoice_as_user(invoice["InvoiceID"])):
        with pytest.raises(XeroError):
            change()
    with pytest.raises(LookupError):
        sandbox.store.record_payment_as_user("no-such-invoice")


# --- control endpoints (a sandbox in another process) -------------------------------------------------------


def test_control_endpoints(api, sandbox, receiver):
    control = f"{sandbox.base_url}/_sandbox"
    receiver.verify = (HEADER, KEY)
    answer = requests.post(f"{control}/webhooks", json={"url": receiver.url, "key": KEY, "batch_window": 60},
                           timeout=5)
    assert answer.status_code == 200 and answer.json()["config"]["status"] == "OK"
    assert KEY not in answer.text

    itr = requests.post(f"{control}/webhooks/intent-to-receive", timeout=5).json()
    assert itr["passed"] is True
    invoice = api.invoice(api.contact_id, line(100))
    paid = requests.post(f"{control}/as-user", json={"action": "record_payment", "invoice_id": invoice["InvoiceID"],
                                                     "amount": 25.5}, timeout=5)
    assert paid.status_code == 200 and paid.json()["result"]["Amount"] == 25.5
    refused = requests.post(f"{control}/as-user", json={"action": "void_invoice", "invoice_id": invoice["InvoiceID"]},
                            timeout=5)
    assert refused.status_code == 400 and refused.json()["ErrorNumber"] == 10
    missing = requests.post(f"{control}/as-user", json={"action": "void_invoice", "invoice_id": "nope"}, timeout=5)
    assert missing.status_code == 404

    flushed = requests.post(f"{control}/webhooks/flush", timeout=5).json()["deliveries"]
    assert [(d["state"], d["events"]) for d in flushed] == [("delivered", 2)]
    requests.post(f"{control}/webhooks/redeliver", json={"n": 1}, timeout=5)
    state = requests.get(f"{control}/webhooks", timeout=5).json()
    assert [d["kind"] for d in state["deliveries"]] == ["intent"] * 3 + ["event", "redelivery"]
    assert requests.get(f"{control}/state", timeout=5).json()["webhooks"]["status"] == "OK"


def test_other_organisations_are_announced_too(api, sandbox, receiver):
    second = sandbox.add_tenant("Second Org")
    configure(sandbox, receiver)
    contact = sandbox.stores[second].write("Contacts", [{"Name": "Elsewhere"}], method="PUT")[0]
    (event,) = sandbox.webhooks.flush()[0].payload["events"]
    assert (event["tenantId"], event["resourceId"]) == (second, contact["ContactID"])

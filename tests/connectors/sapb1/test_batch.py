"""SAP Business One's ``$batch`` (OData multipart batch) against the Service Layer sandbox: many documents in one
request, each in a change set of its own; a refused one fails alone; a number another live document holds is
refused and the copy cancelled; searches in one request; a change set is all or nothing in the sandbox."""
import uuid
from decimal import Decimal

import requests

from connectors import multipart
from connectors.base import BatchOp
from connectors.documents import Allocation, Entity, Mapping
from connectors.errors import DuplicateError, RemoteNotFound, SyncError
from tests.connectors.contract import credit_note, customer, expense, invoice, journal
from tests.connectors.sapb1.test_connector import connect, mapping, sent_invoice


def _number() -> str:
    return f"B-{uuid.uuid4().hex[:6]}"


def _batches(conn) -> list[dict]:
    return [e for e in conn.exchanges() if e["path"].startswith("/$batch")]


def test_five_invoices_go_in_one_batch_and_a_refused_one_fails_alone(slsandbox):
    conn = connect(slsandbox)
    cust = customer()
    made = conn.create(cust, mapping(conn), "c")
    m = mapping(conn, {cust.key: made.remote_id})
    docs = [invoice(cust.key, _number(), (f"{10 * (n + 1)}.00",)) for n in range(5)]
    ops = [BatchOp("create", doc, m, f"k{n}") for n, doc in enumerate(docs)]
    stranger = mapping(conn, {cust.key: "CNOBODY"})
    ops[2] = BatchOp("create", docs[2], stranger, "k2")  # a customer Business One does not know
    before = len(conn.exchanges())
    outcomes = conn.write_batch(ops)
    sent = conn.exchanges()[before:]
    assert [e["path"] for e in sent] == ["/$batch", "/$batch"]  # the adds, then the searches for their numbers
    assert isinstance(outcomes[2], SyncError) and "Invalid BP code" in outcomes[2].message
    for n in (0, 1, 3, 4):
        assert outcomes[n].number == docs[n].number and outcomes[n].total == Decimal(f"{10 * (n + 1)}.00")
        assert conn.fetch(Entity.INVOICE, outcomes[n].remote_id).status == "active"
    assert len(slsandbox.store.rows("Invoices")) == 4  # the refused change set left nothing


def test_a_number_another_live_invoice_holds_is_refused_in_the_batch_and_the_copy_cancelled(slsandbox):
    conn = connect(slsandbox)
    doc, m, first = sent_invoice(conn)
    fresh = invoice(doc.customer_key, _number())
    outcomes = conn.write_batch([BatchOp("create", doc, m, "again"), BatchOp("create", fresh, m, "new")])
    assert isinstance(outcomes[0], DuplicateError) and f"DocEntry {first.remote_id}" in outcomes[0].message
    assert outcomes[1].number == fresh.number
    live = [r for r in slsandbox.store.rows("Invoices") if r.data.get("NumAtCard") == doc.number
            and r.data.get("Cancelled") != "tYES"]
    assert [r.id for r in live] == [first.remote_id]  # the copy was cancelled


def test_an_applied_credit_note_and_updates_go_one_by_one_beside_the_batch(slsandbox):
    conn = connect(slsandbox)
    doc, m, inv = sent_invoice(conn)
    refs = {**m.refs, doc.key: inv.remote_id}
    applied = credit_note(doc.customer_key, _number(), ("30.00",), (Allocation(doc.key, Decimal("30.00")),))
    plain = credit_note(doc.customer_key, _number(), ("20.00",))
    outcomes = conn.write_batch([BatchOp("create", applied, mapping(conn, refs), "a"),
                                 BatchOp("create", plain, mapping(conn, refs), "p")])
    assert [o.number for o in outcomes] == [applied.number, plain.number]
    assert conn.fetch(Entity.INVOICE, inv.remote_id).balance == Decimal("70.00")  # the reconciliation was made


def test_searches_for_many_documents_are_one_request(slsandbox):
    conn = connect(slsandbox)
    doc, m, first = sent_invoice(conn)
    missing = invoice(doc.customer_key, _number())
    before = len(conn.exchanges())
    found = conn.find_existing_many([(doc, m), (missing, m)])
    assert [e["path"] for e in conn.exchanges()[before:]] == ["/$batch"]
    assert found[0].remote_id == first.remote_id and found[0].adopted and found[1] is None


def _raw_batch(sandbox, groups, prefer=""):
    conn = connect(sandbox)
    session = conn.login().token
    content_type, body = multipart.encode_requests(groups)
    answer = requests.post(f"{sandbox.base_url}/b1s/v2/$batch", data=body, timeout=5,
                           headers={"Content-Type": content_type, "Cookie": f"B1SESSION={session}",
                                    **({"Prefer": prefer} if prefer else {})})
    assert answer.status_code == 202
    return multipart.decode_responses(answer.headers["Content-Type"], answer.content)


def _partner(code: str) -> multipart.SubRequest:
    return multipart.SubRequest("POST", "BusinessPartners", f'{{"CardCode":"{code}","CardName":"{code}",'
                                f'"CardType":"cCustomer"}}'.encode())


def test_a_change_set_is_all_or_nothing_and_the_batch_stops_at_a_failure_unless_asked_to_go_on(slsandbox):
    bad = multipart.SubRequest("POST", "Invoices", b'{"CardCode":"CNOBODY","DocumentLines":[]}')
    answers = _raw_batch(slsandbox, [[_partner("CA1"), bad], [_partner("CA2")]])
    assert len(answers) == 1 and answers[0].status == 400  # the failed change set's one response; then it stopped
    assert b"Invalid BP code" in answers[0].body
    assert slsandbox.store.find("BusinessPartners", "CA1") is None  # rolled back with its change set
    assert slsandbox.store.find("BusinessPartners", "CA2") is None  # never reached
    answers = _raw_batch(slsandbox, [[_partner("CB1"), bad], [_partner("CB2")],
                                     multipart.SubRequest("GET", "BusinessPartners('CB2')")],
                         prefer="odata.continue-on-error")
    assert answers[0].status == 400 and [a.status for a in answers[1]] == [201] and answers[2].status == 200
    assert slsandbox.store.find("BusinessPartners", "CB1") is None
    assert slsandbox.store.find("BusinessPartners", "CB2") is not None


def test_a_batch_without_a_session_is_refused_whole(slsandbox):
    content_type, body = multipart.encode_requests([[_partner("CC1")]])
    answer = requests.post(f"{slsandbox.base_url}/b1s/v2/$batch", data=body, timeout=5,
                           headers={"Content-Type": content_type})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == 301
    assert slsandbox.store.find("BusinessPartners", "CC1") is None


def test_a_lookup_the_batch_could_not_answer_raises_its_error(slsandbox):
    conn = connect(slsandbox)
    [answer] = conn.client.batch([("GET", "Invoices(999999)", None)])
    assert isinstance(answer, RemoteNotFound)


def test_expenses_and_journals_go_one_by_one_beside_the_batch(slsandbox):
    """Refunds, expenses and journals stay on the single path: only the invoices travel in a ``$batch``."""
    conn = connect(slsandbox)
    cust = customer()
    made = conn.create(cust, mapping(conn), "c")
    m = mapping(conn, {cust.key: made.remote_id})
    accounts = {name: pk for pk, name in conn.reference_data().accounts.items()}
    cost = Mapping(line_accounts=(accounts["Freight Expense"],), deposit_account=accounts["Bank Account"])
    entry = Mapping(line_accounts=(accounts["Bank Charges"], accounts["Bank Account"]))
    spent, posted = expense(_number()), journal(_number())
    ops = [BatchOp("create", invoice(cust.key, _number()), m, "i"), BatchOp("create", spent, cost, "e"),
           BatchOp("create", posted, entry, "j")]
    before = len(conn.exchanges())
    outcomes = conn.write_batch(ops)
    sent = [e["path"].split("?")[0] for e in conn.exchanges()[before:]]
    assert sent.count("/$batch") == 2 and "/VendorPayments" in sent and "/JournalEntries" in sent
    assert outcomes[1].number == spent.number and outcomes[1].total == Decimal("20.00")
    assert outcomes[2].number == posted.number and outcomes[2].total == Decimal("15.00")
    found = conn.find_existing_many([(spent, cost), (posted, entry)])
    assert [r.remote_id for r in found] == [outcomes[1].remote_id, outcomes[2].remote_id]

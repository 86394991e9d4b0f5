"""The NetSuite REST sandbox over real loopback HTTP: TBA and OAuth 2.0, 204 + Location, upsert by external id,
idempotency keys, the apply lists of payments and credit memos, deletes NetSuite refuses, SuiteQL paging, the
shared concurrency limit, and errors in NetSuite's shape."""
import datetime as dt
import threading
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from connectors.netsuite import tba
from connectors.sandboxkit.platform import Request
from tests.connectors.netsuite.conftest import NetSuite


def customer(ns, name="Acme Ltd", **extra):
    return ns.create("customer", {"companyName": name, "subsidiary": {"id": "1"}, **extra})


def invoice(ns, cust, *amounts, **extra):
    lines = [{"item": {"id": "201"}, "quantity": 1, "rate": str(a)} for a in amounts]
    return ns.create("invoice", {"entity": {"id": cust}, "item": {"items": lines}, **extra})


def error_of(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"type", "title", "status", "o:errorDetails"}
    assert body["status"] == status
    return body["o:errorDetails"][0]


def test_post_answers_204_with_location_and_get_reads_it_back(ns):
    cust = customer(ns, email="ap@acme.test")
    inv = invoice(ns, cust, "100.00", "20.50", tranId="INV-1")
    body = ns.get("invoice", inv)
    assert body["id"] == inv and body["tranId"] == "INV-1"
    assert body["entity"]["id"] == cust and body["entity"]["refName"] == "Acme Ltd"
    assert Decimal(str(body["total"])) == Decimal("120.50") == Decimal(str(body["amountRemaining"]))
    assert [line["line"] for line in body["item"]["items"]] == [1, 2]
    assert "items" not in ns.get("invoice", inv, expand=False)["item"]  # sublists are links unless expanded


def test_a_wrong_signature_a_wrong_realm_and_a_replayed_nonce_are_refused(ns, nsandbox):
    url = nsandbox.base_url + "/services/rest/record/v1/customer/1"
    good = dict(method="GET", url=url, account_id=nsandbox.account_id, consumer_key=ns.consumer[0],
                consumer_secret=ns.consumer[1], token_id=ns.token, token_secret=ns.secret,
                timestamp=int(nsandbox.clock()), nonce="n1")
    assert nsandbox.check_tba(_req(nsandbox, "GET", url), tba.authorization(**good)) is None
    assert nsandbox.check_tba(_req(nsandbox, "GET", url), tba.authorization(**good)) == "nonce used"
    assert nsandbox.check_tba(_req(nsandbox, "GET", url),
                              tba.authorization(**{**good, "nonce": "n2", "token_secret": "x"})) == "signature"
    assert nsandbox.check_tba(_req(nsandbox, "GET", url),
                              tba.authorization(**{**good, "nonce": "n3", "account_id": "999"})) == "realm"
    ns.secret = "wrong"
    detail = error_of(ns.call("GET", "record/v1/customer/1"), 401)
    assert detail["o:errorCode"] == "INVALID_LOGIN"


def _req(sb, method, url):
    parts = urlsplit(url)
    return Request({"HTTP_HOST": parts.netloc, "QUERY_STRING": parts.query}, method, parts.path, {})


def test_oauth2_bearer_tokens_work_beside_tba(ns, nsandbox):
    bearer = NetSuite(nsandbox, bearer=nsandbox.issue_tokens()["access_token"])
    assert customer(bearer)
    assert error_of(NetSuite(nsandbox, bearer="nope").call("GET", "record/v1/customer/1"), 401)


def test_upsert_by_external_id_creates_then_updates_the_same_record(ns):
    cust = customer(ns)
    body = {"entity": {"id": cust}, "item": {"items": [{"item": {"id": "201"}, "quantity": 2, "rate": "50"}]}}
    first = ns.call("PUT", "record/v1/invoice/eid:ours-1", body)
    assert first.status_code == 204
    rid = first.headers["Location"].rsplit("/", 1)[1]
    again = ns.call("PUT", "record/v1/invoice/eid:ours-1", {"memo": "changed"})
    assert again.headers["Location"].rsplit("/", 1)[1] == rid
    got = ns.call("GET", "record/v1/invoice/eid:ours-1").json()
    assert got["id"] == rid and got["memo"] == "changed" and got["externalId"] == "ours-1"
    patched = ns.call("PATCH", f"record/v1/invoice/{rid}", {"memo": "patched"})
    assert patched.status_code == 204 and patched.headers["Location"].endswith(f"/invoice/{rid}")
    detail = error_of(ns.call("POST", "record/v1/invoice", {**body, "externalId": "ours-1"}), 400)
    assert detail["o:errorPath"] == "externalId"


def test_a_repeated_idempotency_key_is_refused_with_the_first_location(ns, nsandbox):
    cust = customer(ns)
    body = {"entity": {"id": cust}, "item": {"items": [{"item": {"id": "201"}, "rate": "10"}]}}
    one = ns.create("invoice", body, **{"X-NetSuite-Idempotency-Key": "k-1"})
    again = ns.call("POST", "record/v1/invoice", body, headers={"X-NetSuite-Idempotency-Key": "k-1"})
    assert error_of(again, 400)["o:errorCode"] == "IDEMPOTENCY_ERROR"
    assert again.headers["Location"].endswith(f"/invoice/{one}")
    three = ns.create("invoice", body, **{"X-NetSuite-Idempotency-Key": "k-2"})
    assert three != one
    assert len(nsandbox.store.rows("invoice")) == 2


def test_payment_apply_list_lowers_the_amount_due_and_blocks_deleting_the_invoice(ns):
    cust = customer(ns)
    inv = invoice(ns, cust, "100.00")
    pay = ns.create("customerpayment", {"customer": {"id": cust}, "payment": "60.00", "account": {"id": "122"},
                                        "apply": {"items": [{"doc": {"id": inv}, "apply": True, "amount": "60.00"}]}})
    assert Decimal(str(ns.get("invoice", inv)["amountRemaining"])) == Decimal("40.00")
    applied = ns.get("customerpayment", pay)["apply"]["items"]
    assert applied[0]["doc"]["id"] == inv and Decimal(str(applied[0]["amount"])) == Decimal("60.00")
    detail = error_of(ns.call("DELETE", f"record/v1/invoice/{inv}"), 400)
    assert detail["o:errorCode"] == "USER_ERROR"
    too_much = {"customer": {"id": cust}, "payment": "50.00",
                "apply": {"items": [{"doc": {"id": inv}, "apply": True, "amount": "50.00"}]}}
    assert error_of(ns.call("POST", "record/v1/customerpayment", too_much), 400)["o:errorPath"].startswith("apply")
    assert ns.call("DELETE", f"record/v1/customerpayment/{pay}").status_code == 204
    assert ns.call("DELETE", f"record/v1/invoice/{inv}").status_code == 204
    assert error_of(ns.call("GET", f"record/v1/invoice/{inv}"), 404)["o:errorCode"] == "NONEXISTENT_ID"


def test_a_credit_memo_applied_to_an_invoice_settles_it_as_a_void_does(ns):
    cust = customer(ns)
    inv = invoice(ns, cust, "75.00")
    memo = ns.create("creditmemo", {"entity": {"id": cust}, "item": {"items": [{"item": {"id": "201"},
                                                                               "rate": "75.00"}]},
                                    "apply": {"items": [{"doc": {"id": inv}, "apply": True, "amount": "75.00"}]}})
    got = ns.get("invoice", inv)
    assert Decimal(str(got["amountRemaining"])) == 0 and got["status"]["refName"] == "Paid In Full"
    assert Decimal(str(ns.get("creditmemo", memo)["unapplied"])) == 0
    patched = ns.call("PATCH", f"record/v1/creditmemo/{memo}?replace=apply", {"apply": {"items": []}})
    assert patched.status_code == 204
    assert Decimal(str(ns.get("invoice", inv)["amountRemaining"])) == Decimal("75.00")


def test_patch_merges_sublist_lines_unless_told_to_replace_them(ns):
    cust = customer(ns)
    inv = invoice(ns, cust, "10.00", "20.00")
    ns.call("PATCH", f"record/v1/invoice/{inv}", {"item": {"items": [{"line": 2, "rate": "25.00"},
                                                                     {"item": {"id": "202"}, "rate": "5.00"}]}})
    assert [Decimal(str(x["amount"])) for x in ns.get("invoice", inv)["item"]["items"]] == [
        Decimal("10.00"), Decimal("25.00"), Decimal("5.00")]
    ns.call("PATCH", f"record/v1/invoice/{inv}?replace=item", {"item": {"items": [{"item": {"id": "202"},
                                                                                   "rate": "7.00"}]}})
    assert [Decimal(str(x["amount"])) for x in ns.get("invoice", inv)["item"]["items"]] == [Decimal("7.00")]


def test_errors_name_the_field_and_read_only_fields_are_refused(ns):
    cust = customer(ns)
    assert error_of(ns.call("POST", "record/v1/invoice", {"entity": {"id": cust}, "total": "5"}),
                    400)["o:errorPath"] == "total"
    assert error_of(ns.call("POST", "record/v1/invoice", {"entity": {"id": "999999"},
                                                          "item": {"items": [{"item": {"id": "201"}, "rate": "1"}]}}),
                    400)["o:errorPath"] == "entity"
    assert error_of(ns.call("POST", "record/v1/nosuchthing", {}), 404)["o:errorCode"] == "INVALID_RCRD_TYPE"


def test_suiteql_pages_with_limit_offset_has_more_and_next_links(ns, nsandbox):
    cust = customer(ns)
    ids = [invoice(ns, cust, str(n)) for n in range(1, 6)]
    q = "SELECT id, tranid, lastmodifieddate FROM transaction WHERE type = 'CustInvc' ORDER BY id"
    first = ns.suiteql(q, limit=2).json()
    assert first["hasMore"] is True and first["count"] == 2 and first["totalResults"] == 5
    assert any(link["rel"] == "next" and "offset=2" in link["href"] for link in first["links"])
    seen = [r["id"] for offset in (0, 2, 4) for r in ns.suiteql(q, limit=2, offset=offset).json()["items"]]
    assert seen == ids
    assert ns.suiteql(q, limit=2, offset=4).json()["hasMore"] is False
    nsandbox.clock.advance(120)
    ns.call("PATCH", f"record/v1/invoice/{ids[1]}", {"memo": "later"})
    stamp = sql_stamp(nsandbox.clock() - 60)
    changed = ns.suiteql("SELECT id FROM transaction WHERE lastmodifieddate >= "
                         f"TO_TIMESTAMP('{stamp}', 'YYYY-MM-DD HH24:MI:SS')").json()["items"]
    assert [r["id"] for r in changed] == [ids[1]]


def sql_stamp(epoch):
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_suiteql_needs_prefer_transient_and_a_query_it_understands(ns):
    response = ns.call("POST", "query/v1/suiteql", {"q": "SELECT id FROM transaction"})
    assert error_of(response, 400)["o:errorCode"] == "INVALID_CONTENT"
    assert error_of(ns.suiteql("DROP TABLE transaction"), 400)


def test_the_account_concurrency_limit_is_shared_by_every_caller(ns, nsandbox):
    nsandbox.concurrency = 1
    inside, release = threading.Event(), threading.Event()

    def hold(req):
        if req.method == "GET":
            inside.set()
            release.wait(5)
    nsandbox.on_request = hold
    answers = []
    first = threading.Thread(target=lambda: answers.append(ns.call("GET", "record/v1/account/54")))
    first.start()
    assert inside.wait(5)
    try:
        detail = error_of(ns.call("POST", "record/v1/customer", {"companyName": "B"}), 429)
        assert detail["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    finally:
        release.set()
        first.join(5)
        nsandbox.on_request = None
    assert answers[0].status_code == 200


@pytest.mark.parametrize("url, base", [
    ("https://1234567-SB1.suitetalk.api.netsuite.com:443/services/rest/record/v1/invoice?limit=5",
     "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1/invoice"),
    ("http://127.0.0.1:8791/services/rest/x", "http://127.0.0.1:8791/services/rest/x")])
def test_the_base_uri_follows_rfc_5849(url, base):
    assert tba.base_uri(url) == base
    assert tba.realm("1234567-sb1") == "1234567_SB1"


def test_what_a_person_does_in_the_ui(ns, nsandbox):
    cust = customer(ns)
    inv = invoice(ns, cust, "100.00", "50.00")
    pay = nsandbox.act_as_user("record_payment", invoice_id=inv, amount="30.00", reference="cheque 12")
    assert pay["memo"] == "cheque 12" and pay["apply"]["items"][0]["doc"]["id"] == inv
    edited = nsandbox.act_as_user("edit_invoice_line", invoice_id=inv, line=1, amount="70.00")
    assert Decimal(str(edited["total"])) == Decimal("170.00")
    assert Decimal(str(edited["amountRemaining"])) == Decimal("140.00")
    with pytest.raises(Exception, match="payments or credits applied"):  # NetSuite voids no paid invoice
        nsandbox.act_as_user("void_invoice", invoice_id=inv)
    with pytest.raises(Exception, match="dependent"):
        nsandbox.act_as_user("delete_invoice", invoice_id=inv)
    nsandbox.act_as_user("delete_payment", payment_id=pay["id"])
    assert error_of(ns.call("GET", f"record/v1/customerpayment/{pay['id']}"), 404)
    voided = nsandbox.act_as_user("void_invoice", invoice_id=inv)  # a direct void: kept, every amount zero
    assert voided["status"]["refName"] == "Voided" and Decimal(str(voided["total"])) == 0
    assert [Decimal(str(line["amount"])) for line in voided["item"]["items"]] == [0, 0]
    assert error_of(ns.call("PATCH", f"record/v1/invoice/{inv}", {"item": {"items": [
        {"item": {"id": "201"}, "rate": "5"}]}}), 400)["o:errorCode"] == "USER_ERROR"
    nsandbox.act_as_user("archive_account", account_id="122")
    other = invoice(ns, cust, "10.00")
    refused = ns.call("POST", "record/v1/customerpayment", {
        "customer": {"id": cust}, "payment": "10.00", "account": {"id": "122"},
        "apply": {"items": [{"doc": {"id": other}, "apply": True, "amount": "10.00"}]}})
    assert error_of(refused, 400)["o:errorPath"] == "account"


def test_lines_with_a_tax_code_carry_the_tax_netsuite_computes(ns):
    cust = customer(ns)
    inv = ns.create("invoice", {"entity": {"id": cust}, "item": {"items": [
        {"item": {"id": "201"}, "quantity": 1, "rate": "100.05", "taxCode": {"id": "31"}},
        {"item": {"id": "202"}, "quantity": 2, "rate": "10.00", "taxCode": {"id": "32"}},
        {"item": {"id": "202"}, "quantity": 1, "rate": "5.00"}]}})
    body = ns.get("invoice", inv)
    lines = body["item"]["items"]
    assert [Decimal(str(li.get("tax1Amt", 0))) for li in lines] == [Decimal("10.01"), 0, 0]  # per line, half up
    assert lines[0]["taxCode"]["refName"] == "Sales Tax 10%"
    assert Decimal(str(body["subtotal"])) == Decimal("125.05") and Decimal(str(body["taxTotal"])) == Decimal("10.01")
    assert Decimal(str(body["total"])) == Decimal("135.06") == Decimal(str(body["amountRemaining"]))
    refused = ns.call("POST", "record/v1/invoice", {"entity": {"id": cust}, "item": {"items": [
        {"item": {"id": "201"}, "rate": "1", "taxCode": {"id": "999"}}]}})
    assert error_of(refused, 400)["o:errorPath"] == "item.items[0].taxCode"


def test_suiteql_reads_accounts_currencies_tax_items_and_deletions(ns, nsandbox):
    rows = ns.suiteql("SELECT id, fullname, accttype FROM account WHERE isinactive = 'F'").json()["items"]
    assert {"id": "122", "fullname": "Undeposited Funds", "accttype": "OthCurrAsset", "links": []} in rows
    nsandbox.act_as_user("archive_account", account_id="57")
    rows = ns.suiteql("SELECT id FROM account WHERE isinactive = 'F'").json()["items"]
    assert "57" not in {r["id"] for r in rows}
    currencies = ns.suiteql("SELECT id, symbol, isbasecurrency FROM currency").json()["items"]
    assert [c["symbol"] for c in currencies if c["isbasecurrency"] == "T"] == ["USD"]
    taxes = ns.suiteql("SELECT id, itemid FROM salestaxitem WHERE isinactive = 'F'").json()["items"]
    assert {t["itemid"] for t in taxes} == {"Sales Tax 10%", "Tax Exempt"}
    cust = customer(ns)
    inv = invoice(ns, cust, "10.00")
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S")
    nsandbox.act_as_user("delete_invoice", invoice_id=inv)
    gone = ns.suiteql(f"SELECT recordid, type FROM deletedrecord WHERE type = 'invoice' AND deleteddate >= "
                      f"TO_TIMESTAMP('{since}', 'YYYY-MM-DD HH24:MI:SS')").json()["items"]
    assert [g["recordid"] for g in gone] == [inv]

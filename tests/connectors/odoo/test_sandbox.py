"""The Odoo sandbox against independent clients: Python's own ``xmlrpc.client`` (what Odoo's documentation uses)
for XML-RPC, plain ``requests`` for JSON-2; Odoo's rules and fault shapes."""
import xmlrpc.client
from decimal import Decimal

import pytest
import requests

from connectors.odoo import wire
from connectors.odoo.sandbox import API_KEY, DATABASE, LOGIN, UID, xmlrpc_proxy


@pytest.fixture
def odoo(osandbox):
    """``x(model, method, *args, **kwargs)`` through ``xmlrpc.client.ServerProxy`` as Odoo's documentation does."""
    common, models = xmlrpc_proxy(osandbox, "common"), xmlrpc_proxy(osandbox, "object")
    uid = common.authenticate(DATABASE, LOGIN, API_KEY, {})

    def x(model, method, *args, **kwargs):
        return models.execute_kw(DATABASE, uid, API_KEY, model, method, list(args), kwargs)
    return x


def account(x, code):
    return x("account.account", "search", [["code", "=", code]])[0]


def posted_invoice(x, price=100.0, ref="K1"):
    partner = x("res.partner", "create", {"name": "Ann"})
    move = x("account.move", "create", {"move_type": "out_invoice", "partner_id": partner, "ref": ref,
                                        "invoice_line_ids": [(0, 0, {"name": "Visit", "quantity": 1,
                                                                     "price_unit": price,
                                                                     "account_id": account(x, "400000")})]})
    x("account.move", "action_post", [move])
    return partner, move


def test_common_version_and_authenticate_as_documented(osandbox):
    common = xmlrpc_proxy(osandbox, "common")
    assert common.version()["server_version"] == "17.0"
    assert common.authenticate(DATABASE, LOGIN, API_KEY, {}) == UID
    assert common.authenticate(DATABASE, LOGIN, "wrong", {}) is False
    assert osandbox.token_calls == 2


def test_a_wrong_key_is_fault_3_access_denied(osandbox):
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc_proxy(osandbox, "object").execute_kw(DATABASE, UID, "wrong", "res.partner", "search", [[]])
    assert info.value.faultCode == 3 and info.value.faultString == "Access Denied"


def test_search_read_domains_many2one_and_false_for_empty(odoo):
    odoo("res.partner", "create", [{"name": "Ann", "email": "ann@example.com"}, {"name": "Bob"}])
    assert [p["name"] for p in odoo("res.partner", "search_read", ["|", ["name", "=", "Bob"],
                                                                   ["email", "ilike", "ANN@"]],
                                    fields=["name"], order="name desc")] == ["Bob", "Ann"]
    [bob] = odoo("res.partner", "search_read", [["name", "=", "Bob"]], fields=["email", "parent_id"])
    assert bob["email"] is False and bob["parent_id"] is False
    [journal] = odoo("account.journal", "search_read", [["type", "=", "bank"]], fields=["default_account_id"])
    assert journal["default_account_id"] == [account(odoo, "101401"), "101401 Bank"]


def test_archived_records_leave_searches_unless_the_domain_names_active(odoo):
    pid = odoo("res.partner", "create", {"name": "Old"})
    odoo("res.partner", "action_archive", [pid])
    assert odoo("res.partner", "search", [["name", "=", "Old"]]) == []
    assert odoo("res.partner", "search", [["name", "=", "Old"], ["active", "=", False]]) == [pid]


def test_posting_numbers_the_move_and_a_posted_move_refuses_edits(odoo):
    _, move = posted_invoice(odoo)
    [read] = odoo("account.move", "read", [move], fields=["name", "state", "amount_total", "partner_id"])
    assert read["name"].startswith("INV/") and read["state"] == "posted" and read["amount_total"] == 100.0
    with pytest.raises(xmlrpc.client.Fault) as info:
        odoo("account.move", "write", [move], {"invoice_line_ids": [(5,)]})
    assert info.value.faultCode == 2 and "reset it to draft" in info.value.faultString
    with pytest.raises(xmlrpc.client.Fault, match="Only draft journal entries can be posted"):
        odoo("account.move", "action_post", [move])


def test_the_payment_register_wizard_pays_the_invoices_it_was_opened_on(odoo):
    _, move = posted_invoice(odoo)
    wizard = odoo("account.payment.register", "create", {"amount": 40.0, "communication": "P-1"},
                  context={"active_model": "account.move", "active_ids": [move]})
    action = odoo("account.payment.register", "action_create_payments", [wizard])
    assert action["res_model"] == "account.payment"
    [payment] = odoo("account.payment", "read", [action["res_id"]], fields=["state", "ref", "reconciled_invoice_ids"])
    assert payment == {"id": action["res_id"], "state": "posted", "ref": "P-1", "reconciled_invoice_ids": [move]}
    [invoice] = odoo("account.move", "read", [move], fields=["amount_residual", "payment_state"])
    assert (invoice["amount_residual"], invoice["payment_state"]) == (60.0, "partial")


def test_reset_to_draft_removes_the_matches_and_a_partial_reconcile_takes_an_amount(odoo):
    partner, move = posted_invoice(odoo)
    payment = odoo("account.payment", "create", {"partner_id": partner, "amount": 70.0})
    odoo("account.payment", "action_post", [payment])
    [line] = odoo("account.move.line", "search", [["payment_id", "=", payment],
                                                  ["account_type", "=", "asset_receivable"]])
    [inv_line] = odoo("account.move.line", "search", [["move_id", "=", move],
                                                      ["account_type", "=", "asset_receivable"]])
    odoo("account.partial.reconcile", "create", {"debit_move_id": inv_line, "credit_move_id": line, "amount": 25.0})
    assert odoo("account.move", "read", [move], fields=["amount_residual"])[0]["amount_residual"] == 75.0
    odoo("account.move", "button_draft", [move])
    assert odoo("account.move", "read", [move], fields=["amount_residual"])[0]["amount_residual"] == 100.0
    odoo("account.move", "action_post", [move])
    odoo("account.move", "js_assign_outstanding_line", [move], line_id=line)  # all the payment has open
    assert odoo("account.move", "read", [move], fields=["amount_residual"])[0]["amount_residual"] == 30.0


def test_a_move_that_consumed_a_sequence_number_is_deleted_only_when_last(odoo):
    _, first = posted_invoice(odoo, ref="A")
    _, second = posted_invoice(odoo, ref="B")
    odoo("account.move", "button_draft", [first])
    with pytest.raises(xmlrpc.client.Fault, match="revert it instead"):
        odoo("account.move", "unlink", [first])
    odoo("account.move", "button_draft", [second])
    assert odoo("account.move", "unlink", [second]) is True


def test_deprecated_account_and_unknown_field_faults(odoo, osandbox):
    partner = odoo("res.partner", "create", {"name": "Ann"})
    old = account(odoo, "440000")
    osandbox.act_as_user("archive_account", account_id=str(old))
    with pytest.raises(xmlrpc.client.Fault) as info:
        odoo("account.move", "create", {"move_type": "out_invoice", "partner_id": partner,
                                        "invoice_line_ids": [(0, 0, {"name": "x", "account_id": old})]})
    assert info.value.faultCode == 2 and "deprecated" in info.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as info:
        odoo("res.partner", "search_read", [["nope", "=", 1]])
    assert info.value.faultCode == 1 and info.value.faultString.startswith("Traceback")


def test_amounts_cross_the_wire_digit_for_digit():
    body = wire.dumps(({"price_unit": Decimal("0.10"), "quantity": Decimal("3")},), "execute_kw")
    assert b"<double>0.10</double>" in body
    assert wire.loads(body)[0][0]["price_unit"] == Decimal("0.10")
    assert xmlrpc.client.loads(body)[0][0]["price_unit"] == 0.1  # still an ordinary double for other clients
    with pytest.raises(TypeError):
        wire.dumps((0.1,), "execute_kw")


def test_json_2_answers_named_arguments_and_odoos_error_body(osandbox19):
    url, headers = osandbox19.base_url, {"Authorization": f"bearer {API_KEY}", "X-Odoo-Database": DATABASE}
    created = requests.post(f"{url}/json/2/res.partner/create", json={"vals_list": [{"name": "Ann"}]},
                            headers=headers, timeout=5)
    assert created.status_code == 200 and created.json() == [1]
    read = requests.post(f"{url}/json/2/res.partner/read", json={"ids": [1], "fields": ["name"]}, headers=headers,
                         timeout=5)
    assert read.json() == [{"id": 1, "name": "Ann"}]
    refused = requests.post(f"{url}/json/2/res.partner/search", json={"domain": []},
                            headers={**headers, "Authorization": "bearer wrong"}, timeout=5)
    assert refused.status_code == 401 and set(refused.json()) == {"name", "message", "arguments", "context", "debug"}
    missing = requests.post(f"{url}/json/2/res.partner/read", json={"ids": [99]}, headers=headers, timeout=5)
    assert missing.status_code == 404 and missing.json()["name"] == "odoo.exceptions.MissingError"
    assert requests.get(f"{url}/web/version", timeout=5).json()["version_info"][0] == 19


def test_json_2_is_not_served_by_an_odoo_17(osandbox):
    answer = requests.post(f"{osandbox.base_url}/json/2/res.partner/search", json={"domain": []},
                           headers={"Authorization": f"bearer {API_KEY}"}, timeout=5)
    assert answer.status_code == 404


# -- journal entries and refunds (issue 23) --------------------------------------------------------------------------
def test_an_unbalanced_entry_is_refused_and_a_taxed_one_gets_odoos_tax_line(odoo):
    expense, bank = account(odoo, "610000"), account(odoo, "101401")
    tax = odoo("account.tax", "search", [["name", "=", "Tax 10%"]])[0]
    with pytest.raises(xmlrpc.client.Fault) as info:
        odoo("account.move", "create", {"move_type": "entry", "ref": "JE-1", "line_ids": [
            (0, 0, {"name": "Fees", "account_id": expense, "debit": 100, "credit": 0}),
            (0, 0, {"name": "Bank", "account_id": bank, "debit": 0, "credit": 90})]})
    assert info.value.faultCode == 2 and "is not balanced" in info.value.faultString
    assert odoo("account.move", "search", [["ref", "=", "JE-1"]]) == []  # nothing of it stays
    eur = odoo("res.currency", "search", [["name", "=", "EUR"]])[0]
    move = odoo("account.move", "create", {"move_type": "entry", "ref": "EXP-1", "currency_id": eur, "line_ids": [
        (0, 0, {"name": "Courier", "account_id": expense, "debit": "54.00", "credit": 0, "amount_currency": "50.00",
                "currency_id": eur, "tax_ids": [(6, 0, [tax])]}),
        (0, 0, {"name": "Paid", "account_id": bank, "debit": 0, "credit": "59.40", "amount_currency": "-55.00",
                "currency_id": eur})]})
    odoo("account.move", "action_post", [move])
    [read] = odoo("account.move", "read", [move], ["name", "state", "amount_total", "amount_tax",
                                                    "amount_total_signed", "amount_residual", "line_ids"])
    assert read["state"] == "posted" and read["name"].startswith("MISC/")
    amounts = [Decimal(str(read[f])) for f in ("amount_total", "amount_tax", "amount_total_signed", "amount_residual")]
    assert amounts == [Decimal("55.00"), Decimal("5.00"), Decimal("59.40"), Decimal("0.00")]  # xmlrpc.client: floats
    items = odoo("account.move.line", "read", read["line_ids"], ["display_type", "debit", "credit", "account_id"])
    [tax_line] = [i for i in items if i["display_type"] == "tax"]
    assert Decimal(str(tax_line["debit"])) == Decimal("5.40") and tax_line["account_id"][1] == "251000 Tax Received"
    odoo("account.move", "button_draft", [move])
    odoo("account.move", "button_cancel", [move])
    assert odoo("account.move", "read", [move], ["state"])[0]["state"] == "cancel"


def test_an_outbound_payment_matched_with_a_credit_note_refunds_it(odoo):
    partner = odoo("res.partner", "create", {"name": "Bea"})
    note = odoo("account.move", "create", {"move_type": "out_refund", "partner_id": partner, "ref": "CN-1",
                                           "invoice_line_ids": [(0, 0, {"name": "Return", "quantity": 1,
                                                                        "price_unit": "100.00",
                                                                        "account_id": account(odoo, "400000")})]})
    odoo("account.move", "action_post", [note])
    refund = odoo("account.payment", "create", {"partner_id": partner, "amount": "40.00", "ref": "RF-1",
                                                "payment_type": "outbound", "partner_type": "customer"})
    odoo("account.payment", "action_post", [refund])
    receivable = ["account_type", "=", "asset_receivable"]
    debit = odoo("account.move.line", "search", [["payment_id", "=", refund], receivable])
    credit = odoo("account.move.line", "search", [["move_id", "=", note], receivable])
    odoo("account.partial.reconcile", "create", {"debit_move_id": debit[0], "credit_move_id": credit[0],
                                                 "amount": "40.00"})
    assert odoo("account.move", "read", [note], ["amount_residual"])[0]["amount_residual"] == 60
    odoo("account.payment", "action_draft", [refund])  # unmatched on the reset
    odoo("account.payment", "action_cancel", [refund])
    assert odoo("account.move", "read", [note], ["amount_residual"])[0]["amount_residual"] == 100

"""Snapshot to Odoo values and back: pure functions."""
from decimal import Decimal

import pytest

from connectors.documents import Entity, LineSnapshot, Mapping
from connectors.errors import ConfigurationError
from connectors.odoo import translate as t
from tests.connectors.contract import invoice


def test_lines_carry_account_tax_item_and_a_discount_as_a_negative_price():
    doc = invoice("c", "K1", ("100.00", "10.00"))
    discount = LineSnapshot(kind="discount", description="Loyalty", quantity=Decimal("1"),
                            unit_price=Decimal("10.00"), net_amount=Decimal("10.00"), tax_amount=Decimal("0"),
                            tax_rate_key="gst")
    doc = type(doc)(**{**doc.__dict__, "lines": (doc.lines[0], discount)})
    vals = t.move_vals(Entity.INVOICE, doc, Mapping(line_accounts=("7", "8"), tax_codes={"gst": "3"},
                                                    refs={"c": "12"}), currency_id=2)
    assert vals["move_type"] == "out_invoice" and vals["partner_id"] == 12 and vals["ref"] == "K1"
    first, second = (command[2] for command in vals["invoice_line_ids"])
    assert first["account_id"] == 7 and first["tax_ids"] == [(6, 0, [])] and first["price_unit"] == Decimal("100.00")
    assert second["price_unit"] == Decimal("-10.00") and second["tax_ids"] == [(6, 0, [3])]
    assert all(not isinstance(v, float) for line in (first, second) for v in line.values())


def test_a_line_without_an_account_and_a_document_without_its_customer_are_configuration_errors():
    with pytest.raises(ConfigurationError, match="income account"):
        t.move_vals(Entity.INVOICE, invoice("c", "K1"), Mapping(refs={"c": "1"}), currency_id=2)
    with pytest.raises(ConfigurationError, match="customer"):
        t.move_vals(Entity.INVOICE, invoice("c", "K1"), Mapping(item_account="7"), currency_id=2)


def test_what_we_write_and_what_odoo_reads_back_hash_alike():
    vals = t.move_vals(Entity.INVOICE, invoice("c", "K1", ("12.50",)), Mapping(item_account="7", refs={"c": "4"}), 2)
    read_move = {"partner_id": [4, "Ann"], "ref": "K1", "currency_id": [2, "USD"]}
    read_lines = [{"name": "Line 0", "quantity": Decimal("1.0"), "price_unit": Decimal("12.5"),
                   "account_id": [7, "400000 Product Sales"], "tax_ids": []}]
    assert t.move_content(vals, t.written_lines(vals)) == t.move_content(read_move, read_lines)
    changed = [{**read_lines[0], "price_unit": Decimal("12.6")}]
    assert t.move_content(vals, t.written_lines(vals)) != t.move_content(read_move, changed)


def test_a_cancelled_move_is_voided_with_nothing_due_and_the_version_tells_same_second_writes_apart():
    move = {"id": 5, "ref": "K1", "state": "cancel", "amount_total": Decimal("80"), "amount_residual": Decimal("80"),
            "write_date": "2026-12-04 10:00:00", "partner_id": [1, "Ann"], "currency_id": [2, "USD"]}
    result = t.move_result(move, [])
    assert (result.status, result.total, result.balance) == ("voided", Decimal("0.00"), Decimal("0.00"))
    other = t.move_result({**move, "ref": "K2"}, [])
    assert result.version.startswith("2026-12-04 10:00:00/") and result.version != other.version


@pytest.mark.parametrize("account, kind", [({"account_type": "income"}, "income"),
                                           ({"account_type": "asset_cash"}, "deposit"),
                                           ({"account_type": "liability_current", "name": "Tax Received"},
                                            "tax_payable"),
                                           ({"account_type": "asset_current"}, "other")])
def test_account_kinds(account, kind):
    assert t.account_kind(account) == kind


def test_a_read_back_document_leaves_our_discount_line_out_of_its_lines():
    move = {"id": 5, "ref": "K1", "state": "posted", "amount_total": Decimal("90"), "amount_residual": Decimal("90"),
            "write_date": "2026-12-04 10:00:00", "partner_id": [1, "Ann"], "currency_id": [2, "USD"]}
    lines = [{"name": "Visit", "quantity": Decimal("2"), "price_unit": Decimal("50"), "account_id": [7, "x"],
              "tax_ids": []},
             {"name": "Loyalty", "quantity": Decimal("1"), "price_unit": Decimal("-10"), "account_id": [8, "y"],
              "tax_ids": []}]
    assert t.remote_document(move, lines).lines == ((Decimal("2"), Decimal("50")),)

"""Wave refunds through the connector against its sandbox (issue 23): a refund of a credit note is a negative
payment on its negative invoice; what is stopped before sending; a refund changed (recorded again) and deleted; a
credit note edited keeps its refunds; a restocking fee kept on the credit note."""
import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from connectors.documents import Allocation, Entity, LineSnapshot, Mapping, RefundSnapshot, RemoteRef
from connectors.errors import RemoteNotFound, ValidationFailed
from tests.connectors.contract import credit_note, customer, invoice, refund

D = Decimal


def accounts(connector) -> dict[str, str]:
    return {name: pk for pk, name in connector.reference_data().accounts.items()}


def books(connector, note_prices=("100.00",), applied=False):
    """A customer, an invoice of 100 and a credit note (applied to it when ``applied``), all sent."""
    names = accounts(connector)
    sales = Mapping(line_accounts=(names["Sales"],), deposit_account=names["Cash on Hand"])
    who = customer()
    refs = {who.key: connector.create(who, Mapping(), "c").remote_id}
    sold = invoice(who.key, f"INV-{who.key[-8:]}")
    refs[sold.key] = connector.create(sold, replace(sales, refs=refs), "i").remote_id
    allocations = (Allocation(sold.key, D("30.00")),) if applied else ()
    note = credit_note(who.key, f"CN-{who.key[-8:]}", note_prices, allocations)
    lines = (sales.line_accounts[0],) * len(note.lines)
    refs[note.key] = connector.create(note, replace(sales, line_accounts=lines, refs=refs), "n").remote_id
    return who, sold, note, refs, names


def test_an_overpayment_refund_is_stopped_before_sending(connector):
    overpaid = RefundSnapshot(key="test.refund:1", organization_id=1, number="RF-1", customer_key="c",
                              date=dt.date.today(), amount=D("5.00"), payment_key="p")
    assert "by hand" in connector.preflight(overpaid, Mapping())[0]
    with pytest.raises(ValidationFailed, match="credit notes only"):
        connector.create(overpaid, Mapping(), "k-1")


def test_a_refund_is_a_negative_payment_on_the_negative_invoice(connector):
    who, sold, note, refs, names = books(connector)
    paid_out = refund(who.key, "RF-2", note.key, "40.00")
    mapping = Mapping(deposit_account=names["Business Checking"], refs=refs)
    made = connector.create(paid_out, mapping, "k-2")
    assert (made.total, made.number, made.status) == (D("40.00"), "RF-2", "active")
    assert made.raw["amount"]["value"] == "-40.00" and made.raw["memo"] == "RF-2"
    assert connector.fetch(Entity.CREDIT_NOTE, refs[note.key]).balance == D("60.00")
    assert connector.find_existing(paid_out, mapping).remote_id == made.remote_id
    assert connector.find_existing(refund(who.key, "RF-3", note.key), mapping) is None

    more = connector.update(replace(paid_out, amount=D("25.00")), mapping, RemoteRef(made.remote_id, made.version),
                            "u-2")  # Wave has no payment update: deleted and recorded again
    assert more.total == D("25.00") and more.remote_id != made.remote_id
    with pytest.raises(RemoteNotFound):
        connector.fetch(Entity.REFUND, made.remote_id)
    assert connector.fetch(Entity.CREDIT_NOTE, refs[note.key]).balance == D("75.00")

    with pytest.raises(ValidationFailed, match="exceeds the amount due"):
        connector.create(refund(who.key, "RF-4", note.key, "75.01"), mapping, "k-4")

    connector.delete(Entity.REFUND, RemoteRef(more.remote_id, more.version), "d-2")
    assert connector.fetch(Entity.CREDIT_NOTE, refs[note.key]).balance == D("100.00")
    assert connector.read_documents(Entity.REFUND, [more.remote_id])[0].status == "deleted"


def test_a_credit_note_edited_keeps_its_refunds_and_redoes_its_applications(connector):
    who, sold, note, refs, names = books(connector, applied=True)
    assert connector.fetch(Entity.INVOICE, refs[sold.key]).balance == D("70.00")
    mapping = Mapping(deposit_account=names["Business Checking"], refs=refs)
    made = connector.create(refund(who.key, "RF-5", note.key, "50.00"), mapping, "k-5")
    assert connector.fetch(Entity.CREDIT_NOTE, refs[note.key]).balance == D("20.00")  # 100 - 30 applied - 50

    current = connector.fetch(Entity.CREDIT_NOTE, refs[note.key])
    edited = replace(note, memo="Corrected")
    sales = Mapping(line_accounts=(names["Sales"],), deposit_account=names["Cash on Hand"], refs=refs)
    connector.update(edited, sales, RemoteRef(current.remote_id, current.version), "u-5")
    assert connector.fetch(Entity.REFUND, made.remote_id).total == D("50.00")  # the refund stayed
    assert connector.fetch(Entity.INVOICE, refs[sold.key]).balance == D("70.00")  # applied once, not twice
    assert connector.fetch(Entity.CREDIT_NOTE, refs[note.key]).balance == D("20.00")


def test_a_restocking_fee_kept_nets_the_negative_invoice(connector):
    who, sold, _, refs, names = books(connector)
    fee = LineSnapshot(kind="restocking_fee", description="Restocking fee", quantity=D("1"), unit_price=D("12.00"),
                       net_amount=D("12.00"), tax_amount=D("0.00"))
    base = credit_note(who.key, "CN-FEE", ("120.00",))
    note = replace(base, lines=(*base.lines, fee), subtotal=D("108.00"), total=D("108.00"))
    lines = (names["Sales"], names["Sales"])
    made = connector.create(note, Mapping(line_accounts=lines, refs=refs), "n-fee")
    assert made.total == D("108.00")
    assert [item["unitPrice"] for item in made.raw["items"]] == ["-120.00", "12.00"]

"""FreeAgent refunds, expenses and journals through the connector against its sandbox (issue 23): what is stopped
before sending and why, a foreign-currency expense from a euro bank account, a journal replaced entry by entry."""
import datetime as dt
from decimal import Decimal

import pytest

from connectors.documents import (Entity, ExpenseLineSnapshot, ExpenseSnapshot, JournalLineSnapshot, JournalSnapshot,
                                  Mapping, RefundSnapshot, RemoteRef)
from connectors.errors import ValidationFailed
from tests.connectors.freeagent.test_client_library import connector_for

D = Decimal


def spent(currency="USD", rate=None, lines=(("50.00", "5.00", "gst"),), number="EXP-1"):
    made = tuple(ExpenseLineSnapshot(cost_kind="return_shipping", description=f"Cost {i}", net_amount=D(net),
                                     tax_amount=D(tax), tax_rate_key=key) for i, (net, tax, key) in enumerate(lines))
    total = sum((x.net_amount + x.tax_amount for x in made), D("0.00"))
    return ExpenseSnapshot(key=f"test.expense:{number}", organization_id=1, number=number, payee="Parcel Express",
                           date=dt.date.today(), currency=currency, exchange_rate=rate, lines=made, total=total)


def test_what_is_stopped_before_sending(fsandbox):
    connector = connector_for(fsandbox)
    overpaid = RefundSnapshot(key="test.refund:1", organization_id=1, number="RF-1", customer_key="c",
                              date=dt.date.today(), amount=D("5.00"), payment_key="p")
    usd = Mapping(deposit_account="bank_accounts/1", line_accounts=("370", "365"), tax_codes={"gst": "10"})
    assert "by hand" in connector.preflight(overpaid, usd)[0]
    euro = spent("EUR", D("1.08"))
    assert "map a bank account in EUR" in connector.preflight(euro, usd)[0]
    with pytest.raises(ValidationFailed, match="bank account's currency"):
        connector.create(euro, usd, "k-1")
    mixed = spent(lines=(("50.00", "5.00", "gst"), ("10.00", "0.00", None)))
    assert "one category and one tax rate" in connector.preflight(mixed, usd)[0]
    foreign = JournalSnapshot(key="test.journal:1", organization_id=1, number="J-1", date=dt.date.today(),
                              currency="EUR", lines=(JournalLineSnapshot("1", "", debit=D("1")),
                                                     JournalLineSnapshot("2", "", credit=D("1"))))
    assert "company's currency" in connector.preflight(foreign, usd)[0]


def test_a_euro_expense_from_the_euro_account_and_a_journal_edited_in_place(fsandbox):
    connector = connector_for(fsandbox)
    euro = spent("EUR", D("1.08"))
    mapping = Mapping(deposit_account="bank_accounts/3", line_accounts=("370",), tax_codes={"gst": "10"})
    assert connector.preflight(euro, mapping) == []
    made = connector.create(euro, mapping, "k-2")
    assert (made.total, made.home_total, made.number) == (D("55.00"), D("59.40"), "EXP-1")
    assert connector.find_existing(euro, mapping).remote_id == made.remote_id
    connector.delete(Entity.EXPENSE, RemoteRef(made.remote_id, made.version), "d-2")
    assert connector.find_existing(euro, mapping) is None

    lines = (JournalLineSnapshot("6100", "Postage", debit=D("40.00")),
             JournalLineSnapshot("1010", "", credit=D("40.00")))
    entry = JournalSnapshot(key="test.journal:2", organization_id=1, number="J-2", date=dt.date.today(), memo="Fix",
                            lines=lines)
    accounts = Mapping(line_accounts=("370", "bank_accounts/1"))
    journal = connector.create(entry, accounts, "k-3")
    assert (journal.total, journal.number) == (D("40.00"), "J-2")
    three = JournalSnapshot(key=entry.key, organization_id=1, number="J-2", date=entry.date, memo="Fix", lines=(
        JournalLineSnapshot("6100", "Postage", debit=D("30.00")), JournalLineSnapshot("6100", "More", debit=D("5.00")),
        JournalLineSnapshot("1010", "", credit=D("35.00"))))
    changed = connector.update(three, Mapping(line_accounts=("370", "365", "bank_accounts/1")),
                               RemoteRef(journal.remote_id, journal.version), "u-3")
    assert changed.remote_id == journal.remote_id and changed.total == D("35.00")
    assert [e["debit_value"] for e in changed.raw["journal_entries"]] == ["30.00", "5.00", "-35.00"]


def test_a_euro_payment_goes_into_the_euro_account_only(fsandbox):
    from dataclasses import replace

    from tests.connectors.contract import customer, invoice, payment

    connector = connector_for(fsandbox)
    who = customer()
    refs = {who.key: connector.create(who, Mapping(), "c-1").remote_id}
    sold = replace(invoice(who.key, "INV-E"), currency="EUR", exchange_rate=D("1.10"))
    refs[sold.key] = connector.create(sold, Mapping(line_accounts=("001",), refs=refs), "i-1").remote_id
    paid = replace(payment(who.key, "PAY-E", sold.key, "40.00"), currency="EUR", exchange_rate=D("1.10"))
    into_usd = Mapping(deposit_account="bank_accounts/1", refs=refs)
    assert "map a bank account in EUR" in connector.preflight(paid, into_usd)[0]
    into_eur = Mapping(deposit_account="bank_accounts/3", refs=refs)
    made = connector.create(paid, into_eur, "p-1")
    assert (made.total, made.home_total) == (D("40.00"), D("44.00"))
    assert made.raw["foreign_currency_value"] == "40.00" and made.raw["gross_value"] == "44.00"
    assert connector.fetch(Entity.INVOICE, refs[sold.key]).balance == D("60.00")
    assert connector.remote_payment(made.remote_id).amount == D("40.00")


def test_a_refund_expense_or_journal_taken_back_in_freeagent_is_found_by_reconciliation_not_by_polling(fsandbox):
    """FreeAgent users delete an explanation or a journal set (nothing voids one) and its lists hold no deleted
    records: the change poll is not declared for these, and the reconciliation read finds each one deleted."""
    connector = connector_for(fsandbox)
    caps = type(connector).capabilities
    assert not {Entity.REFUND, Entity.EXPENSE, Entity.JOURNAL} & caps.inbound and not caps.inbound_deletes
    made = connector.create(spent(), Mapping(deposit_account="bank_accounts/1", line_accounts=("370",),
                                             tax_codes={"gst": "10"}), "k-4")
    journal = connector.create(JournalSnapshot(
        key="test.journal:4", organization_id=1, number="J-4", date=dt.date.today(),
        lines=(JournalLineSnapshot("6100", "", debit=D("9.00")), JournalLineSnapshot("1010", "", credit=D("9.00")))),
        Mapping(line_accounts=("370", "bank_accounts/1")), "k-5")
    def listed():
        rows = connector.client.request("GET", "bank_transaction_explanations", params={
            "bank_account": connector.url("bank_accounts", "1"), "updated_since": "2000-01-01T00:00:00Z"})
        return {x["url"].rsplit("/", 1)[-1] for x in rows["bank_transaction_explanations"]}

    assert made.remote_id in listed()
    for entity, remote_id in ((Entity.EXPENSE, made.remote_id), (Entity.JOURNAL, journal.remote_id)):
        action, keyword = fsandbox.user_takes_back[entity]
        fsandbox.act_as_user(action, **{keyword: remote_id})
        assert [x.status for x in connector.read_documents(entity, [remote_id])] == ["deleted"]
    assert made.remote_id not in listed()

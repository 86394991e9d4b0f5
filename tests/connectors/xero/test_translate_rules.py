"""Xero payload translation of the financial rules (pure functions, no HTTP): discounts as negative lines, tax
as a line, exchange rates (sent, or left to Xero) and base-currency totals, notes and memos."""
import datetime as dt
from dataclasses import replace
from decimal import Decimal as D

from connectors.documents import (Allocation, ExpenseLineSnapshot, ExpenseSnapshot, InvoiceSnapshot, JournalSnapshot,
                                  LineSnapshot, Mapping, PaymentSnapshot)
from connectors.xero import costs
from connectors.xero import translate as t


def line(kind, quantity, price, rate_key=None, description="Visit"):
    net = (D(quantity) * D(price)).quantize(D("0.01"))
    tax = (net * D("0.1")).quantize(D("0.01")) if rate_key else D("0.00")
    return LineSnapshot(kind=kind, description=description, quantity=D(quantity), unit_price=D(price),
                        net_amount=net, tax_amount=tax, tax_rate_key=rate_key,
                        tax_rate_percent=D("10") if rate_key else None)


def document(*lines, tax=D("0.00"), **kwargs):
    subtotal = sum((x.net_amount for x in lines if x.kind != "discount"), D("0.00"))
    discount = sum((x.net_amount for x in lines if x.kind == "discount"), D("0.00"))
    return InvoiceSnapshot(key="ledger.invoice:1", organization_id=1, number="INV-1", customer_key="c",
                           issue_date=dt.date(2026, 3, 2), lines=lines, subtotal=subtotal, discount_total=discount,
                           tax_total=tax, total=subtotal - discount + tax, **kwargs)


MAPPING = Mapping(line_accounts=("200", "210", "260"), tax_codes={"gst": "OUTPUT"}, refs={"c": "contact-1"})


def test_discounts_stay_negative_lines_and_a_tax_line_is_an_untaxed_line_on_its_account():
    doc = document(line("service", "3", "33.33"), line("discount", "1", "10.00"),
                   line("tax", "1", "8.99", description="Tax (GST 10%)"))
    settings = t.SalesSettings()
    body = t.sales_payload(doc, MAPPING, {}, settings)
    assert [(x["Description"], x["UnitAmount"], x["AccountCode"], x["TaxType"]) for x in body["LineItems"]] == [
        ("Visit", D("33.33"), "200", "NONE"), ("Visit", D("-10.00"), "210", "NONE"),
        ("Tax (GST 10%)", D("8.99"), "260", "NONE")]
    assert t.rounding_problems(doc, settings) == []  # Xero's totals are ours: 99.99 - 10.00 + 8.99
    assert t.expected_totals(doc, "Exclusive") == t.XeroTotals(D("98.98"), D("0.00"), D("98.98"))


def test_the_rate_is_sent_inverted_unless_xero_applies_its_own():
    doc = document(line("service", "1", "100.00", "gst"), tax=D("10.00"), currency="EUR", exchange_rate=D("1.1"),
                   memo="Thank you")
    body = t.sales_payload(doc, MAPPING, {}, t.SalesSettings())
    assert body["CurrencyCode"] == "EUR" and body["CurrencyRate"] == D("0.909091")
    assert body["Reference"] == "Thank you" and body["LineItems"][0]["TaxType"] == "OUTPUT"
    assert "CurrencyRate" not in t.sales_payload(doc, MAPPING, {}, t.SalesSettings(send_currency_rate=False))
    payment = PaymentSnapshot(key="ledger.payment:1", organization_id=1, number="P-1", customer_key="c",
                              amount=D("110.00"), currency="EUR", exchange_rate=D("1.1"),
                              allocations=(Allocation("i", D("110.00")),))
    mapping = Mapping(deposit_account="090", refs={"c": "contact-1", "i": "invoice-1"})
    assert t.payment_payload(payment, mapping)["CurrencyRate"] == D("0.909091")
    assert "CurrencyRate" not in t.payment_payload(payment, mapping, send_currency_rate=False)


def test_base_currency_totals_are_the_total_at_xeros_rate():
    body = {"InvoiceID": "i-1", "InvoiceNumber": "INV-1", "Status": "AUTHORISED", "Total": D("512.35"),
            "AmountDue": D("512.35"), "CurrencyRate": D("0.92")}
    assert t.result("invoice", body).home_total == D("556.90")  # 512.35 / 0.92 = 556.902...
    assert t.result("invoice", {**body, "CurrencyRate": D("1")}).home_total == D("512.35")
    assert t.result("invoice", {**body, "Status": "VOIDED"}).home_total == D("0.00")
    assert t.result("customer", {"ContactID": "c-1", "Name": "Acme"}).home_total is None


def test_an_expense_keeps_its_receipt_and_a_journal_its_number():
    expense = ExpenseSnapshot(key="e", organization_id=1, number="EXP-7", payee="Courier", attachment="box 12",
                              lines=(ExpenseLineSnapshot("other", "Tape", D("4.00"), D("0.00")),))
    assert costs.expense_reference(expense) == "EXP-7 (box 12)"
    linked = costs.expense_payload(replace(expense, attachment="https://files.example/r.pdf"),
                                   Mapping(line_accounts=("429",), deposit_account="090"), "NONE")
    assert linked["Url"] == "https://files.example/r.pdf" and linked["Reference"] == "EXP-7"
    journal = JournalSnapshot(key="j", organization_id=1, number="JE-3", memo="Fees", currency="EUR")
    assert costs.narration(journal) == "JE-3: Fees"
    assert costs.journal_problems(journal, "USD") and not costs.journal_problems(journal, "EUR")
    assert t.result("journal", {"ManualJournalID": "x", "Narration": "JE-3: Fees", "Status": "POSTED",
                                "JournalLines": [{"LineAmount": 5}, {"LineAmount": -5}]}).number == "JE-3"

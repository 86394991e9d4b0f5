"""QBO payload translation of the financial rules (pure functions, no HTTP): the discount field, tax as a line,
exchange rates and home-currency totals, notes and memos."""
import datetime as dt
from decimal import Decimal as D

from connectors.documents import InvoiceSnapshot, LineSnapshot, Mapping, PaymentSnapshot
from connectors.qbo import translate as t
from connectors.qbo.costs import payment_type


def line(kind, net, tax="0.00", rate_key=None, description="", quantity="1"):
    return LineSnapshot(kind=kind, description=description, quantity=D(quantity), unit_price=D(net) / D(quantity),
                        net_amount=D(net), tax_amount=D(tax), tax_rate_key=rate_key,
                        tax_rate_percent=D("10") if rate_key else None)


def document(*lines, **kwargs):
    return InvoiceSnapshot(key="ledger.invoice:1", organization_id=1, number="INV-1", customer_key="c",
                           issue_date=dt.date(2026, 3, 2), lines=lines, **kwargs)


def mapping(doc, accounts, codes=None):
    return Mapping(line_accounts=tuple(accounts), tax_codes=codes or {}, refs={"c": "58"})


def payload(doc, accounts, codes=None):
    items = {i: f"item-{line.kind}" for i, line in enumerate(doc.lines) if line.kind != "discount"}
    return t.sales_payload(doc, mapping(doc, accounts, codes), items, "NON")


def test_discount_lines_go_to_the_one_discount_field_summed_where_the_first_stands():
    doc = document(line("service", "100.00", "10.00", "gst", "Visit"), line("discount", "5.00", "0.50", "gst", "Staff"),
                   line("product", "20.00", "2.00", "gst"), line("discount", "2.50", "0.25", "gst", "Loyalty"),
                   tax_total=D("11.25"))
    body = payload(doc, ["1", "5", "1", "5"], {"gst": "3"})
    assert [row["DetailType"] for row in body["Line"]] == ["SalesItemLineDetail", "DiscountLineDetail",
                                                           "SalesItemLineDetail"]
    discount = body["Line"][1]
    assert discount["Amount"] == D("7.50") and discount["Description"] == "Staff; Loyalty"
    assert discount["DiscountLineDetail"] == {"PercentBased": False, "DiscountAccountRef": {"value": "5"},
                                              "TaxCodeRef": {"value": "3"}}


def test_discount_lines_with_different_tax_codes_carry_none():
    doc = document(line("service", "100.00", "10.00", "gst"), line("discount", "5.00", "0.50", "gst"),
                   line("discount", "5.00"))
    detail = payload(doc, ["1", "5", "5"], {"gst": "3"})["Line"][1]["DiscountLineDetail"]
    assert "TaxCodeRef" not in detail and detail["DiscountAccountRef"] == {"value": "5"}


def test_a_tax_line_is_an_untaxed_sales_line_on_its_item_and_no_tax_is_added():
    doc = document(line("service", "100.00"), line("tax", "10.00", description="Tax (GST 10%)"),
                   subtotal=D("110.00"), total=D("110.00"))
    body = payload(doc, ["1", "4"])
    assert [(row["Description"], row["Amount"], row["SalesItemLineDetail"]["ItemRef"]["value"],
             row["SalesItemLineDetail"]["TaxCodeRef"]["value"]) for row in body["Line"]] == [
        ("", D("100.00"), "item-service", "NON"), ("Tax (GST 10%)", D("10.00"), "item-tax", "NON")]
    assert body["TxnTaxDetail"] == {"TotalTax": D("0")}
    assert t.generic_item_name("tax") == "Tax"


def test_generic_items_of_a_further_account_are_named_after_it():
    assert t.generic_item_name("shipping") == "Shipping"
    assert t.generic_item_name("shipping", "Freight income") == "Shipping (Freight income)"
    assert len(t.generic_item_name("fee", "x" * 200)) == 100
    assert t.generic_item_payload("Tax (Payable)", "9") == {"Name": "Tax (Payable)", "Type": "Service",
                                                            "IncomeAccountRef": {"value": "9"}}


def test_the_exchange_rate_the_memo_and_line_descriptions_are_sent():
    doc = document(line("service", "100.00", description="Visit — follow-up in two weeks"), currency="EUR",
                   exchange_rate=D("1.0825"), memo="Thank you", private_note="Gate code 4411")
    body = payload(doc, ["1"])
    assert body["CurrencyRef"] == {"value": "EUR"} and body["ExchangeRate"] == D("1.0825")
    assert body["CustomerMemo"] == {"value": "Thank you"} and body["PrivateNote"] == "Gate code 4411"
    assert body["Line"][0]["Description"] == "Visit — follow-up in two weeks"
    payment = PaymentSnapshot(key="ledger.payment:1", organization_id=1, number="P-1", customer_key="c",
                              amount=D("100.00"), currency="EUR", exchange_rate=D("1.0825"))
    assert t.payment_payload(payment, Mapping(refs={"c": "58"}))["ExchangeRate"] == D("1.0825")


def test_home_totals_come_from_quickbooks_or_the_transactions_rate():
    invoice = {"Id": "1", "TotalAmt": D("512.35"), "HomeTotalAmt": D("563.59"), "ExchangeRate": D("1.1")}
    assert t.result("Invoice", invoice).home_total == D("563.59")
    payment = {"Id": "2", "TotalAmt": D("512.35"), "ExchangeRate": D("1.25")}
    assert t.result("Payment", payment).home_total == D("640.44")  # 640.4375, half up
    assert t.result("Invoice", {"Id": "3", "TotalAmt": D("10.00")}).home_total == D("10.00")
    assert t.result("Customer", {"Id": "4", "DisplayName": "Acme"}).home_total is None


def test_a_purchase_is_paid_the_way_its_account_allows():
    """QBO ties PaymentType CreditCard to Credit Card accounts and Cash / Check to bank accounts: the paid-from
    account decides, the method only picks a check."""
    assert payment_type("card", "Credit Card") == "CreditCard"
    assert payment_type("card", "Bank") == "Cash"  # a debit card takes money from the bank
    assert payment_type("check", "Bank") == "Check"
    assert payment_type("transfer", "Other Current Asset") == "Cash"

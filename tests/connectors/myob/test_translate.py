"""MYOB translation: snapshots to MYOB bodies and MYOB records to our terms (pure functions, no HTTP)."""
import datetime as dt
from decimal import Decimal

from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, Entity, InvoiceSnapshot,
                                  ItemSnapshot, LineSnapshot, Mapping, PaymentSnapshot)
from connectors.myob import translate as t
from connectors.myob.connector import account_kind
from connectors.base import AccountKind
from ledger.money import line_net

DAY = dt.date(2026, 12, 3)


def line(kind="service", qty="1", price="100.00", item=None, tax="gst"):
    return LineSnapshot(kind=kind, description=f"{kind} line", quantity=Decimal(qty), unit_price=Decimal(price),
                        net_amount=line_net(Decimal(qty), Decimal(price)), tax_amount=Decimal("0"), item_key=item,
                        tax_rate_key=tax)


def mapping(**refs):
    return Mapping(line_accounts=("acc-sales", "acc-disc", "acc-sales"), tax_codes={"gst": "tax-gst"},
                   item_account="acc-sales", deposit_account="acc-undep", refs={"c": "cust-1", **refs})


def invoice(*lines, number="INV-1"):
    return InvoiceSnapshot(key="i", organization_id=1, number=number, customer_key="c", issue_date=DAY, lines=lines,
                           subtotal=Decimal("0"), total=Decimal("0"), memo="Thanks")


def test_a_customer_card_carries_the_tax_codes_myob_requires_and_no_parent():
    body = t.customer_payload(CustomerSnapshot(key="c", organization_id=1, name="N" * 60, email="a@b.example"),
                              "tax-gst")
    assert body["CompanyName"] == "N" * 50 and body["IsIndividual"] is False
    assert body["SellingDetails"] == {"TaxCode": {"UID": "tax-gst"}, "FreightTaxCode": {"UID": "tax-gst"}}
    assert body["Addresses"] == [{"Location": 1, "Email": "a@b.example"}]


def test_an_item_number_is_the_sku_else_the_name_cut_to_30():
    doc = ItemSnapshot(key="t", organization_id=1, name="A very long item name beyond thirty", kind="service",
                       unit_price=Decimal("9.50"))
    body = t.item_payload(doc, mapping())
    assert body["Number"] == body["Name"] == doc.name[:30] and body["IncomeAccount"] == {"UID": "acc-sales"}
    assert body["SellingDetails"]["BaseSellingPrice"] == Decimal("9.50")
    assert t.item_number(ItemSnapshot(key="t", organization_id=1, name="x", sku="SKU-9")) == "SKU-9"


def test_service_layout_lines_carry_total_count_price_account_and_tax_and_a_discount_is_negative():
    doc = invoice(line(qty="2", price="50.00"), line(kind="discount", price="10.00"), line(tax=None))
    assert t.layout(doc, mapping()) == "Service"
    body = t.sales_payload(doc, mapping(), "Service", "tax-nt")
    first, discount, untaxed = body["Lines"]
    assert (first["Total"], first["UnitCount"], first["UnitPrice"]) == (Decimal("100.00"), Decimal("2"),
                                                                        Decimal("50.00"))
    assert first["Account"] == {"UID": "acc-sales"} and first["TaxCode"] == {"UID": "tax-gst"}
    assert discount["Total"] == Decimal("-10.00") and discount["Account"] == {"UID": "acc-disc"}
    assert untaxed["TaxCode"] == {"UID": "tax-nt"}  # MYOB needs a tax code on every line
    assert body["Date"] == "2026-12-03T00:00:00" and body["Customer"] == {"UID": "cust-1"}
    assert body["Number"] == "INV-1" and body["IsTaxInclusive"] is False and body["JournalMemo"] == "Thanks"


def test_item_layout_when_every_line_sells_a_synced_item_and_a_credit_note_is_negative():
    refs = {"item.vac": "item-uid"}
    doc = invoice(line(kind="product", qty="3", price="32.50", item="item.vac"))
    assert t.layout(doc, mapping(**refs)) == "Item"
    assert t.layout(doc, mapping()) == "Service"  # the item is not synced yet
    [item_line] = t.sales_payload(doc, mapping(**refs), "Item", "tax-nt")["Lines"]
    assert item_line["Item"] == {"UID": "item-uid"} and item_line["ShipQuantity"] == Decimal("3")
    assert "Total" not in item_line and "Account" not in item_line  # MYOB prices and posts Item lines itself
    note = CreditNoteSnapshot(key="n", organization_id=1, number="CN-1", customer_key="c", issue_date=DAY,
                              lines=(line(price="30.00"),), subtotal=Decimal("30"), total=Decimal("30"))
    assert t.sales_payload(note, mapping(), "Service", "")["Lines"][0]["Total"] == Decimal("-30.00")


def test_a_payment_is_applied_to_invoices_and_deposited_to_the_mapped_account():
    doc = PaymentSnapshot(key="p", organization_id=1, number="PAY-2001", customer_key="c", date=DAY,
                          amount=Decimal("40.00"), method="transfer", allocations=(Allocation("i", Decimal("40.00")),))
    body = t.payment_payload(doc, mapping(i="inv-uid"))
    assert body["DepositTo"] == "Account" and body["Account"] == {"UID": "acc-undep"}
    assert body["Invoices"] == [{"UID": "inv-uid", "AmountApplied": Decimal("40.00"), "Type": "Invoice"}]
    assert body["ReceiptNumber"] == "PAY-2001" and body["PaymentMethod"] == "EFT"


SALE = {"UID": "s1", "Number": "INV-1", "Date": "2026-12-03T00:00:00", "Customer": {"UID": "cust-1"},
        "TotalAmount": Decimal("110.00"), "BalanceDueAmount": Decimal("70.00"), "TotalTax": Decimal("10.00"),
        "Status": "Open", "JournalMemo": "Sale", "RowVersion": "-6933843581174022143",
        "LastModified": "2026-12-03T10:02:51.233", "InvoiceType": "Service",
        "Lines": [{"Total": Decimal("100.00"), "UnitCount": Decimal("2"), "UnitPrice": Decimal("50.00"),
                   "Account": {"UID": "a"}, "TaxCode": {"UID": "g"}}]}


def test_a_sale_reads_with_its_row_version_and_a_credit_is_made_positive():
    found = t.result(Entity.INVOICE, SALE)
    assert (found.total, found.balance, found.version, found.number) == (Decimal("110.00"), Decimal("70.00"),
                                                                         "-6933843581174022143", "INV-1")
    credit = {**SALE, "TotalAmount": Decimal("-33.00"), "BalanceDueAmount": Decimal("-3.00"), "Status": "Credit",
              "TotalTax": Decimal("-3.00")}
    assert t.entity_of_sale(credit) == Entity.CREDIT_NOTE and t.entity_of_sale(SALE) == Entity.INVOICE
    note = t.result(Entity.CREDIT_NOTE, credit)
    assert (note.total, note.balance) == (Decimal("33.00"), Decimal("3.00"))
    totals = t.totals(Entity.CREDIT_NOTE, credit)
    assert totals.tax_total == Decimal("3.00") and totals.total == Decimal("33.00") and totals.date == DAY
    assert t.modified_at(SALE) == dt.datetime(2026, 12, 3, 10, 2, 51, 233000, tzinfo=dt.UTC)


def test_void_is_emulated_by_zeroed_lines_and_a_marked_memo_and_reads_back_as_voided():
    body = t.voided_body(SALE)
    assert [line["Total"] for line in body["Lines"]] == [Decimal("0.00")] and body["JournalMemo"] == "Void; Sale"
    assert t.voided_body(body)["JournalMemo"] == "Void; Sale"  # voiding twice marks once
    gone = t.result(Entity.INVOICE, {**body, "TotalAmount": Decimal("0.00"), "BalanceDueAmount": Decimal("0.00")})
    assert gone.status == "voided" and gone.total == gone.balance == Decimal("0.00")
    reversed_ = t.result(Entity.INVOICE, {**SALE, "Status": "Closed"}, reversed_=True)
    assert reversed_.status == "voided" and reversed_.total == Decimal("0.00")


def test_fingerprint_ignores_balance_and_row_version_but_sees_a_line_edit():
    base = t.fingerprint(Entity.INVOICE, SALE)
    moved = {**SALE, "BalanceDueAmount": Decimal("0.00"), "Status": "Closed", "RowVersion": "9"}
    assert t.fingerprint(Entity.INVOICE, moved) == base
    edited = {**SALE, "Lines": [{**SALE["Lines"][0], "Total": Decimal("150.00"), "UnitPrice": Decimal("75")}]}
    assert t.fingerprint(Entity.INVOICE, edited) != base
    assert t.remote_document(Entity.INVOICE, edited).lines == ((Decimal("2"), Decimal("75")),)


def test_a_payment_reads_back_with_its_applications_and_receipt_number():
    paid = t.remote_payment({"UID": "p1", "RowVersion": "5", "Customer": {"UID": "cust-1"},
                             "Date": "2026-12-03T00:00:00", "AmountReceived": Decimal("60.00"),
                             "ReceiptNumber": "CHK-77", "Invoices": [{"UID": "s1", "AmountApplied": Decimal("60")}]})
    assert paid.allocations == (("s1", Decimal("60.00")),) and paid.reference == "CHK-77" and paid.date == DAY


def test_account_types_give_kinds_and_gst_collected_is_tax_payable():
    assert account_kind({"Type": "Income", "Name": "Sales"}) == AccountKind.INCOME
    assert account_kind({"Type": "Bank", "Name": "Undeposited Funds"}) == AccountKind.DEPOSIT
    assert account_kind({"Type": "AccountReceivable", "Name": "Trade Debtors"}) == AccountKind.RECEIVABLE
    assert account_kind({"Type": "OtherCurrentLiability", "Name": "GST Collected"}) == AccountKind.TAX_PAYABLE
    assert account_kind({"Type": "OtherCurrentLiability", "Name": "Wages Payable"}) == AccountKind.OTHER
    assert t.filter_time(dt.datetime(2026, 12, 3, 21, 0, tzinfo=dt.timezone(dt.timedelta(hours=11)))) == \
        "datetime'2026-12-03T10:00:00'"

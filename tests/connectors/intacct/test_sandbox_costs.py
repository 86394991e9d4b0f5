"""Refunds, bills and their payments, and GL batches on the Intacct sandbox, spoken to with requests written by hand
(issue 23): a customer refund lowers what its credit memo has left and its reversal gives it back; a bill needs a
known vendor, is paid by an AP payment and is reversed only once its payments are; a journal entry must balance,
and a reversing batch marks the batch it reverses."""
from connectors.intacct import wire
from tests.connectors.intacct.test_sandbox import CUSTOMER, post, results


def ok(root) -> wire.ET.Element:
    [result] = results(root)
    assert wire.child_text(result, "status") == "success", wire.dump(result)
    return result


def refused(root) -> str:
    [result] = results(root)
    assert wire.child_text(result, "status") == "failure"
    return wire.child_text(result, "errormessage/error/description2")


def read(sb, obj: str, key: str) -> dict:
    root = post(sb, f'<function controlid="r"><read><object>{obj}</object><keys>{key}</keys><fields>*</fields>'
                    "</read></function>")
    [record] = list(ok(root).find("data"))
    return wire.record(record)


def credit_memo(sb, amount="100.00") -> str:
    post(sb, CUSTOMER)
    root = post(sb, '<function controlid="cm"><create_aradjustment><customerid>C100</customerid>'
                    "<datecreated><year>2026</year><month>12</month><day>04</day></datecreated>"
                    "<adjustmentno>CN-1</adjustmentno><aradjustmentitems><lineitem><glaccountno>4000</glaccountno>"
                    f"<amount>-{amount}</amount><memo>Returned</memo></lineitem></aradjustmentitems>"
                    "</create_aradjustment></function>")
    return wire.child_text(ok(root), "key")


def refund(credit: str, amount: str, account: str = "1000") -> str:
    return ('<function controlid="rf"><create><ARREFUND><CUSTOMERID>C100</CUSTOMERID>'
            f"<FINANCIALENTITY>{account}</FINANCIALENTITY><PAYMENTMETHOD>EFT</PAYMENTMETHOD>"
            "<DOCNUMBER>RF-1</DOCNUMBER><PAYMENTDATE>12/05/2026</PAYMENTDATE><CURRENCY>USD</CURRENCY>"
            f"<ARREFUNDDETAILS><ARREFUNDDETAIL><RECORDKEY>{credit}</RECORDKEY>"
            f"<TRX_PAYMENTAMOUNT>{amount}</TRX_PAYMENTAMOUNT></ARREFUNDDETAIL></ARREFUNDDETAILS>"
            "</ARREFUND></create></function>")


def test_a_refund_lowers_the_credit_memo_and_its_reversal_gives_it_back(isandbox):
    credit = credit_memo(isandbox)
    made = wire.record(list(ok(post(isandbox, refund(credit, "40.00"))).find("data"))[0])
    held = read(isandbox, "ARREFUND", made["RECORDNO"])
    assert (held["TOTALENTERED"], held["STATE"], held["DOCNUMBER"]) == ("40.00", "Complete", "RF-1")
    assert held["ARREFUNDDETAILS"]["arrefunddetail"]["RECORDKEY"] == credit
    assert read(isandbox, "ARADJUSTMENT", credit)["TOTALDUE"] == "-60.00"
    assert "left to refund" in refused(post(isandbox, refund(credit, "60.01")))
    assert "bank or cash" in refused(post(isandbox, refund(credit, "10.00", account="4000")))
    delete = f'<function controlid="d"><delete_aradjustment key="{credit}"/></function>'
    assert "applied" in refused(post(isandbox, delete))  # a refunded credit memo stays
    ok(post(isandbox, f'<function controlid="rv"><reverse_arrefund key="{made["RECORDNO"]}"/></function>'))
    assert read(isandbox, "ARREFUND", made["RECORDNO"])["STATE"] == "Voided"
    assert read(isandbox, "ARADJUSTMENT", credit)["TOTALDUE"] == "-100.00"


BILL = ('<function controlid="b"><create_bill><vendorid>V1</vendorid>'
        "<datecreated><year>2026</year><month>12</month><day>04</day></datecreated>"
        "<datedue><year>2026</year><month>12</month><day>04</day></datedue><billno>EXP-1</billno>"
        "<currency>EUR</currency><billitems><lineitem><glaccountno>6100</glaccountno><amount>50.00</amount>"
        "<memo>Return shipping</memo><taxentries><taxentry><detailid>Sales Tax 10%</detailid><trx_tax>5.00</trx_tax>"
        "</taxentry></taxentries></lineitem></billitems></create_bill></function>")
VENDOR = ('<function controlid="v"><create><VENDOR><VENDORID>V1</VENDORID><NAME>Parcel Express</NAME></VENDOR>'
          "</create></function>")


def pay(bill: str, amount: str) -> str:
    return ('<function controlid="p"><create><APPYMT><FINANCIALENTITY>1000</FINANCIALENTITY>'
            "<PAYMENTMETHOD>EFT</PAYMENTMETHOD><VENDORID>V1</VENDORID><DOCNUMBER>EXP-1</DOCNUMBER>"
            "<PAYMENTDATE>12/04/2026</PAYMENTDATE><CURRENCY>EUR</CURRENCY><APPYMTDETAILS><APPYMTDETAIL>"
            f"<RECORDKEY>{bill}</RECORDKEY><TRX_PAYMENTAMOUNT>{amount}</TRX_PAYMENTAMOUNT></APPYMTDETAIL>"
            "</APPYMTDETAILS></APPYMT></create></function>")


def test_a_bill_needs_its_vendor_is_paid_and_is_reversed_only_once_its_payment_is(isandbox):
    assert "Invalid vendor" in refused(post(isandbox, BILL))
    ok(post(isandbox, VENDOR))
    bill = wire.child_text(ok(post(isandbox, BILL)), "key")
    held = read(isandbox, "APBILL", bill)
    assert (held["TOTALENTERED"], held["TOTALDUE"], held["CURRENCY"], held["RECORDID"]) == ("55.00", "55.00", "EUR",
                                                                                          "EXP-1")
    assert held["APBILLITEMS"]["apbillitem"]["TRX_TAX"] == "5.00"
    assert "already exists" in wire.child_text(results(post(isandbox, BILL))[0], "errormessage/error/description2")
    assert "owes less" in refused(post(isandbox, pay(bill, "55.01")))
    payment = wire.record(list(ok(post(isandbox, pay(bill, "55.00"))).find("data"))[0])["RECORDNO"]
    assert (read(isandbox, "APBILL", bill)["STATE"], read(isandbox, "APBILL", bill)["TOTALDUE"]) == ("Paid", "0.00")
    reverse = f'<function controlid="rb"><reverse_bill key="{bill}"/></function>'
    assert "payments applied" in refused(post(isandbox, reverse))
    ok(post(isandbox, f'<function controlid="rp"><reverse_appayment key="{payment}"/></function>'))
    assert read(isandbox, "APPYMT", payment)["STATE"] == "Voided"
    assert read(isandbox, "APBILL", bill)["TOTALDUE"] == "55.00"
    ok(post(isandbox, reverse))
    assert read(isandbox, "APBILL", bill)["STATE"] == "Reversed"


def batch(debit: str, credit: str, reverses: str = "", swap: bool = False) -> str:
    first, second = ("-1", "1") if swap else ("1", "-1")
    return ('<function controlid="gl"><create><GLBATCH><JOURNAL>GJ</JOURNAL><BATCH_DATE>12/04/2026</BATCH_DATE>'
            f"<BATCH_TITLE>Adjustment</BATCH_TITLE><REFERENCENO>JE-1</REFERENCENO>"
            f"{f'<REVERSEDFROM>{reverses}</REVERSEDFROM>' if reverses else ''}<STATE>Posted</STATE><ENTRIES>"
            f"<GLENTRY><ACCOUNTNO>6200</ACCOUNTNO><TR_TYPE>{first}</TR_TYPE><TRX_AMOUNT>{debit}</TRX_AMOUNT>"
            "<DESCRIPTION>Fees</DESCRIPTION></GLENTRY>"
            f"<GLENTRY><ACCOUNTNO>1000</ACCOUNTNO><TR_TYPE>{second}</TR_TYPE><TRX_AMOUNT>{credit}</TRX_AMOUNT>"
            "</GLENTRY></ENTRIES></GLBATCH></create></function>")


def test_a_journal_entry_must_balance_and_a_reversing_batch_marks_the_one_it_reverses(isandbox):
    assert "do not balance" in refused(post(isandbox, batch("100.00", "90.00")))
    made = wire.record(list(ok(post(isandbox, batch("7.50", "7.50"))).find("data"))[0])["RECORDNO"]
    held = read(isandbox, "GLBATCH", made)
    assert held["STATE"] == "Posted" and [e["TR_TYPE"] for e in held["ENTRIES"]["glentry"]] == ["1", "-1"]
    assert "do not reverse" in refused(post(isandbox, batch("7.50", "7.50", reverses=made)))  # not swapped
    ok(post(isandbox, batch("7.50", "7.50", reverses=made, swap=True)))
    assert read(isandbox, "GLBATCH", made)["STATE"] == "Reversed"
    assert "reversed" in refused(post(isandbox, batch("7.50", "7.50", reverses=made, swap=True))).lower()


def test_a_bookkeeper_reverses_a_journal_entry_in_intacct(isandbox):
    made = wire.record(list(ok(post(isandbox, batch("7.50", "7.50"))).find("data"))[0])["RECORDNO"]
    reversal = isandbox.act_as_user("reverse_journal", journal_id=made)["id"]
    assert read(isandbox, "GLBATCH", made)["STATE"] == "Reversed"
    assert read(isandbox, "GLBATCH", reversal)["REVERSEDFROM"] == made

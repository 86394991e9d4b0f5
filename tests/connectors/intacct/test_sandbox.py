"""The Intacct sandbox over loopback HTTP, spoken to with requests written by hand the way Sage's SDK function
classes write them (``InvoiceCreate``: ``create_invoice`` with split dates and ``invoiceitems``; ``getAPISession``;
``readByQuery`` / ``readMore``), not through our connector."""
import requests

from connectors.intacct import wire
from connectors.intacct.sandbox import COMPANY_ID, SENDER_ID, SENDER_PASSWORD, USER_ID, USER_PASSWORD

LOGIN = (f"<login><userid>{USER_ID}</userid><companyid>{COMPANY_ID}</companyid>"
         f"<password>{USER_PASSWORD}</password></login>")


def post(sb, functions: str, auth: str = LOGIN, control_id: str = "c-1", unique: bool = False,
         sender: str = SENDER_ID) -> wire.ET.Element:
    body = (f'<?xml version="1.0" encoding="UTF-8"?><request><control><senderid>{sender}</senderid>'
            f"<password>{SENDER_PASSWORD}</password><controlid>{control_id}</controlid>"
            f"<uniqueid>{'true' if unique else 'false'}</uniqueid><dtdversion>3.0</dtdversion>"
            f"<includewhitespace>false</includewhitespace></control><operation><authentication>{auth}"
            f"</authentication><content>{functions}</content></operation></request>")
    answer = requests.post(f"{sb.base_url}/ia/xml/xmlgw.phtml", data=body.encode(),
                           headers={"Content-Type": "application/xml"}, timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml")
    return wire.parse(answer.content)


CUSTOMER = ('<function controlid="f-1"><create><CUSTOMER><CUSTOMERID>C100</CUSTOMERID><NAME>Rex Owner</NAME>'
            "<DISPLAYCONTACT><PRINTAS>Rex Owner</PRINTAS></DISPLAYCONTACT></CUSTOMER></create></function>")


def invoice(number: str, amount: str = "100.00", account: str = "4000") -> str:
    return (f'<function controlid="inv-{number}"><create_invoice><customerid>C100</customerid>'
            "<datecreated><year>2026</year><month>12</month><day>04</day></datecreated>"
            "<datedue><year>2026</year><month>12</month><day>18</day></datedue>"
            f"<invoiceno>{number}</invoiceno><invoiceitems><lineitem><glaccountno>{account}</glaccountno>"
            f"<amount>{amount}</amount><memo>Exam</memo><locationid>100</locationid></lineitem>"
            "</invoiceitems></create_invoice></function>")


def results(root) -> list:
    return root.findall("operation/result")


def test_a_session_from_get_api_session_works_until_it_times_out(isandbox):
    root = post(isandbox, '<function controlid="s"><getAPISession/></function>')
    [result] = results(root)
    session = wire.child_text(result, "data/api/sessionid")
    assert session and wire.child_text(root, "operation/authentication/sessiontimeout")
    assert isandbox.token_calls == 1
    ok = post(isandbox, CUSTOMER, auth=f"<sessionid>{session}</sessionid>")
    assert wire.child_text(results(ok)[0], "status") == "success"
    isandbox.clock.advance(isandbox.session_timeout + 1)
    refused = post(isandbox, CUSTOMER, auth=f"<sessionid>{session}</sessionid>")
    assert wire.child_text(refused, "operation/authentication/status") == "failure"
    assert wire.child_text(refused, "operation/errormessage/error/errorno") == "XL03000006"


def test_each_function_is_answered_on_its_own(isandbox):
    post(isandbox, CUSTOMER)
    root = post(isandbox, invoice("INV-1") + invoice("INV-2", account="99999") + invoice("INV-1"))
    ok, bad_account, duplicate = results(root)
    assert wire.child_text(ok, "status") == "success" and wire.child_text(ok, "key")
    assert wire.child_text(ok, "controlid") == "inv-INV-1" and wire.child_text(ok, "function") == "create_invoice"
    assert wire.child_text(bad_account, "status") == "failure"
    assert "GL account" in wire.child_text(bad_account, "errormessage/error/description2")
    assert wire.child_text(duplicate, "errormessage/error/errorno") == "BL34000061"
    assert isandbox.store.counts()["ARINVOICE"] == 1


def test_a_repeated_control_id_under_uniqueid_is_refused_and_runs_nothing(isandbox):
    post(isandbox, CUSTOMER)
    first = post(isandbox, invoice("INV-9"), control_id="key-9", unique=True)
    assert wire.child_text(results(first)[0], "status") == "success"
    again = post(isandbox, invoice("INV-10"), control_id="key-9", unique=True)
    assert wire.child_text(again, "control/status") == "failure"
    assert wire.child_text(again, "errormessage/error/errorno") == "XL03000009"
    assert again.find("operation") is None and isandbox.store.counts()["ARINVOICE"] == 1
    without = post(isandbox, invoice("INV-10"), control_id="key-9", unique=False)  # uniqueid false: it runs
    assert wire.child_text(results(without)[0], "status") == "success"


def test_a_wrong_sender_or_login_is_refused_in_intacct_shapes(isandbox):
    sender = post(isandbox, CUSTOMER, sender="someone-else")
    assert wire.child_text(sender, "control/status") == "failure"
    assert wire.child_text(sender, "errormessage/error/errorno") == "XL03000005"
    login = post(isandbox, CUSTOMER, auth=LOGIN.replace(USER_PASSWORD, "wrong"))
    assert wire.child_text(login, "control/status") == "success"
    assert wire.child_text(login, "operation/authentication/status") == "failure"
    assert not results(login)


def test_read_by_query_pages_with_read_more(isandbox):
    post(isandbox, CUSTOMER)
    post(isandbox, "".join(invoice(f"P-{n}", f"{10 + n}.00") for n in range(5)))
    query = ('<function controlid="q"><readByQuery><object>ARINVOICE</object><fields>RECORDNO,RECORDID</fields>'
             "<query>RECORDID IN ('P-0','P-1','P-2','P-4') AND TOTALENTERED &gt;= '11'</query><pagesize>2</pagesize>"
             "</readByQuery></function>")
    data = results(post(isandbox, query))[0].find("data")
    assert (data.get("count"), data.get("totalcount"), data.get("numremaining")) == ("2", "3", "1")
    more = results(post(isandbox, f'<function controlid="m"><readMore><resultId>{data.get("resultId")}</resultId>'
                                  "</readMore></function>"))[0].find("data")
    numbers = [wire.child_text(row, "RECORDID") for row in [*data, *more]]
    assert numbers == ["P-1", "P-2", "P-4"] and more.get("numremaining") == "0"


def test_a_payment_and_a_credit_memo_applied_lower_what_the_invoice_owes(isandbox):
    post(isandbox, CUSTOMER)
    key = wire.child_text(results(post(isandbox, invoice("INV-5")))[0], "key")
    credit = ('<function controlid="a"><create_aradjustment><customerid>C100</customerid><datecreated><year>2026'
              "</year><month>12</month><day>04</day></datecreated><adjustmentno>CN-5</adjustmentno>"
              "<aradjustmentitems><lineitem><glaccountno>4000</glaccountno><amount>-30.00</amount></lineitem>"
              "</aradjustmentitems></create_aradjustment></function>")
    credit_key = wire.child_text(results(post(isandbox, credit))[0], "key")
    payment = ('<function controlid="p"><create><ARPYMT><UNDEPOSITEDACCOUNTNO>1050</UNDEPOSITEDACCOUNTNO>'
               "<PAYMENTMETHOD>Cash</PAYMENTMETHOD><CUSTOMERID>C100</CUSTOMERID><DOCNUMBER>PAY-5</DOCNUMBER>"
               "<RECEIPTDATE>12/04/2026</RECEIPTDATE><CURRENCY>USD</CURRENCY><ARPYMTDETAILS>"
               f"<ARPYMTDETAIL><RECORDKEY>{key}</RECORDKEY><TRX_PAYMENTAMOUNT>40.00</TRX_PAYMENTAMOUNT></ARPYMTDETAIL>"
               f"<ARPYMTDETAIL><RECORDKEY>{key}</RECORDKEY><ADJUSTMENTKEY>{credit_key}</ADJUSTMENTKEY>"
               "<TRX_ADJUSTMENTAMOUNT>30.00</TRX_ADJUSTMENTAMOUNT></ARPYMTDETAIL></ARPYMTDETAILS></ARPYMT></create>"
               "</function>")
    paid = results(post(isandbox, payment))[0]
    assert wire.child_text(paid, "status") == "success", wire.child_text(paid, "errormessage/error/description2")
    read = results(post(isandbox, f'<function controlid="r"><read><object>ARINVOICE</object><keys>{key}</keys>'
                                  "<fields>*</fields></read></function>"))[0]
    assert wire.child_text(read, "data/arinvoice/TOTALDUE") == "30.00"
    assert wire.child_text(read, "data/arinvoice/STATE") == "Partially Paid"
    over = payment.replace("40.00", "31.00").replace("PAY-5", "PAY-6").replace(
        f"<ARPYMTDETAIL><RECORDKEY>{key}</RECORDKEY><ADJUSTMENTKEY>", "<X><Y>").split("<X>")[0] + \
        "</ARPYMTDETAILS></ARPYMT></create></function>"
    refused = results(post(isandbox, over))[0]
    assert wire.child_text(refused, "status") == "failure" and "owes" in wire.child_text(
        refused, "errormessage/error/description2")


def test_a_request_with_a_dtd_is_not_parsed(isandbox):
    body = (b'<?xml version="1.0"?><!DOCTYPE request [<!ENTITY x "y">]><request><control><senderid>&x;</senderid>'
            b"</control></request>")
    answer = requests.post(f"{isandbox.base_url}/ia/xml/xmlgw.phtml", data=body, timeout=5)
    root = wire.parse(answer.content)
    assert wire.child_text(root, "control/status") == "failure"
    assert wire.child_text(root, "errormessage/error/errorno") == "XL03000003"


def test_read_takes_record_numbers_and_read_by_name_the_customer_id(isandbox):
    created = results(post(isandbox, CUSTOMER))[0]
    recordno = wire.child_text(created, "data/customer/RECORDNO")

    def read(call, key):
        root = post(isandbox, f'<function controlid="r"><{call}><object>CUSTOMER</object><keys>{key}</keys>'
                              f"<fields>*</fields></{call}></function>")
        return [wire.child_text(row, "CUSTOMERID") for row in results(root)[0].find("data")]

    assert read("read", recordno) == ["C100"] and read("readByName", "C100") == ["C100"]
    assert read("read", "C100") == []
    deleted = post(isandbox, f'<function controlid="d"><delete><object>CUSTOMER</object><keys>{recordno}</keys>'
                             "</delete></function>")
    assert wire.child_text(results(deleted)[0], "status") == "success" and read("readByName", "C100") == []

"""Supplier bills on NetSuite SuiteTalk SOAP (issue 23): the same worked examples as NetSuite REST's
(``tests/connectors/netsuite/test_bills.py``), run against the SOAP sandbox: a ledger bill goes through the pipeline
as a ``VendorBill`` owed to the supplier's ``Vendor`` (found with ``VendorSearchBasic``, else added), the supplier's
number its ``tranId``, its ``expenseList`` rows on the mapped expense accounts with the tax NetSuite computes; it
stays Open (the record has no balance field: an Open bill owes its ``userTotal``); a foreign-currency bill keeps its
currency and rate; a bill voided here is deleted there (SOAP has no void); a create whose answer was lost is found by
our external id; an unmapped cost kind stops the bill before anything is sent."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.sandboxkit.http import Drop
from tests.connectors.netsuite.test_bills import (  # noqa: F401 - the shared examples and their fixture
    books, test_a_bill_of_200_in_two_lines_with_tax_is_open_for_its_total, test_a_bill_voided_here_is_deleted_there,
    test_a_cost_kind_without_an_expense_account_stops_the_bill_before_sending,
    test_a_bill_is_reconciled_and_one_deleted_there_is_the_variance,
    test_a_foreign_currency_bill_keeps_its_currency_and_rate, test_a_lost_create_is_found_by_search_and_not_sent_twice)
from tests.platforms import platform_sandboxes  # noqa: F401 - a fixture

PLATFORM = "netsuitesoap"
D = Decimal


class READ:
    """A SOAP VendorBill as zeep reads it back (RecordRefs with ``internalId``, doubles, dateTimes)."""

    record = "vendorBill"
    consumables, default_expense, payable, sales_tax, exempt, euro = "15", "9", "10", "21", "22", "2"
    @staticmethod
    def lose_next_create(harness) -> None:
        """The answer of the next ``add`` of a VendorBill is lost, once: every SOAP call goes to one address, so
        the kit's path-matched faults cannot single it out; the sandbox's handler is wrapped instead."""
        sandbox, done = harness.sandbox, []
        handler = sandbox.soap

        def soap(raw: bytes):
            answer = handler(raw)
            if not done and b"<ns0:add" in raw and b"VendorBill" in raw:
                done.append(True)
                sandbox.soap = handler
                raise Drop()  # applied; the connection drops before the answer
            return answer

        sandbox.soap = soap

    @staticmethod
    def number_of(row) -> str:
        return row.data.get("tranId")

    @staticmethod
    def exists(harness, remote_id: str) -> bool:
        return harness.sandbox.books.find("vendorBill", remote_id) is not None

    @staticmethod
    def delete_as_user(harness, remote_id: str) -> None:
        with harness.sandbox.books.lock:
            harness.sandbox.books.delete("vendorBill", {"internalId": remote_id})

    @staticmethod
    def vendor_name(harness, raw: dict) -> str:
        return harness.sandbox.books.find("vendor", raw["entity"]["internalId"])["companyName"]

    @staticmethod
    def held(raw: dict) -> dict:
        due = raw["dueDate"]
        return {"number": raw["tranId"], "due": (due.date() if isinstance(due, dt.datetime) else due).isoformat(),
                "payable": raw["account"]["internalId"], "status": raw["status"],
                "currency": raw["currency"]["internalId"], "rate": D(repr(raw["exchangeRate"])), "memo": raw["memo"],
                "lines": [(x["account"]["internalId"], D(repr(x["amount"])).quantize(D("0.01")),
                           (x.get("taxCode") or {}).get("internalId"))
                          for x in raw["expenseList"]["expense"]]}

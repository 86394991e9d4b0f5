"""Snapshots to S/4HANA journal-entry bodies, and journal entries back to our results: pure functions.

Every document we send is an FI-AR journal entry in company code ``company``:

- an invoice: document type ``DR``; the customer's receivable item debited (``S``) with the total, one revenue item
  per line credited (``H``) with its net amount and tax code, and its tax as a ``ProductTaxItem`` (``soap_entry``);
- a credit note: type ``DG``, the same items on the other sides; the part applied to an invoice is a customer item
  whose ``InvoiceReference`` / ``InvoiceReferenceFiscalYear`` name that invoice, the rest a customer item of its own
  (credit the customer keeps);
- a payment: type ``DZ``, the bank account debited with the amount, a customer item credited per invoice paid
  (``InvoiceReference``), an unapplied rest credited to the customer without a reference.

Our number goes into ``DocumentReferenceID`` (the document's reference, 16 characters), our memo into
``DocumentHeaderText`` (25). A remote id is ``<AccountingDocument>-<FiscalYear>`` (the company code is the
connection's).

``document`` / ``payment`` build one neutral body (``to_Item`` with positive amounts and a side), which
``soap_entry`` turns into the SOAP ``JournalEntry`` element (signed amounts with ``currencyCode``) and which
``entry_of`` rebuilds from the items the read service answers, so that ``content`` compares what we wrote with what
is there. ``counter_posting`` is the body that reverses an entry.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .. import rest
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, Entity, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult)
from ..errors import ConfigurationError
from .client import odata_date, odata_time

ZERO = Decimal("0.00")
DOC_TYPES = {Entity.INVOICE: "DR", Entity.CREDIT_NOTE: "DG", Entity.PAYMENT: "DZ", Entity.REFUND: "DA",
             Entity.EXPENSE: "SA", Entity.JOURNAL: "SA"}
REFERENCE_LENGTH = 16
HEADER = ("AccountingDocumentType", "DocumentReferenceID", "TransactionCurrency")
ITEM = ("GLAccount", "Customer", "DebitCreditCode", "AmountInTransactionCurrency", "TaxCode", "InvoiceReference")


def entry_id(body: dict) -> str:
    return f"{body['AccountingDocument']}-{body['FiscalYear']}"


def split_id(remote_id: str) -> tuple[str, str]:
    document, _, year = str(remote_id).rpartition("-")
    return document, year


def ref_id(mapping: Mapping, key: str | None, what: str) -> str:
    if not key or key not in mapping.refs:
        raise ConfigurationError(f"the {what} of this document has no SAP S/4HANA number yet ({key})",
                                 hint="Sync it first; the pipeline normally does this by itself.")
    return str(mapping.refs[key])


def reference(number: str) -> str:
    """Our number as the document reference (``XBLNR``: 16 characters)."""
    return number[:REFERENCE_LENGTH]


def business_partner(doc: CustomerSnapshot) -> dict:
    """A customer: an organisation business partner (category 2) in the customer role (``FLCU01``)."""
    return {"BusinessPartnerCategory": "2", "OrganizationBPName1": doc.name[:40],
            "SearchTerm1": doc.name[:20].upper(),
            "to_BusinessPartnerRole": {"results": [{"BusinessPartnerRole": "FLCU01"}]}}


def product(doc: ItemSnapshot, code: str) -> dict:
    """An item as a product (``API_PRODUCT_SRV``): a service (``SERV``) or a trading good (``HAWA``), its name as
    the English description. Its price is not sent: S/4HANA keeps sales prices as pricing condition records, and
    a journal entry takes amounts, not prices."""
    return {"Product": code, "ProductType": "SERV" if doc.kind == "service" else "HAWA", "BaseUnit": "EA",
            "to_Description": {"results": [{"Product": code, "Language": "EN",
                                            "ProductDescription": doc.name[:40]}]}}


def product_result(body: dict, adopted: bool = False) -> RemoteResult:
    descriptions = (body.get("to_Description") or {}).get("results") or []
    name = next((str(d.get("ProductDescription") or "") for d in descriptions if d.get("Language") == "EN"), "")
    fingerprint = rest.content_hash(Entity.ITEM, {"name": name, **body}, ("name", "ProductType"))
    return RemoteResult(str(body["Product"]), version(body), name,
                        status="inactive" if body.get("IsMarkedForDeletion") else "active", adopted=adopted,
                        raw=body, fingerprint=fingerprint)


def _money(value: Decimal) -> str:
    return format(rest.money(value) or ZERO, "f")


def _customer_item(customer: str, side: str, value: Decimal, invoice: str = "", text: str = "") -> dict:
    item = {"Customer": customer, "DebitCreditCode": side, "AmountInTransactionCurrency": _money(value),
            "DocumentItemText": text[:50] or None}
    if invoice:
        document, year = split_id(invoice)
        item.update(InvoiceReference=document, InvoiceReferenceFiscalYear=year)
    return rest.clean(item)


def document(doc: InvoiceSnapshot | CreditNoteSnapshot, mapping: Mapping, company: str,
             rates: dict[str, Decimal]) -> dict:
    """An invoice (``DR``) or credit note (``DG``) as a journal entry; a credit note's applied part names its
    invoice. S/4HANA posts each revenue item's tax by its tax code's rate (``rates``), so the receivable is the
    net amounts plus that tax, which is the document's total when the mapped code has our rate."""
    customer = ref_id(mapping, doc.customer_key, "customer")
    invoice = doc.entity == Entity.INVOICE
    revenue_side, customer_side = ("H", "S") if invoice else ("S", "H")
    items, receivable = [], ZERO
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"line {index + 1} of {doc.number} has no revenue account mapped",
                                     hint="Map an income account in the mapping editor.")
        # a discount nets the document; on a credit note, a line the business keeps (a restocking fee) nets it: an
        # income item on the other side
        kept = not invoice and line.kept
        net = -line.net_amount if line.kind == "discount" or kept else line.net_amount
        side = revenue_side if net >= 0 else customer_side
        if not net:
            continue
        item = {"GLAccount": account, "DebitCreditCode": side, "AmountInTransactionCurrency": _money(abs(net)),
                "DocumentItemText": (line.description or line.item_name or "")[:50] or None}
        tax = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        if tax:
            item["TaxCode"] = tax
        receivable += net + (net * rates.get(str(tax), ZERO) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        items.append(rest.clean(item))
    applied = ZERO
    if not invoice:
        for allocation in [a for a in doc.allocations if a.amount]:
            items.append(_customer_item(customer, customer_side, allocation.amount,
                                        ref_id(mapping, allocation.invoice_key, "invoice")))
            applied += allocation.amount
    rest_of_it = receivable - applied
    if rest_of_it > 0 or not items or applied == ZERO:
        items.insert(0, _customer_item(customer, customer_side, rest_of_it))
    return rest.clean({"CompanyCode": company, "AccountingDocumentType": DOC_TYPES[doc.entity],
                       "DocumentReferenceID": reference(doc.number), "DocumentHeaderText": (doc.memo or "")[:25],
                       "PostingDate": odata_date(doc.issue_date), "DocumentDate": odata_date(doc.issue_date),
                       "TransactionCurrency": doc.currency, "to_Item": {"results": items}})


def payment(doc: PaymentSnapshot, mapping: Mapping, company: str) -> dict:
    """An incoming payment (``DZ``): the deposit account debited, the customer credited per invoice paid."""
    if not mapping.deposit_account:
        raise ConfigurationError("no deposit account is mapped for payments",
                                 hint="Map a deposit account (the bank account incoming payments are posted to).")
    customer = ref_id(mapping, doc.customer_key, "customer")
    items = [{"GLAccount": mapping.deposit_account, "DebitCreditCode": "S",
              "AmountInTransactionCurrency": _money(doc.amount)}]
    applied = ZERO
    for allocation in [a for a in doc.allocations if a.amount]:
        items.append(_customer_item(customer, "H", allocation.amount,
                                    ref_id(mapping, allocation.invoice_key, "invoice")))
        applied += allocation.amount
    if doc.amount - applied > 0:
        items.append(_customer_item(customer, "H", doc.amount - applied))
    return rest.clean({"CompanyCode": company, "AccountingDocumentType": "DZ",
                       "DocumentReferenceID": reference(doc.number), "PostingDate": odata_date(doc.date),
                       "DocumentDate": odata_date(doc.date), "TransactionCurrency": doc.currency,
                       "to_Item": {"results": items}})


def items_of(body: dict) -> list[dict]:
    """The items we wrote (the tax items, computed from the codes, left out), in a stable order."""
    items = (body.get("to_Item") or {}).get("results") or []
    mine = [{**i, "GLAccount": None} if i.get("Customer") else i for i in items
            if not i.get("IsAutomaticallyCreated")]  # a customer item's account is its reconciliation account
    return sorted(mine, key=lambda i: tuple(rest.plain(i.get(f)) for f in ITEM))


def content(body: dict) -> str:
    """What decides a journal entry's amounts: its head and its items, the same from what we wrote and from what
    is read back."""
    return rest.content_hash("journal_entry", {**body, "items": items_of(body)}, HEADER, ITEM, lines="items")


def version(body: dict) -> str:
    """An entity's ETag (business partners, products) or, for a journal entry read from its items, their latest
    ``LastChangeDateTime``."""
    return str((body.get("__metadata") or {}).get("etag") or body.get("LastChangeDateTime") or "")


def applied_to(body: dict) -> list[tuple[str, Decimal]]:
    """(invoice id, amount) of each customer item that names an invoice."""
    return [(f"{i['InvoiceReference']}-{i.get('InvoiceReferenceFiscalYear') or ''}",
             rest.money(i.get("AmountInTransactionCurrency")) or ZERO)
            for i in items_of(body) if i.get("Customer") and i.get("InvoiceReference")]


def customer_of(body: dict) -> str:
    return next((str(i["Customer"]) for i in items_of(body) if i.get("Customer")), "")


def partner_result(body: dict, adopted: bool = False) -> RemoteResult:
    name = str(body.get("OrganizationBPName1") or body.get("BusinessPartnerFullName") or "")
    fingerprint = rest.content_hash(Entity.CUSTOMER, body, ("OrganizationBPName1",))
    return RemoteResult(str(body["BusinessPartner"]), version(body), name,
                        status="inactive" if body.get("BusinessPartnerIsBlocked") else "active", adopted=adopted,
                        raw=body, fingerprint=fingerprint)


def result(entity: str, body: dict, taken: Decimal = ZERO, adopted: bool = False) -> RemoteResult:
    """A journal entry as our result: a reversed one is "voided" with nothing due; an invoice's balance is its
    total less what live payments and credit memos reference (``taken``), a credit memo's its total less what it
    applies to invoices and what live refunds take of it (``taken``)."""
    reversed_ = bool(body.get("IsReversed"))
    total = ZERO if reversed_ else rest.money(body.get("AmountInTransactionCurrency"))
    balance = None
    if entity == Entity.INVOICE:
        balance = ZERO if reversed_ or total is None else total - taken
    elif entity == Entity.CREDIT_NOTE:
        balance = ZERO if reversed_ or total is None else \
            total - sum((a for _, a in applied_to(body)), ZERO) - taken
    return RemoteResult(entry_id(body), version(body), str(body.get("DocumentReferenceID") or ""), total, balance,
                        "voided" if reversed_ else "active", adopted, body, content(body))


#: ``OriginalReferenceDocumentType`` BKPFF (an accounting document from an outside system) and
#: ``BusinessTransactionType`` RFBU (FI posting), as SAP's examples for Journal Entry - Post send them.
ORIGIN_TYPE, TRANSACTION_TYPE = "BKPFF", "RFBU"


def _iso(value) -> str | None:
    when = odata_time(value)
    return when.date().isoformat() if when else None


def _signed(item: dict, currency: str) -> dict:
    """An amount as the SOAP service takes it: signed by its side (credit ``H`` negative), in the transaction
    currency's ``currencyCode``."""
    value = rest.money(item.get("AmountInTransactionCurrency")) or ZERO
    return {"_value_1": -value if item.get("DebitCreditCode") == "H" else value, "currencyCode": currency}


def soap_entry(body: dict, rates: dict[str, Decimal]) -> dict:
    """One journal entry body (``document`` / ``payment``) as the ``JournalEntry`` element of
    ``JournalEntryBulkCreateRequest``: G/L items as ``Item`` (with ``Tax/TaxCode``), customer items as
    ``DebtorItem`` (``Debtor``), and the tax of each taxed G/L item as a ``ProductTaxItem`` (its code, amount and
    base: the SOAP service takes tax items from the sender)."""
    currency = str(body.get("TransactionCurrency") or "")
    items, debtors, taxes = [], [], []
    number = 0
    for item in (body.get("to_Item") or {}).get("results") or []:
        number += 1
        text = item.get("DocumentItemText")
        if item.get("Customer"):
            debtors.append(rest.clean({
                "ReferenceDocumentItem": str(number), "Debtor": item["Customer"],
                "AmountInTransactionCurrency": _signed(item, currency), "DebitCreditCode": item["DebitCreditCode"],
                "DocumentItemText": text, "InvoiceReference": item.get("InvoiceReference"),
                "InvoiceReferenceFiscalYear": item.get("InvoiceReferenceFiscalYear")}))
            continue
        code = item.get("TaxCode")
        items.append(rest.clean({
            "ReferenceDocumentItem": str(number), "GLAccount": item["GLAccount"],
            "AmountInTransactionCurrency": _signed(item, currency), "DebitCreditCode": item["DebitCreditCode"],
            "DocumentItemText": text, "Tax": {"TaxCode": code} if code else None}))
        base = rest.money(item.get("AmountInTransactionCurrency")) or ZERO
        tax = (base * rates.get(str(code), ZERO) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP) if code else ZERO
        if tax:
            number += 1
            side = item["DebitCreditCode"]
            taxes.append({"ReferenceDocumentItem": str(number), "TaxCode": code,
                          "AmountInTransactionCurrency": _signed({"AmountInTransactionCurrency": tax,
                                                                  "DebitCreditCode": side}, currency),
                          "DebitCreditCode": side,
                          "TaxBaseAmountInTransCrcy": _signed(item, currency)})
    return rest.clean({
        "OriginalReferenceDocumentType": ORIGIN_TYPE, "BusinessTransactionType": TRANSACTION_TYPE,
        "AccountingDocumentType": body["AccountingDocumentType"],
        "DocumentReferenceID": body.get("DocumentReferenceID"), "DocumentHeaderText": body.get("DocumentHeaderText"),
        "CompanyCode": body["CompanyCode"], "DocumentDate": _iso(body.get("DocumentDate")),
        "PostingDate": _iso(body.get("PostingDate")), "Item": items or None, "DebtorItem": debtors or None,
        "ProductTaxItem": taxes or None})


#: The header text of our counter-posting of an entry (Journal Entry - Post has no reversal; 25 characters).
COUNTER = "Reversal "


def counter_text(remote_id: str) -> str:
    document, year = split_id(remote_id)
    return f"{COUNTER}{document}/{year}"


def counter_of(text) -> str:
    """The entry a counter-posting's header text names ("" when it is not one)."""
    value = str(text or "")
    if not value.startswith(COUNTER) or "/" not in value:
        return ""
    document, _, year = value[len(COUNTER):].partition("/")
    return f"{document}-{year}"


def entry_of(rows: list[dict]) -> dict:
    """A journal entry from its items as ``API_JOURNALENTRYITEMBASIC_SRV`` reads them (signed amounts, the header
    on every item), in the shape ``result`` and ``content`` take: the header, its total (a payment's: what
    reached the bank; an expense's or journal's: its debits; an invoice's, credit memo's or refund's: the customer's
    items) and the items with positive amounts,
    the tax items (transaction key ``MWS``) marked ``IsAutomaticallyCreated``."""
    first = rows[0]
    items = []
    for row in rows:
        value = rest.money(row.get("AmountInTransactionCurrency")) or ZERO
        items.append({"AccountingDocumentItem": row.get("AccountingDocumentItem"), "GLAccount": row.get("GLAccount"),
                      "Customer": row.get("Customer") or None, "DebitCreditCode": row.get("DebitCreditCode"),
                      "AmountInTransactionCurrency": _money(abs(value)), "TaxCode": row.get("TaxCode") or None,
                      "DocumentItemText": row.get("DocumentItemText") or None,
                      "InvoiceReference": row.get("InvoiceReference") or None,
                      "InvoiceReferenceFiscalYear": row.get("InvoiceReferenceFiscalYear") or None,
                      "IsAutomaticallyCreated": row.get("TransactionTypeDetermination") == "MWS"})
    if first.get("AccountingDocumentType") == "DZ":
        total = sum((rest.money(i["AmountInTransactionCurrency"]) for i in items if not i["Customer"] and
                     i["DebitCreditCode"] == "S"), ZERO)
    elif first.get("AccountingDocumentType") == "SA":  # an expense or journal: its debits (an expense's with tax)
        total = sum((rest.money(i["AmountInTransactionCurrency"]) for i in items if i["DebitCreditCode"] == "S"),
                    ZERO)
    else:
        total = sum((rest.money(i["AmountInTransactionCurrency"]) for i in items if i["Customer"]), ZERO)
    changed = max((str(r.get("LastChangeDateTime") or "") for r in rows), key=lambda v: (len(v), v))
    return {"CompanyCode": first.get("CompanyCode"), "AccountingDocument": first.get("AccountingDocument"),
            "FiscalYear": first.get("FiscalYear"), "AccountingDocumentType": first.get("AccountingDocumentType"),
            "DocumentReferenceID": first.get("DocumentReferenceID") or None,
            "DocumentHeaderText": first.get("AccountingDocumentHeaderText") or None,
            "PostingDate": first.get("PostingDate"), "DocumentDate": first.get("DocumentDate"),
            "TransactionCurrency": first.get("TransactionCurrency"), "AmountInTransactionCurrency": _money(total),
            "IsReversal": bool(first.get("IsReversal")), "IsReversed": bool(first.get("IsReversed")),
            "ReverseDocument": first.get("ReversalReferenceDocument") or None, "LastChangeDateTime": changed,
            "to_Item": {"results": items}}


def reversed_by(body: dict, counter: dict) -> dict:
    """An entry that our counter-posting reverses: reversed, its version the later of both."""
    changed = max((str(body.get("LastChangeDateTime") or ""), str(counter.get("LastChangeDateTime") or "")),
                  key=lambda v: (len(v), v))
    return {**body, "IsReversed": True, "ReverseDocument": counter.get("AccountingDocument"),
            "LastChangeDateTime": changed}


def counter_posting(body: dict, remote_id: str) -> dict:
    """The counter-posting of an entry: same type, reference, dates and currency, every item we wrote on the
    other side (a customer item keeps the invoice it names, so what it took is given back); the tax items follow
    from the tax codes (``soap_entry``). Its header text names the original."""
    flipped = [rest.clean({"GLAccount": None if i.get("Customer") else i.get("GLAccount"),
                           "Customer": i.get("Customer"),
                           "DebitCreditCode": "H" if i["DebitCreditCode"] == "S" else "S",
                           "AmountInTransactionCurrency": i["AmountInTransactionCurrency"],
                           "TaxCode": i.get("TaxCode"),
                           "InvoiceReference": i.get("InvoiceReference"),
                           "InvoiceReferenceFiscalYear": i.get("InvoiceReferenceFiscalYear")})
               for i in (body.get("to_Item") or {}).get("results") or [] if not i.get("IsAutomaticallyCreated")]
    return rest.clean({"CompanyCode": body["CompanyCode"], "AccountingDocumentType": body["AccountingDocumentType"],
                       "DocumentReferenceID": body.get("DocumentReferenceID"),
                       "DocumentHeaderText": counter_text(remote_id), "PostingDate": body.get("PostingDate"),
                       "DocumentDate": body.get("DocumentDate"), "TransactionCurrency": body.get("TransactionCurrency"),
                       "to_Item": {"results": flipped}})

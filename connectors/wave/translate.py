"""Our snapshots to Wave's GraphQL inputs, Wave's nodes to our results; the GraphQL documents we send.

Every Wave invoice line references a product (there are no free-text lines): a line of a synced item uses the
item's product; any other line uses one product per (line kind, income account), found by name or created once.
Money is read from ``Money.value`` (a decimal string) and never passes through float.
"""
from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

from .. import rest
from ..base import DocumentTotals
from ..documents import Entity, LineSnapshot, Mapping, RemoteResult, Snapshot

MONEY = "{ value }"
#: Wave has no void: a voided document keeps its number with every line at zero and this title (emulated).
VOID_TITLE = "VOID"
INVOICE_FIELDS = f"""id title invoiceNumber status invoiceDate dueDate modifiedAt memo poNumber customer {{ id }}
  currency {{ code }} total {MONEY} amountDue {MONEY} amountPaid {MONEY} taxTotal {MONEY} subtotal {MONEY}
  items {{ product {{ id }} description quantity unitPrice subtotal {MONEY} taxes {{ salesTax {{ id }} }} }}"""
CUSTOMER_FIELDS = "id name email currency { code } modifiedAt"
PRODUCT_FIELDS = "id name unitPrice isArchived modifiedAt incomeAccount { id }"
PAYMENTS = "payments { id amount { value } paymentDate memo }"
FIELDS = {Entity.CUSTOMER: ("customer", "customers", CUSTOMER_FIELDS),
          Entity.ITEM: ("product", "products", PRODUCT_FIELDS),
          Entity.INVOICE: ("invoice", "invoices", INVOICE_FIELDS),
          # a credit note's refunds (its applications) come with it: an update takes them back without a re-read
          Entity.CREDIT_NOTE: ("invoice", "invoices", f"{INVOICE_FIELDS} {PAYMENTS}"),
          Entity.PAYMENT: ("invoice", "invoices", f"id {PAYMENTS}")}
#: Our payment method -> Wave's ManualPaymentMethod.
METHODS = {"card": "CREDIT_CARD", "cash": "CASH", "check": "CHEQUE", "cheque": "CHEQUE",
           "bank_transfer": "BANK_TRANSFER", "transfer": "BANK_TRANSFER", "paypal": "PAYPAL"}
PAY = ("invoicePaymentCreateManual", "InvoicePaymentCreateManualInput", "invoicePayment",
       "id amount { value } paymentDate memo")

BUSINESSES = "query { businesses(page: 1, pageSize: 50) { edges { node { id name isPersonal } } } }"
REFERENCE = """query($businessId: ID!) { currencies { code } business(id: $businessId) { currency { code }
  accounts(page: 1, pageSize: 100, isArchived: false) { pageInfo { totalPages } edges { node { id name
    isArchived type { value } subtype { value } } } }
  salesTaxes(page: 1, pageSize: 100, isArchived: false) { edges { node { id name isArchived } } } } }"""
CREATE = {
    Entity.CUSTOMER: ("customerCreate", "CustomerCreateInput", "customer", CUSTOMER_FIELDS),
    Entity.ITEM: ("productCreate", "ProductCreateInput", "product", PRODUCT_FIELDS),
    Entity.INVOICE: ("invoiceCreate", "InvoiceCreateInput", "invoice", INVOICE_FIELDS),
    Entity.CREDIT_NOTE: ("invoiceCreate", "InvoiceCreateInput", "invoice", INVOICE_FIELDS),
}
PATCH = {Entity.CUSTOMER: ("customerPatch", "CustomerPatchInput", "customer", CUSTOMER_FIELDS),
         Entity.ITEM: ("productPatch", "ProductPatchInput", "product", PRODUCT_FIELDS)}


def mutation(name: str, input_type: str, key: str = "", fields: str = "") -> str:
    selection = f" {key} {{ {fields} }}" if key else ""
    return (f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ didSucceed "
            f"inputErrors {{ message code path }}{selection} }} }}")


def read_query(entity: str) -> str:
    key, _, fields = FIELDS[entity]
    return f"query($businessId: ID!, $id: ID!) {{ business(id: $businessId) {{ {key}(id: $id) {{ {fields} }} }} }}"


def list_query(entity: str, filters: str = "") -> str:
    _, many, fields = FIELDS[entity]
    declared = "".join(f", ${name}: {kind}" for name, kind in
                       (part.split(":") for part in filters.split(",") if part))
    used = "".join(f", {name}: ${name}" for name, _ in (part.split(":") for part in filters.split(",") if part))
    return (f"query($businessId: ID!, $page: Int!, $pageSize: Int!{declared}) {{ business(id: $businessId) {{ "
            f"{many}(page: $page, pageSize: $pageSize{used}) {{ pageInfo {{ currentPage totalPages totalCount }} "
            f"edges {{ node {{ {fields} }} }} }} }} }}")


def money(value) -> Decimal | None:
    if isinstance(value, dict):
        value = value.get("value")
    return rest.money(value)


def line_product_name(line: LineSnapshot, account: str | None) -> str:
    """The product standing for lines of one kind booked to one income account (stable, short, readable)."""
    suffix = hashlib.sha256(str(account or "").encode()).hexdigest()[:6]
    return f"{line.kind.capitalize()} line ({suffix})"


def customer_input(doc, business_id: str) -> dict:
    return rest.clean({"businessId": business_id, "name": doc.name[:255], "email": doc.email or None,
                       "currency": doc.currency or None})


def product_input(doc, mapping: Mapping, business_id: str) -> dict:
    return rest.clean({"businessId": business_id, "name": doc.name[:255], "unitPrice": str(doc.unit_price),
                       "incomeAccountId": mapping.item_account})


def invoice_input(doc, business_id: str, customer_id: str, products: list[str], mapping: Mapping) -> dict:
    """A credit note is a Wave invoice with every amount negated (Wave has no credit notes)."""
    items = []
    sign = -1 if doc.entity == Entity.CREDIT_NOTE else 1
    for line, product in zip(doc.lines, products, strict=True):
        # a discount, and a credit note's line the business keeps (a restocking fee), net the document
        price = sign * (-line.unit_price if line.kind == "discount" or line.kept else line.unit_price)
        taxes = []
        code = mapping.tax_codes.get(line.tax_rate_key or "") if line.tax_rate_key else None
        if code:
            taxes.append({"salesTaxId": code})
        items.append({"productId": product, "description": line.description[:1000] or None,
                      "quantity": str(line.quantity), "unitPrice": str(price), "taxes": taxes})
    return rest.clean({"businessId": business_id, "customerId": customer_id, "status": "SAVED",
                       "invoiceNumber": doc.number, "invoiceDate": rest.iso_date(doc.issue_date),
                       "dueDate": rest.iso_date(getattr(doc, "due_date", None)), "currency": doc.currency or None,
                       "memo": doc.memo or None, "items": items})


def fingerprint(entity: str, node: dict) -> str:
    if entity == Entity.INVOICE:
        lines = [(i["product"]["id"] if i.get("product") else "", str(i["quantity"]), str(i["unitPrice"]))
                 for i in node.get("items") or []]
        text = repr((node.get("invoiceNumber"), (node.get("customer") or {}).get("id"), node.get("invoiceDate"),
                     node.get("dueDate"), str(money(node.get("total"))), lines))
    elif entity == Entity.CUSTOMER:
        text = repr((node.get("name"), node.get("email")))
    else:
        text = repr((node.get("name"), str(node.get("unitPrice"))))
    return hashlib.sha256(text.encode()).hexdigest()


def signed(entity: str, value) -> Decimal | None:
    """A credit note's amounts read back positive (Wave holds them negated)."""
    amount = money(value)
    return -amount if entity == Entity.CREDIT_NOTE and amount is not None else amount


def version(entity: str, node: dict) -> str:
    """Wave has no concurrency token: its ``modifiedAt`` joined with the content hash stands in for one. The
    connector reads before it writes and refuses to overwrite a newer record; reconciliation tells an edit made in
    Wave from one of ours by it."""
    kind = Entity.INVOICE if entity == Entity.CREDIT_NOTE else entity
    return f"{node.get('modifiedAt') or ''}/{fingerprint(kind, node)[:12]}"


def content_part(version_: str) -> str:
    """The content hash of a :func:`version`."""
    return version_.rpartition("/")[2]


def result(entity: str, node: dict, adopted: bool = False) -> RemoteResult:
    """``version``: see :func:`version` (docs/connectors/wave.md)."""
    if entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
        return RemoteResult(node["id"], version(entity, node), str(node.get("invoiceNumber") or ""),
                            signed(entity, node.get("total")),
                            signed(entity, node.get("amountDue")),
                            "voided" if node.get("title") == VOID_TITLE else "active", adopted, node,
                            fingerprint(Entity.INVOICE, node))
    status = "inactive" if node.get("isArchived") else "active"
    return RemoteResult(node["id"], version(entity, node), str(node.get("name") or ""), status=status,
                        adopted=adopted, raw=node,
                        fingerprint=fingerprint(entity, node))


def _decode(wave_id: str) -> str:
    try:
        return base64.b64decode(wave_id + "=" * (-len(wave_id) % 4), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


def compact(wave_id: str) -> str:
    """``Invoice:12`` for a Wave id that decodes to ``Business:<uuid>;Invoice:12`` (our remote ids hold at most
    100 characters and a payment's holds two Wave ids); the id itself when it has another shape."""
    text = _decode(wave_id)
    head, sep, tail = text.partition(";")
    return tail if sep and head.startswith("Business:") and ";" not in tail and "." not in tail else wave_id


def expand(part: str, business_id: str) -> str:
    """The Wave id :func:`compact` shortened, rebuilt from the business id (same padding style)."""
    if ":" not in part:
        return part
    text = base64.b64encode(f"{_decode(business_id)};{part}".encode()).decode()
    return text if business_id.endswith("=") else text.rstrip("=")


def payment_id(invoice_id: str, wave_payment_id: str) -> str:
    """Our remote id of a payment: Wave reads a payment only through its invoice, so both ids are kept."""
    return f"{compact(invoice_id)}.{compact(wave_payment_id)}"


def split_payment_id(remote_id: str, business_id: str) -> tuple[str, str]:
    invoice_part, _, payment_part = remote_id.partition(".")
    return expand(invoice_part, business_id), expand(payment_part, business_id) if payment_part else ""


def payment_result(invoice_id: str, node: dict, adopted: bool = False) -> RemoteResult:
    amount = money(node.get("amount"))
    text = repr((invoice_id, str(amount), node.get("paymentDate"), node.get("memo")))
    return RemoteResult(payment_id(invoice_id, node["id"]), "", str(node.get("memo") or ""), amount, None, "active",
                        adopted, node, hashlib.sha256(text.encode()).hexdigest())


def refund_result(invoice_id: str, node: dict, adopted: bool = False) -> RemoteResult:
    """A refund: a negative payment on a credit note's negative invoice, read back positive."""
    found = payment_result(invoice_id, node, adopted)
    return RemoteResult(found.remote_id, found.version, found.number, -found.total if found.total is not None
                        else None, None, "active", adopted, node, found.fingerprint)


def totals(node: dict, entity: str = Entity.INVOICE) -> DocumentTotals:
    due = signed(entity, node.get("amountDue"))
    status = "paid" if due == 0 and money(node.get("total")) else "open"
    status = "voided" if node.get("title") == VOID_TITLE else status
    return DocumentTotals(remote_id=node["id"], entity=entity, number=str(node.get("invoiceNumber") or ""),
                          status=status, currency=(node.get("currency") or {}).get("code", ""),
                          total=signed(entity, node.get("total")), tax_total=signed(entity, node.get("taxTotal")),
                          balance=due, version=version(entity, node) if "modifiedAt" in node else "")


def is_ours(doc: Snapshot, node: dict) -> bool:
    return str(node.get("name") or "").casefold() == doc.name[:255].casefold()

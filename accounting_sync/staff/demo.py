"""Demo data and demo connection set-up, shared by ``accounting_sync_demo`` and the tests."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests
from django.db import transaction
from django.utils.module_loading import import_string

from connectors import registry
from connectors.documents import Entity
from connectors.errors import DataError, RemoteNotFound
from connectors.models import Connection
from connectors.tokens import store_tokens
from ledger import models as L
from ledger.money import quantize
from mappings.models import Mapping, MappingKind, Scope

from ..core.sources import key_for
from ..files import batches
from ..models import EntryStatus, ExternalReference, OutboxEntry
from ..policies.preflight import reference_data

DEMO_SLUG = "riverside-vet"
CLIENT_ID, CLIENT_SECRET = "sandbox-client", "sandbox-secret"
REDIRECT_URI = "http://127.0.0.1:8000/connectors/oauth/callback/"


def demo_organization() -> L.Organization:
    return L.Organization.objects.get_or_create(slug=DEMO_SLUG, defaults={"name": "Riverside Vet Clinic"})[0]


@transaction.atomic
def load_demo_data(org: L.Organization) -> L.Organization:
    """A vet clinic's customers (one with a sub-account), items, tax rates and documents. Idempotent."""
    if L.Invoice.objects.filter(organization=org).exists():
        return org
    gst = L.TaxRate.objects.create(organization=org, name="GST 10%", rate=D("10"), jurisdiction="Federal")
    exempt = L.TaxRate.objects.create(organization=org, name="Exempt", rate=D("0"), jurisdiction="Federal")
    consults = L.ItemCategory.objects.create(organization=org, name="Consultations")
    products = L.ItemCategory.objects.create(organization=org, name="Pharmacy")
    checkup = L.Item.objects.create(organization=org, name="Wellness check-up", kind="service", category=consults,
                                    unit_price=D("85.00"), tax_rate=gst)
    vaccine = L.Item.objects.create(organization=org, name="Rabies vaccine", kind="product", category=products,
                                    unit_price=D("32.50"), tax_rate=gst)
    food = L.Item.objects.create(organization=org, name="Renal diet food 2kg", kind="product", category=products,
                                 unit_price=D("24.99"), tax_rate=exempt)
    farm = L.Customer.objects.create(organization=org, name="Greenfield Farm", email="accounts@greenfield.example")
    stable = L.Customer.objects.create(organization=org, name="Greenfield Farm – Stables", parent=farm)
    jones = L.Customer.objects.create(organization=org, name="Alex Jones", email="alex@example.com")
    today = dt.date.today()

    def invoice(number, customer, lines, memo="", **kw):
        inv = L.Invoice.objects.create(organization=org, customer=customer, number=number, memo=memo,
                                       issue_date=today, due_date=today + dt.timedelta(days=30), **kw)
        for pos, (kind, item, desc, qty, price, rate) in enumerate(lines):
            L.InvoiceLine.objects.create(invoice=inv, position=pos, kind=kind, item=item, description=desc,
                                         quantity=D(qty), unit_price=D(price), tax_rate=rate)
        return inv

    inv1 = invoice("RV-1001", jones, [
        ("service", checkup, "", "1", "85.00", gst),
        ("product", vaccine, "", "2", "32.50", gst),
        ("discount", None, "Loyalty discount", "1", "10.00", gst),
        ("shipping", None, "Courier to home", "1", "12.00", gst),
    ], memo="Thank you for visiting Riverside Vet.")
    inv2 = invoice("RV-1002", stable, [
        ("service", checkup, "Farm visit, 3 horses", "3", "85.00", gst),
        ("product", food, "", "4", "24.99", exempt),
        ("fee", None, "Call-out fee", "1", "45.00", gst),
    ], private_note="Gate code 4411")
    inv3 = invoice("RV-1003", farm, [("product", vaccine, "", "10", "32.50", gst)])
    pay1 = L.Payment.objects.create(organization=org, customer=jones, number="PAY-2001", date=today,
                                    amount=inv1.totals().total, method="card")
    L.PaymentAllocation.objects.create(payment=pay1, invoice=inv1, amount=inv1.totals().total)
    pay2 = L.Payment.objects.create(organization=org, customer=stable, number="PAY-2002", date=today,
                                    amount=D("200.00"), method="transfer")
    L.PaymentAllocation.objects.create(payment=pay2, invoice=inv2, amount=D("200.00"))
    credit = L.CreditNote.objects.create(organization=org, customer=farm, number="CN-3001", issue_date=today,
                                         memo="Two doses returned unopened")
    L.CreditNoteLine.objects.create(credit_note=credit, kind="product", item=vaccine, quantity=D("2"),
                                    unit_price=D("32.50"), tax_rate=gst)
    L.CreditNoteLine.objects.create(credit_note=credit, position=1, kind="fee", description="Restocking charge",
                                    quantity=D("1"), unit_price=D("5.00"), tax_rate=gst)
    L.CreditNoteAllocation.objects.create(credit_note=credit, invoice=inv3, amount=D("66.00"))
    # A return refunded to the card it was paid with, and the courier label for it (issue 23). They reach the
    # platforms that take refunds and expenses; the others' connections do not sync them.
    returned = L.CreditNote.objects.create(organization=org, customer=jones, number="CN-3002", issue_date=today,
                                           memo="Diet food returned unopened")
    L.CreditNoteLine.objects.create(credit_note=returned, kind="product", item=food, quantity=D("1"),
                                    unit_price=D("24.99"), tax_rate=exempt)
    L.Refund.objects.create(organization=org, customer=jones, number="RF-4001", date=today, amount=D("24.99"),
                            method="card", credit_note=returned)
    label = L.Expense.objects.create(organization=org, number="EXP-5001", payee="Parcel Express", date=today,
                                     paid_from="card", memo="Return label for CN-3002")
    L.ExpenseLine.objects.create(expense=label, cost_kind="return_shipping", description="Return courier label",
                                 amount=D("14.50"))
    # A supplier's bill, paid later (accounts payable): on the platforms that take bills.
    bill = L.Bill.objects.create(organization=org, number="BILL-6001", supplier="Vet Supplies Co",
                                 supplier_reference="VS-2210", date=today, due_date=today + dt.timedelta(days=30),
                                 memo="Bandages and syringes")
    L.BillLine.objects.create(bill=bill, cost_kind="consumables", description="Bandages and syringes",
                              amount=D("86.00"))
    # Paid in part by bank transfer (36.00 still owed): on the platforms that take bill payments.
    L.BillPayment.objects.create(organization=org, bill=bill, number="BP-7001", date=today, amount=D("50.00"),
                                 paid_from="transfer", memo="First instalment of VS-2210")
    return org


def demo_entities(platform: str) -> list[str]:
    """What the demo's connection to an API platform syncs: every entity the platform takes (a file platform's
    connection keeps them all: what its import files do not take is closed with that reason)."""
    taken = registry.get(platform).capabilities.entities
    return [entity for entity in Entity.EVERY if entity in taken]


def platforms() -> list[str]:
    """The registered API platforms the demo syncs to: those whose connector names a sandbox and a demo chart."""
    return [pid for pid, cls in sorted(registry.connectors().items())
            if cls.sandbox_class and cls.demo_chart and cls.delivery == "api"]


def file_platforms() -> list[str]:
    """The registered file-delivery platforms (no API): the demo exports their batches into a folder and has their
    importer emulator (``sandbox_class``) import them and write the platform's export file."""
    return [pid for pid, cls in sorted(registry.connectors().items())
            if cls.sandbox_class and cls.demo_chart and cls.delivery == "file"]


def sandbox_class(platform: str):
    """The platform's sandbox class (a ``connectors.sandboxkit.platform.PlatformSandbox``)."""
    return import_string(registry.get(platform).sandbox_class)


def connection_name(platform: str) -> str:
    kind = "files" if registry.get(platform).delivery == "file" else "sandbox"
    return f"Demo {registry.get(platform).name} ({kind})"


def connect_to_sandbox(base_url: str, org: L.Organization, *, platform: str,
                       name: str | None = None) -> Connection:
    """Create (or reuse) a connection to a running sandbox, go through its OAuth flow, and map accounts."""
    conn, _ = Connection.objects.get_or_create(name=name or connection_name(platform), defaults={
        "platform": platform, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "auto_sync": True,
        "entities": demo_entities(platform),
        # Two-way, polled every minute: a payment recorded in the sandbox shows up here within a minute or two.
        "direction": "both",
        "settings": {**registry.get(platform).sandbox_settings(base_url), "pull_interval_minutes": 1}})
    conn.organizations.add(org)
    if not conn.refresh_token:
        # The sandbox consents at once: follow its redirect and exchange the code like the callback view does.
        url = conn.connector().authorization_url(REDIRECT_URI, "demo-state")
        location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        params = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
        store_tokens(conn, conn.connector().exchange_code(params["code"], REDIRECT_URI, params))
    map_demo_accounts(conn, org)
    return conn


def connect_file_platform(org: L.Organization, *, platform: str, name: str | None = None) -> Connection:
    """Create (or reuse) a connection to a file-delivery platform, with the emulator's chart in its settings (what
    staff type in from their own chart) and the demo's accounts and tax rates mapped to it."""
    conn, _ = Connection.objects.get_or_create(name=name or connection_name(platform),
                                               defaults={"platform": platform, "auto_sync": True, "direction": "push",
                                                         "settings": registry.get(platform).sandbox_settings("")})
    conn.organizations.add(org)
    map_demo_accounts(conn, org)
    return conn


def deliver_files(conn: Connection, folder: str | Path) -> list[Path]:
    """A file platform's round trip, as staff do it: export the documents ready for export as one batch into
    ``folder``, import its files into the platform's importer emulator in order, read the platform's export file
    (written beside them) back in, which closes the documents it lists and feeds reconciliation, and confirm the
    rest of the batch imported. The batch's files (empty list when nothing was ready)."""
    batch = batches.export(conn, actor="demo")
    if batch is None:
        return []
    written = batches.write_to_folder(batch, folder)
    importer = sandbox_class(conn.platform)()
    for path in written:
        result = importer.import_file(path.name, path.read_bytes())
        if not result.ok:
            raise DataError(f"{conn.platform_name} refused {path.name}: {'; '.join(result.errors)}")
    name, content = importer.export_file()
    (written[0].parent / name).write_bytes(content)
    batches.read_back(conn, name, content, actor="demo")
    # What its export file does not list (payments): staff confirm the batch imported, as the platform took every
    # file of it.
    batches.confirm(batch.items.filter(confirmed_at__isnull=True), actor="demo")
    return written


def map_demo_accounts(conn: Connection, org: L.Organization) -> None:
    """Map the demo's categories, line kinds and tax rates to the sandbox's chart of accounts by name."""
    data = reference_data(conn, conn.connector(), refresh=True)
    accounts = {name: pk for pk, name in data.accounts.items()}
    codes = {name: pk for pk, name in data.tax_codes.items()}
    chart = conn.connector_class().demo_chart

    def rule(kind, scope, value, remote_name, table):
        Mapping.objects.update_or_create(connection=conn, organization=None, kind=kind, scope=scope,
                                         local_value=value,
                                         defaults={"remote_id": table[remote_name], "remote_name": remote_name})

    rule(MappingKind.INCOME_ACCOUNT, Scope.DEFAULT, "", chart.default_income, accounts)
    for category, name in chart.category_income.items():
        rule(MappingKind.INCOME_ACCOUNT, Scope.CATEGORY, category, name, accounts)
    for line_kind, name in chart.line_kind_income.items():
        rule(MappingKind.INCOME_ACCOUNT, Scope.LINE_KIND, line_kind, name, accounts)
    rule(MappingKind.DISCOUNT_ACCOUNT, Scope.DEFAULT, "", chart.discount, accounts)
    rule(MappingKind.DEPOSIT_ACCOUNT, Scope.DEFAULT, "", chart.deposit, accounts)
    for rate in L.TaxRate.objects.filter(organization=org):
        rule(MappingKind.TAX_CODE, Scope.TAX_RATE, rate.name, chart.taxes[rate.name], codes)
    taken = conn.connector_class().capabilities.entities
    for entity, kind, name in ((Entity.REFUND, MappingKind.REFUND_ACCOUNT, chart.refund),
                               (Entity.EXPENSE, MappingKind.EXPENSE_ACCOUNT, chart.expense),
                               (Entity.EXPENSE, MappingKind.PAID_FROM_ACCOUNT, chart.paid_from),
                               (Entity.BILL, MappingKind.EXPENSE_ACCOUNT, chart.expense),
                               (Entity.BILL_PAYMENT, MappingKind.PAID_FROM_ACCOUNT, chart.paid_from)):
        if entity in taken and name:
            rule(kind, Scope.DEFAULT, "", name, accounts)


def readback(conn: Connection, org: L.Organization) -> list[dict]:
    """Read every demo document back from the platform and compare its total with the local one (``match`` None:
    the platform takes no such document, a file platform whose import files do not carry it)."""
    rows = []
    documents = [("invoice", d, d.totals().total) for d in L.Invoice.objects.filter(organization=org)]
    documents += [("payment", d, quantize(d.amount)) for d in L.Payment.objects.filter(organization=org)]
    documents += [("credit_note", d, d.totals().total) for d in L.CreditNote.objects.filter(organization=org)]
    documents += [("refund", d, quantize(d.amount)) for d in L.Refund.objects.filter(organization=org)]
    documents += [("expense", d, d.totals().total) for d in L.Expense.objects.filter(organization=org)]
    documents += [("bill", d, d.totals().total) for d in L.Bill.objects.filter(organization=org)]
    documents += [("bill_payment", d, quantize(d.amount)) for d in L.BillPayment.objects.filter(organization=org)]
    connector = conn.connector()
    files = connector.delivery == "file"
    for entity, doc, local_total in documents:
        row = {"document": f"{entity.replace('_', ' ')} {doc.number}", "local_total": local_total,
               "platform": conn.platform_name, "remote_id": "-", "remote_total": None, "match": False, "note": ""}
        rows.append(row)
        key = key_for(doc)
        if not files and entity in Entity.DECLARED and entity not in connector.capabilities.entities:
            row.update(match=None, note=f"{conn.platform_name} does not take {entity.replace('_', ' ')}s through its "
                                        "API: entered there by hand")
            continue
        if files and entity not in connector.capabilities.entities:  # its import files do not take it
            entry = OutboxEntry.objects.filter(connection=conn, source_key=key).first()
            row.update(match=None if entry and entry.status == EntryStatus.DONE else False,
                       note=f"not in {conn.platform_name}'s import files: entered there by hand")
            continue
        ref = ExternalReference.objects.filter(connection=conn, source_key=key).first()
        if ref is None:
            continue
        row["remote_id"] = ref.remote_id
        if files and entity not in connector.reconcile_entities:  # the platform's export file does not list it
            row.update(match=True, note="confirmed imported (the platform's export lists no such documents)")
            continue
        try:
            remote = connector.fetch(entity, ref.remote_id)
        except RemoteNotFound as exc:
            row["note"] = exc.message
            continue
        row.update(remote_total=remote.total, match=remote.total == local_total)
    return rows

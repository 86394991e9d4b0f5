"""The Xero connector against the Xero sandbox (real loopback HTTP through xero-python), plus error mapping.

What is covered beyond the shared contract: lost responses (idempotency replay and search-before-create), a
50-invoice batch with invalid members, Xero's daily limit, payments, credit-note allocations, void, draft
delete, token refresh on 401, OAuth code exchange with tenant discovery, and two connections in one process not
sharing the SDK's process-wide configuration.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from requests.structures import CaseInsensitiveDict
from xero_python.api_client import Configuration

from connectors.base import BatchOp, ConnectionConfig
from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, Entity, InvoiceSnapshot,
                                  ItemSnapshot, LineSnapshot, Mapping, PaymentSnapshot, RefundSnapshot, RemoteRef,
                                  RemoteResult)
from connectors.errors import (AuthError, ConfigurationError, DuplicateError, PermanentError, RateLimitedError,
                               RemoteNotFound, RetryableError, ValidationFailed)
from connectors.xero import errors as xero_errors
from connectors.xero import translate as t
from connectors.xero.connector import XeroConnector
from ledger.money import line_net, line_tax

CLIENT = ("sandbox-client", "sandbox-secret")
TODAY = dt.date(2026, 3, 2)


class Env:
    """A connector wired to the sandbox like the pipeline wires it: a token getter that refreshes when forced."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        tokens = sandbox.issue_tokens()
        self.token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.forced = 0

    def get_token(self, force: bool = False) -> str:
        if force:
            self.forced += 1
            body = requests.post(self.sandbox.token_url, auth=CLIENT, timeout=5, data={
                "grant_type": "refresh_token", "refresh_token": self.refresh_token}).json()
            if "access_token" not in body:
                raise AuthError(f"refresh refused: {body}")
            self.token, self.refresh_token = body["access_token"], body["refresh_token"]
        return self.token

    def settings(self, **extra) -> dict:
        return {"api_base": self.sandbox.api_base, "token_url": self.sandbox.token_url,
                "authorize_url": self.sandbox.authorize_url, "connections_url": self.sandbox.connections_url,
                "timeout": 3, **extra}

    def connector(self, tenant_id: str | None = None, getter=None, **settings) -> XeroConnector:
        config = ConnectionConfig("xero", f"test-{uuid.uuid4().hex[:6]}", tenant_id or self.sandbox.tenant_id,
                                  self.settings(**settings), *CLIENT)
        return XeroConnector(config, getter or self.get_token)

    def customer(self, connector: XeroConnector, name: str | None = None) -> tuple[CustomerSnapshot, RemoteResult]:
        doc = CustomerSnapshot(key=f"test.customer:{uuid.uuid4().hex[:8]}", organization_id=1,
                               name=name or f"Customer {uuid.uuid4().hex[:6]}")
        return doc, connector.create(doc, Mapping(), f"c-{uuid.uuid4()}")


def sales_line(price: str, quantity: str = "1", rate: str | None = "10", kind: str = "service") -> LineSnapshot:
    rate_percent = Decimal(rate) if rate else None
    net = line_net(Decimal(quantity), Decimal(price))
    return LineSnapshot(kind=kind, description=f"{kind} line", quantity=Decimal(quantity), unit_price=Decimal(price),
                        net_amount=net, tax_amount=line_tax(net, rate_percent),
                        tax_rate_key="ledger.taxrate:1" if rate else None, tax_rate_name="Tax 10%",
                        tax_rate_percent=rate_percent)


def _totals(lines):
    sales = [li for li in lines if li.kind != "discount"]
    discounts = [li for li in lines if li.kind == "discount"]
    subtotal = sum((li.net_amount for li in sales), Decimal("0.00"))
    discount = sum((li.net_amount for li in discounts), Decimal("0.00"))
    tax = sum((li.tax_amount for li in sales), Decimal("0.00")) - sum((li.tax_amount for li in discounts),
                                                                       Decimal("0.00"))
    return dict(subtotal=subtotal, discount_total=discount, tax_total=tax, total=subtotal - discount + tax)


def invoice(customer_key: str, number: str | None = None, *lines: LineSnapshot, **extra) -> InvoiceSnapshot:
    lines = lines or (sales_line("100.00"),)
    return InvoiceSnapshot(key=f"test.invoice:{uuid.uuid4().hex[:8]}", organization_id=1,
                           number=number or f"T-{uuid.uuid4().hex[:8]}", customer_key=customer_key,
                           issue_date=TODAY, lines=tuple(lines), **_totals(lines), **extra)


def credit_note(customer_key: str, *lines: LineSnapshot, allocations=()) -> CreditNoteSnapshot:
    return CreditNoteSnapshot(key=f"test.credit_note:{uuid.uuid4().hex[:8]}", organization_id=1,
                              number=f"CN-{uuid.uuid4().hex[:8]}", customer_key=customer_key, issue_date=TODAY,
                              lines=tuple(lines), allocations=tuple(allocations), **_totals(lines))


def mapping(refs: dict, doc=None, account: str = "200", discount_account: str = "210") -> Mapping:
    lines = getattr(doc, "lines", ())
    return Mapping(line_accounts=tuple(discount_account if li.kind == "discount" else account for li in lines),
                   tax_codes={"ledger.taxrate:1": "OUTPUT"}, deposit_account="090", item_account="200",
                   refs=dict(refs))


@pytest.fixture
def env(xsandbox):
    xsandbox.limits.off()  # Xero's 60/minute is not what these tests are about (one test below restores it)
    return Env(xsandbox)


@pytest.fixture
def xero(env):
    return env.connector()


def remote(sandbox, collection: str, **match) -> list[dict]:
    return [r for r in sandbox.store.entities(collection) if all(r.get(k) == v for k, v in match.items())]


# -- idempotency and search-before-create ------------------------------------------------------------------
def test_lost_response_then_retry_with_same_key_makes_one_invoice(env, xero):
    cust, remote_customer = env.customer(xero)
    doc = invoice(cust.key)
    env.sandbox.faults.add("lost_response", match="PUT /Invoices")
    with pytest.raises(RetryableError):
        xero.create(doc, mapping({cust.key: remote_customer.remote_id}, doc), "key-1")
    again = xero.create(doc, mapping({cust.key: remote_customer.remote_id}, doc), "key-1")
    [only] = remote(env.sandbox, "Invoices", InvoiceNumber=doc.number)
    assert only["InvoiceID"] == again.remote_id and again.total == Decimal("110.00")


def test_lost_response_with_idempotency_forgotten_is_adopted_by_our_number(env, xero):
    cust, remote_customer = env.customer(xero)
    doc = invoice(cust.key)
    refs = mapping({cust.key: remote_customer.remote_id}, doc)
    env.sandbox.faults.add("lost_response", match="PUT /Invoices")
    with pytest.raises(RetryableError):
        xero.create(doc, refs, "key-2")
    env.sandbox.forget_idempotency_keys()
    # The pipeline's first retry searches (the write may have happened) and adopts what it finds...
    found = xero.find_existing(doc, refs)
    assert found is not None and found.adopted and found.number == doc.number
    # ...and a blind create with a fresh key is refused as a duplicate, which the pipeline turns into adoption.
    with pytest.raises(DuplicateError) as info:
        xero.create(doc, refs, "key-3")
    assert "Invoice # must be unique." in info.value.message
    updated = xero.update(doc, refs, RemoteRef(found.remote_id, found.version), "key-4")
    assert updated.remote_id == found.remote_id
    assert len(remote(env.sandbox, "Invoices", InvoiceNumber=doc.number)) == 1


def test_lost_response_end_to_end_through_the_pipeline(xsandbox, org, make_invoice, make_xero_connection):
    """The engine's safety nets with Xero: the retry adopts the invoice whose response was lost."""
    from accounting_sync.core.engine import process_entry
    from accounting_sync.models import EntryStatus, ExternalReference
    from tests.conftest import entry_of, make_due

    xsandbox.limits.off()
    make_xero_connection(org, rate_limits=False)
    local = make_invoice(("service", "2", "45.50"))
    xsandbox.faults.add("lost_response", match="PUT /Invoices")
    entry = entry_of(local)
    process_entry(entry.pk)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PENDING and len(remote(xsandbox, "Invoices")) == 1
    xsandbox.forget_idempotency_keys()
    make_due()
    process_entry(entry.pk)
    entry.refresh_from_db()
    [only] = remote(xsandbox, "Invoices")
    assert entry.status == EntryStatus.DONE
    assert ExternalReference.objects.get(source_key=entry.source_key).remote_id == only["InvoiceID"]
    assert Decimal(str(only["Total"])) == Decimal("91.00") and only["InvoiceNumber"] == local.number


def test_backlog_goes_in_one_batch_and_a_lost_batch_is_adopted(xsandbox, org, make_invoice,
                                                               make_xero_connection):
    from accounting_sync.models import EntryStatus, ExternalReference, SyncLog
    from tests import factories as f
    from tests.conftest import drain, entry_of, make_due

    xsandbox.limits.off()
    make_xero_connection(org, rate_limits=False)
    rate = f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))
    invoices = [make_invoice(("service", "1", f"{10 + n}.00", rate), ("discount", "1", "1.00")) for n in range(8)]
    xsandbox.faults.add("lost_response", match="PUT /Invoices")
    drain()
    assert len(remote(xsandbox, "Invoices")) == 8  # Xero has them all; we never heard back
    xsandbox.forget_idempotency_keys()
    make_due()
    drain()
    assert len(remote(xsandbox, "Invoices")) == 8
    entries = [entry_of(i) for i in invoices]
    assert {e.status for e in entries} == {EntryStatus.DONE}
    assert set(ExternalReference.objects.filter(entity="invoice").values_list("remote_id", flat=True)) == \
        {r["InvoiceID"] for r in remote(xsandbox, "Invoices")}
    puts = [p for m, p, _ in xsandbox.requests_log if m == "PUT" and p.endswith("/Invoices")]
    assert len(puts) == 1  # the first round: all eight in one request
    log = SyncLog.objects.filter(entry_id=entries[0].pk).order_by("pk").last()
    assert log.exchanges and all("Authorization" not in json.dumps(x) for x in log.exchanges)
    for local, ref in ((i, ExternalReference.objects.get(source_key=f"ledger.invoice:{i.pk}")) for i in invoices):
        row = xsandbox.store.get("Invoices", ref.remote_id)
        assert Decimal(str(row["Total"])) == local.totals().total


def test_find_existing_many_asks_once_per_chunk_and_checks_the_customer(env, xero):
    cust, remote_customer = env.customer(xero)
    other, remote_other = env.customer(xero)
    docs = [invoice(cust.key) for _ in range(3)]
    for doc in docs[:2]:
        xero.create(doc, mapping({cust.key: remote_customer.remote_id}, doc), f"k-{doc.number}")
    items = [(doc, mapping({cust.key: remote_customer.remote_id}, doc)) for doc in docs]
    before = len(xero.client.exchanges)
    found = xero.find_existing_many(items)
    assert [r is not None for r in found] == [True, True, False]
    calls = xero.client.exchanges[before:]
    assert len(calls) == 1 and calls[0]["method"] == "GET" and "InvoiceNumbers=" in calls[0]["path"]
    stolen = invoice(other.key, docs[0].number)  # our number, someone else's invoice
    with pytest.raises(DuplicateError):
        xero.find_existing(stolen, mapping({other.key: remote_other.remote_id}, stolen))


# -- batch -------------------------------------------------------------------------------------------------
def test_batch_of_50_with_3_invalid_gives_47_results_and_3_xero_messages(env, xero):
    cust, remote_customer = env.customer(xero)
    taken = invoice(cust.key)
    xero.create(taken, mapping({cust.key: remote_customer.remote_id}, taken), "taken")
    ops = []
    for n in range(50):
        doc = invoice(cust.key, f"B-{uuid.uuid4().hex[:6]}-{n}", sales_line(f"{10 + n}.25"))
        refs = mapping({cust.key: remote_customer.remote_id}, doc)
        if n == 7:
            refs = mapping({cust.key: remote_customer.remote_id}, doc, account="999")
        elif n == 21:
            refs = Mapping(line_accounts=("200",), tax_codes={"ledger.taxrate:1": "NOSUCHTAX"},
                           refs={cust.key: remote_customer.remote_id})
        elif n == 42:
            doc = invoice(cust.key, taken.number)
        ops.append(BatchOp("create", doc, refs, f"batch-{n}"))
    before = len(xero.client.exchanges)
    outcomes = xero.write_batch(ops)
    writes = [x for x in xero.client.exchanges[before:] if x["method"] != "GET"]
    assert len(writes) == 1 and writes[0]["method"] == "PUT" and writes[0]["path"].startswith("/Invoices")
    assert "summarizeErrors=false" in writes[0]["path"] and writes[0]["idempotency_key"]
    assert len(outcomes) == 50
    failed = {i: o for i, o in enumerate(outcomes) if isinstance(o, ValidationFailed)}
    assert set(failed) == {7, 21, 42}
    assert "Account code '999' is not a valid code" in failed[7].message
    assert "The TaxType code 'NOSUCHTAX' does not exist" in failed[21].message
    assert isinstance(failed[42], DuplicateError) and "Invoice # must be unique." in failed[42].message
    results = [o for o in outcomes if isinstance(o, RemoteResult)]
    assert len(results) == 47 and all(r.remote_id for r in results)
    assert len(remote(env.sandbox, "Invoices")) == 48  # 47 + the one that held the number already


def test_batch_updates_and_payments(env, xero):
    cust, remote_customer = env.customer(xero)
    docs = [invoice(cust.key) for _ in range(3)]
    created = [xero.create(d, mapping({cust.key: remote_customer.remote_id}, d), f"c-{d.number}") for d in docs]
    changed = [invoice(cust.key, d.number, sales_line("50.00")) for d in docs]
    ops = [BatchOp("update", d, mapping({cust.key: remote_customer.remote_id}, d), f"u-{d.number}",
                   RemoteRef(c.remote_id, c.version)) for d, c in zip(changed, created, strict=True)]
    outcomes = xero.write_batch(ops)
    assert [o.total for o in outcomes] == [Decimal("55.00")] * 3
    payments = [PaymentSnapshot(key=f"test.payment:{n}", organization_id=1, number=f"P-{n}", customer_key=cust.key,
                                date=TODAY, amount=Decimal("20.00"),
                                allocations=(Allocation(f"test.invoice:{n}", Decimal("20.00")),))
                for n in range(3)]
    pay_ops = [BatchOp("create", p, Mapping(deposit_account="090", refs={
        cust.key: remote_customer.remote_id, f"test.invoice:{n}": created[n].remote_id}), f"p-{n}")
        for n, p in enumerate(payments)]
    paid = xero.write_batch(pay_ops)
    assert all(isinstance(p, RemoteResult) for p in paid)
    assert {Decimal(str(r["AmountDue"])) for r in remote(env.sandbox, "Invoices")} == {Decimal("35.00")}


def test_batch_request_failure_raises_for_the_whole_batch(env, xero):
    cust, remote_customer = env.customer(xero)
    docs = [invoice(cust.key) for _ in range(2)]
    env.sandbox.faults.add("http_503", match="PUT /Invoices")
    with pytest.raises(RetryableError):
        xero.write_batch([BatchOp("create", d, mapping({cust.key: remote_customer.remote_id}, d), f"x-{d.number}")
                          for d in docs])
    assert remote(env.sandbox, "Invoices") == []


# -- rate limits -------------------------------------------------------------------------------------------
def test_daily_limit_pauses_until_utc_midnight(env, xero):
    env.sandbox.faults.add("rate_limit", problem="day", retry_after="4000")
    with pytest.raises(RateLimitedError) as info:
        env.customer(xero)
    now = dt.datetime.now(dt.UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    assert abs(info.value.retry_after - max(4000, (midnight - now).total_seconds())) < 5
    assert "daily limit" in info.value.message and info.value.platform_code == "day"


def test_daily_limit_classification_counts_to_midnight():
    noon = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    error = xero_errors.rate_limited({"x-rate-limit-problem": "day", "retry-after": "60"}, now=noon)
    assert error.retry_after == 12 * 3600 and isinstance(error, RateLimitedError)
    minute = xero_errors.rate_limited({"x-rate-limit-problem": "minute", "retry-after": "17"}, now=noon)
    assert minute.retry_after == 17 and "per-minute" in minute.message


def test_minute_limit_from_the_real_sandbox_limiter(env, xero):
    env.sandbox.limits.restore()
    env.sandbox.limits.set("minute", 2, 60)
    with pytest.raises(RateLimitedError) as info:
        for _ in range(3):
            env.customer(xero)
    assert 0 < info.value.retry_after <= 60 and info.value.platform_code == "minute"
    first, last = xero.client.exchanges[0], xero.client.exchanges[-1]
    assert first["x-minlimit-remaining"] == "1" and first["x-daylimit-remaining"]
    assert last["status"] == 429 and last["x-rate-limit-problem"] == "minute" and last["error"] == "rate_limited minute"


def test_every_request_draws_from_the_minute_and_day_budgets(env):
    kinds = []
    connector = XeroConnector(ConnectionConfig("xero", "budget", env.sandbox.tenant_id, env.settings(), *CLIENT),
                              env.get_token, throttle=kinds.append)
    env.customer(connector)
    assert kinds == ["day"]  # budget.throttle("day") takes one "request" token and one "day" token
    assert XeroConnector.rate_limits == {"request": (60, 60.0), "day": (5000, 86400.0)}


# -- payments, credit notes, void, delete -----------------------------------------------------------------
def test_payment_is_applied_found_again_and_deleted(env, xero):
    cust, remote_customer = env.customer(xero)
    doc = invoice(cust.key)
    created = xero.create(doc, mapping({cust.key: remote_customer.remote_id}, doc), "inv")
    pay = PaymentSnapshot(key="test.payment:1", organization_id=1, number="PAY-1", customer_key=cust.key, date=TODAY,
                          amount=Decimal("40.00"), allocations=(Allocation(doc.key, Decimal("40.00")),))
    refs = Mapping(deposit_account="090", refs={cust.key: remote_customer.remote_id, doc.key: created.remote_id})
    paid = xero.create(pay, refs, "pay")
    assert paid.total == Decimal("40.00")
    assert xero.fetch(Entity.INVOICE, created.remote_id).balance == Decimal("70.00")
    assert xero.find_existing(pay, refs).remote_id == paid.remote_id
    assert xero.update(pay, refs, RemoteRef(paid.remote_id, paid.version), "pay-again").remote_id == paid.remote_id
    xero.delete(Entity.PAYMENT, RemoteRef(paid.remote_id, paid.version), "pay-del")
    xero.delete(Entity.PAYMENT, RemoteRef(paid.remote_id, paid.version), "pay-del-again")  # already gone: fine
    assert xero.fetch(Entity.INVOICE, created.remote_id).balance == Decimal("110.00")
    with pytest.raises(RemoteNotFound):
        xero.fetch(Entity.PAYMENT, paid.remote_id)
    assert xero.find_existing(pay, refs) is None


def test_payment_change_replaces_the_xero_payment(env, xero):
    cust, remote_customer = env.customer(xero)
    doc = invoice(cust.key)
    created = xero.create(doc, mapping({cust.key: remote_customer.remote_id}, doc), "inv")
    refs = Mapping(deposit_account="090", refs={cust.key: remote_customer.remote_id, doc.key: created.remote_id})
    pay = PaymentSnapshot(key="test.payment:2", organization_id=1, number="PAY-2", customer_key=cust.key, date=TODAY,
                          amount=Decimal("40.00"), allocations=(Allocation(doc.key, Decimal("40.00")),))
    first = xero.create(pay, refs, "pay")
    bigger = PaymentSnapshot(**{**pay.__dict__, "amount": Decimal("60.00"),
                                "allocations": (Allocation(doc.key, Decimal("60.00")),)})
    second = xero.update(bigger, refs, RemoteRef(first.remote_id, first.version), "pay-up")
    assert second.remote_id != first.remote_id and second.total == Decimal("60.00")
    assert xero.fetch(Entity.INVOICE, created.remote_id).balance == Decimal("50.00")


def test_payment_preflight_needs_exactly_one_fully_allocated_invoice(xero):
    split = PaymentSnapshot(key="p", organization_id=1, number="P", customer_key="c", date=TODAY,
                            amount=Decimal("10"), allocations=(Allocation("a", Decimal("5")),
                                                               Allocation("b", Decimal("5"))))
    assert "exactly one invoice" in xero.preflight(split, Mapping(deposit_account="090"))[0]
    partial = PaymentSnapshot(**{**split.__dict__, "allocations": (Allocation("a", Decimal("5")),)})
    assert "unallocated" in xero.preflight(partial, Mapping(deposit_account="090"))[0]
    assert xero.preflight(PaymentSnapshot(**{**split.__dict__, "allocations": ()}), Mapping(deposit_account="090")) \
        == []  # applied to no invoice: an overpayment


def test_a_payment_applied_to_no_invoice_is_an_overpayment_and_its_refund_a_payment_on_it(env, xero):
    """A RECEIVE-OVERPAYMENT bank transaction makes the Overpayment; the refund lowers its RemainingCredit; Xero's API
    edits and removes no overpayment, so a change is refused; a refund of a payment on an invoice is refused."""
    cust, remote_customer = env.customer(xero)
    pay = PaymentSnapshot(key="test.payment:9", organization_id=1, number="PAY-9", customer_key=cust.key, date=TODAY,
                          amount=Decimal("80.00"))
    refs = Mapping(deposit_account="090", refs={cust.key: remote_customer.remote_id})
    made = xero.create(pay, refs, "overpay")
    assert made.remote_id.startswith("overpayment:") and (made.total, made.balance) == (Decimal("80.00"),) * 2
    assert made.raw["LineItems"][0]["AccountCode"] == "610"  # the accounts receivable system account
    assert xero.find_existing(pay, refs).remote_id == made.remote_id
    assert xero.update(pay, refs, RemoteRef(made.remote_id, made.version), "same").remote_id == made.remote_id
    with pytest.raises(PermanentError, match="cannot change an overpayment"):
        xero.update(PaymentSnapshot(**{**pay.__dict__, "amount": Decimal("90.00")}), refs,
                    RemoteRef(made.remote_id, made.version), "bigger")
    refund = RefundSnapshot(key="test.refund:9", organization_id=1, number="RF-9", customer_key=cust.key,
                            date=TODAY, amount=Decimal("30.00"), payment_key=pay.key)
    with_payment = Mapping(deposit_account="090", refs={**refs.refs, pay.key: made.remote_id})
    assert xero.preflight(refund, with_payment) == []
    paid = xero.create(refund, with_payment, "refund")
    assert paid.raw["Overpayment"]["OverpaymentID"] == made.remote_id.split(":", 1)[1]
    assert xero.fetch(Entity.PAYMENT, made.remote_id).balance == Decimal("50.00")
    assert xero.find_existing(refund, with_payment).remote_id == paid.remote_id
    [totals] = xero.read_documents(Entity.PAYMENT, [made.remote_id])
    assert (totals.remote_id, totals.total, totals.balance) == (made.remote_id, Decimal("80.00"), Decimal("50.00"))
    seen = xero.remote_payment(made.remote_id)
    assert (seen.remote_id, seen.amount, seen.allocations, seen.customer_remote_id, seen.deleted) == \
        (made.remote_id, Decimal("80.00"), (), remote_customer.remote_id, False)
    with pytest.raises(PermanentError, match="cannot remove an overpayment"):
        xero.delete(Entity.PAYMENT, RemoteRef(made.remote_id, made.version), "gone")
    xero.delete(Entity.REFUND, RemoteRef(paid.remote_id, paid.version), "refund-gone")
    assert xero.fetch(Entity.PAYMENT, made.remote_id).balance == Decimal("80.00")
    on_invoice = Mapping(deposit_account="090", refs={**refs.refs, pay.key: str(uuid.uuid4())})
    assert "sent as a payment on an invoice" in xero.preflight(refund, on_invoice)[0]


def test_credit_note_allocations_are_applied_once(env, xero):
    cust, remote_customer = env.customer(xero)
    doc = invoice(cust.key, None, sales_line("200.00"))
    created = xero.create(doc, mapping({cust.key: remote_customer.remote_id}, doc), "inv")
    note = credit_note(cust.key, sales_line("50.00"), allocations=[Allocation(doc.key, Decimal("30.00"))])
    refs = mapping({cust.key: remote_customer.remote_id, doc.key: created.remote_id}, note)
    made = xero.create(note, refs, "cn")
    assert made.total == Decimal("55.00") and made.balance == Decimal("25.00")
    assert xero.fetch(Entity.INVOICE, created.remote_id).balance == Decimal("190.00")
    again = xero.update(note, refs, RemoteRef(made.remote_id, made.version), "cn-again")  # nothing added twice
    assert again.balance == Decimal("25.00")
    more = CreditNoteSnapshot(**{**note.__dict__, "allocations": (Allocation(doc.key, Decimal("55.00")),)})
    current = xero.fetch(Entity.CREDIT_NOTE, made.remote_id)
    with pytest.raises(ValidationFailed):  # Xero freezes a credited document's lines, but allows more allocation
        xero.update(CreditNoteSnapshot(**{**more.__dict__, "lines": (sales_line("60.00"),),
                                          **_totals((sales_line("60.00"),))}),
                    refs, RemoteRef(made.remote_id, current.version), "cn-lines")
    topped = xero.update(more, refs, RemoteRef(made.remote_id, current.version), "cn-more")
    assert topped.balance == Decimal("0.00")
    assert xero.fetch(Entity.INVOICE, created.remote_id).balance == Decimal("165.00")
    less = CreditNoteSnapshot(**{**note.__dict__, "allocations": (Allocation(doc.key, Decimal("20.00")),)})
    lowered = xero.update(less, refs, RemoteRef(made.remote_id, topped.version), "cn-less")
    assert lowered.balance == Decimal("35.00")
    assert xero.fetch(Entity.INVOICE, created.remote_id).balance == Decimal("200.00")
    assert xero.find_existing(note, refs).remote_id == made.remote_id


def test_void_invoice_and_credit_note_with_allocations(env, xero):
    cust, remote_customer = env.customer(xero)
    doc = invoice(cust.key)
    created = xero.create(doc, mapping({cust.key: remote_customer.remote_id}, doc), "inv")
    voided = xero.void(Entity.INVOICE, RemoteRef(created.remote_id, created.version), "void")
    assert voided.status == "voided" and voided.total == Decimal("0.00")
    assert remote(env.sandbox, "Invoices")[0]["Status"] == "VOIDED"
    assert xero.void(Entity.INVOICE, RemoteRef(created.remote_id, voided.version), "void-2").status == "voided"
    target = invoice(cust.key)
    target_remote = xero.create(target, mapping({cust.key: remote_customer.remote_id}, target), "inv-2")
    note = credit_note(cust.key, sales_line("10.00"), allocations=[Allocation(target.key, Decimal("11.00"))])
    made = xero.create(note, mapping({cust.key: remote_customer.remote_id, target.key: target_remote.remote_id},
                                     note), "cn")
    assert made.balance == Decimal("0.00")
    note_void = xero.void(Entity.CREDIT_NOTE, RemoteRef(made.remote_id, made.version), "cn-void")
    assert note_void.status == "voided"
    assert xero.fetch(Entity.INVOICE, target_remote.remote_id).balance == Decimal("110.00")


def test_draft_invoice_is_deleted_and_approved_one_voided(env):
    drafts = env.connector(invoice_status="DRAFT")
    cust, remote_customer = env.customer(drafts)
    draft = invoice(cust.key)
    made = drafts.create(draft, mapping({cust.key: remote_customer.remote_id}, draft), "d")
    assert made.raw["Status"] == "DRAFT"
    drafts.delete(Entity.INVOICE, RemoteRef(made.remote_id, made.version), "d-del")
    with pytest.raises(RemoteNotFound):
        drafts.fetch(Entity.INVOICE, made.remote_id)
    assert drafts.find_existing(draft, mapping({cust.key: remote_customer.remote_id}, draft)) is None
    approved = env.connector()
    other = invoice(cust.key)
    made = approved.create(other, mapping({cust.key: remote_customer.remote_id}, other), "a")
    approved.delete(Entity.INVOICE, RemoteRef(made.remote_id, made.version), "a-del")
    assert approved.fetch(Entity.INVOICE, made.remote_id).status == "voided"


def test_draft_is_approved_on_update_but_approved_never_goes_back_to_draft(env):
    drafts = env.connector(invoice_status="DRAFT")
    cust, remote_customer = env.customer(drafts)
    doc = invoice(cust.key)
    refs = mapping({cust.key: remote_customer.remote_id}, doc)
    made = drafts.create(doc, refs, "d")
    approved = env.connector().update(doc, refs, RemoteRef(made.remote_id, made.version), "approve")
    assert approved.raw["Status"] == "AUTHORISED"
    again = drafts.update(doc, refs, RemoteRef(made.remote_id, approved.version), "edit")
    assert again.raw["Status"] == "AUTHORISED"


def test_update_after_a_change_in_xero_is_a_conflict_the_pipeline_resolves(env, xero):
    from connectors.errors import ConflictError

    cust, remote_customer = env.customer(xero)
    doc = invoice(cust.key)
    refs = mapping({cust.key: remote_customer.remote_id}, doc)
    made = xero.create(doc, refs, "inv")
    pay = PaymentSnapshot(key="test.payment:9", organization_id=1, number="PAY-9", customer_key=cust.key, date=TODAY,
                          amount=Decimal("10.00"), allocations=(Allocation(doc.key, Decimal("10.00")),))
    xero.create(pay, Mapping(deposit_account="090", refs={cust.key: remote_customer.remote_id,
                                                          doc.key: made.remote_id}), "pay")
    memo = InvoiceSnapshot(**{**doc.__dict__, "memo": "PO 7781"})
    with pytest.raises(ConflictError):
        xero.update(memo, refs, RemoteRef(made.remote_id, made.version), "stale")
    current = xero.fetch(Entity.INVOICE, made.remote_id)
    assert current.fingerprint == made.fingerprint  # only Xero's bookkeeping changed: safe to re-apply
    updated = xero.update(memo, refs, RemoteRef(made.remote_id, current.version), "fresh")
    assert updated.raw["Reference"] == "PO 7781" and updated.balance == Decimal("100.00")


# -- documents in detail -----------------------------------------------------------------------------------
def test_invoice_payload_lines_discounts_items_and_currency(env, xero):
    cust, remote_customer = env.customer(xero)
    item = ItemSnapshot(key="test.item:1", organization_id=1, name="Annual service plan for the big machine",
                        sku="", unit_price=Decimal("49.5000"))
    made_item = xero.create(item, Mapping(item_account="200"), "item")
    assert made_item.number == t.item_code(item) and len(made_item.number) <= 30
    assert xero.find_existing(item, Mapping(item_account="200")).remote_id == made_item.remote_id
    lines = (LineSnapshot(**{**sales_line("49.5000", "2").__dict__, "item_key": item.key, "item_name": item.name}),
             sales_line("12.3456", "1.5"), sales_line("10.00", rate=None, kind="shipping"),
             sales_line("5.00", kind="discount"))
    doc = invoice(cust.key, None, *lines, memo="PO 42", due_date=TODAY + dt.timedelta(days=14), currency="EUR",
                  exchange_rate=Decimal("1.08695652"))
    refs = mapping({cust.key: remote_customer.remote_id, item.key: made_item.remote_id}, doc)
    made = xero.create(doc, refs, "inv")
    raw = xero.fetch(Entity.INVOICE, made.remote_id).raw
    assert made.total == doc.total and Decimal(str(raw["TotalTax"])) == doc.tax_total
    assert raw["LineItems"][0]["ItemCode"] == made_item.number
    assert raw["LineItems"][3]["AccountCode"] == "210" and Decimal(str(raw["LineItems"][3]["LineAmount"])) < 0
    assert raw["LineItems"][2]["TaxType"] == "NONE"
    assert raw["Reference"] == "PO 42" and raw["CurrencyCode"] == "EUR"
    assert Decimal(str(raw["CurrencyRate"])) == Decimal("0.920000")
    assert raw["DueDateString"].startswith((TODAY + dt.timedelta(days=14)).isoformat())


def test_sub_customer_is_named_after_its_parent(env, xero):
    parent, remote_parent = env.customer(xero, "Northwind Health")
    child = CustomerSnapshot(key="test.customer:child", organization_id=1, name="Main office", parent_key=parent.key)
    refs = Mapping(refs={parent.key: remote_parent.remote_id})
    made = xero.create(child, refs, "child")
    assert made.number == "Northwind Health: Main office"
    other_parent, remote_other = env.customer(xero, "Contoso Dental")
    twin = CustomerSnapshot(key="test.customer:twin", organization_id=1, name="Main office",
                            parent_key=other_parent.key)
    assert xero.create(twin, Mapping(refs={other_parent.key: remote_other.remote_id}), "twin").number == \
        "Contoso Dental: Main office"  # same local name, no clash in Xero
    assert xero.find_existing(child, refs).remote_id == made.remote_id


def test_duplicate_contact_name_is_a_duplicate_error(env, xero):
    env.customer(xero, "Acme")
    with pytest.raises(DuplicateError) as info:
        env.customer(xero, "Acme")
    assert "already assigned to another contact" in info.value.message and info.value.hint


def test_reference_data_lists_active_accounts_by_code_tax_types_and_currencies(xero):
    data = xero.reference_data()
    assert data.accounts["200"] == "Sales" and "090" in data.accounts and "299" not in data.accounts
    assert data.accounts["429"] == "General Expenses"  # expense accounts too: expenses and journals post there
    assert data.account_kinds["429"] == "expense" and data.account_kinds["092"] == "deposit"  # a company card
    assert data.tax_codes["OUTPUT"] == "Tax on Sales" and "TAX002" not in data.tax_codes
    assert data.home_currency == "USD" and {"USD", "EUR"} <= data.currencies


def test_bad_settings_are_configuration_errors(env):
    connector = env.connector(line_amount_types="Gross")
    with pytest.raises(ConfigurationError):
        connector.preflight(invoice("c"), mapping({}, invoice("c")))


# -- tokens and connections --------------------------------------------------------------------------------
def test_expired_token_is_refreshed_once_then_the_call_succeeds(env):
    env.token = "expired"
    connector = env.connector()
    before = env.sandbox.token_calls
    env.customer(connector)
    assert env.forced == 1 and env.sandbox.token_calls == before + 1
    statuses = [x["status"] for x in connector.client.exchanges]
    assert statuses == [401, 200]


def test_second_401_is_an_auth_error(env):
    connector = env.connector(getter=lambda force=False: "never-valid")
    with pytest.raises(AuthError) as info:
        env.customer(connector)
    assert info.value.http_status == 401 and "Reconnect" in info.value.hint


def test_sdk_never_refreshes_or_stores_tokens_by_itself(env, xero):
    before = env.sandbox.token_calls
    env.customer(xero)
    sdk_token = xero.client.api_client.configuration.oauth2_token
    assert env.sandbox.token_calls == before
    assert sdk_token.refresh_token is None and sdk_token.client_secret is None
    assert not sdk_token.access_token  # the SDK never holds our token: the request loop sends it


def test_two_connections_in_one_process_keep_their_own_tokens_and_tenants(env):
    second_tenant = env.sandbox.add_tenant("Second Org")
    other = Env(env.sandbox)  # a second grant (connects the new tenant too)
    first = env.connector()
    second = other.connector(second_tenant)
    revoked = env.connector(getter=lambda force=False: "revoked-token-of-a-third-connection")
    Configuration()  # anyone else in the process touching the SDK's "singleton"
    for n in range(3):
        env.customer(first, f"First {n}")
        with pytest.raises(AuthError):
            env.customer(revoked, f"Revoked {n}")
        env.customer(second, f"Second {n}")
    assert {c["Name"] for c in env.sandbox.store.entities("Contacts")} == {"First 0", "First 1", "First 2"}
    assert {c["Name"] for c in env.sandbox.stores[second_tenant].entities("Contacts")} == \
        {"Second 0", "Second 1", "Second 2"}
    configs = {id(c.client.api_client.configuration.oauth2_token) for c in (first, second, revoked)}
    assert len(configs) == 3


def test_exchange_code_finds_the_tenant_through_connections(env):
    connector = env.connector()
    start = connector.authorization_url("http://localhost/callback", "state-1")
    query = parse_qs(urlsplit(start).query)
    assert query["scope"] == ["offline_access accounting.invoices accounting.payments accounting.contacts "
                              "accounting.settings"]
    redirect = requests.get(start, allow_redirects=False, timeout=5).headers["Location"]
    params = {k: v[-1] for k, v in parse_qs(urlsplit(redirect).query).items()}
    assert params["state"] == "state-1"
    tokens = env.connector(tenant_id="").exchange_code(params["code"], "http://localhost/callback", params)
    assert tokens.remote_company_id == env.sandbox.tenant_id
    assert tokens.refresh_token and tokens.refresh_expires_at and tokens.access_token
    again = connector.refresh(tokens.refresh_token)
    assert again.access_token != tokens.access_token
    with pytest.raises(AuthError) as info:
        connector.refresh("not-a-refresh-token")
    assert info.value.platform_code == "invalid_grant"


def test_exchanges_are_recorded_without_secrets(env, xero):
    cust, remote_customer = env.customer(xero)
    doc = invoice(cust.key)
    xero.create(doc, mapping({cust.key: remote_customer.remote_id}, doc), "key-for-log")
    last = xero.client.exchanges[-1]
    assert last["method"] == "PUT" and last["path"].startswith("/Invoices") and last["status"] == 200
    assert last["idempotency_key"] == "key-for-log" and last["ms"] >= 0 and last["xero-correlation-id"]
    assert env.token not in json.dumps(xero.client.exchanges)


def test_long_idempotency_keys_are_shortened_deterministically():
    key = "k" * 300
    assert len(t.idempotency_key(key)) == 128 and t.idempotency_key(key) == t.idempotency_key(key)
    assert t.idempotency_key(key) != t.idempotency_key(key + "x")


# -- error classification (no network) ---------------------------------------------------------------------
def _exc(status: int, body=b"", **headers) -> requests.Response:
    """A Xero answer as the request loop hands it to ``classify``."""
    response = requests.Response()
    response.status_code, response.headers = status, CaseInsensitiveDict(headers)
    response._content = json.dumps(body).encode() if isinstance(body, dict) else body
    return response


@pytest.mark.parametrize("status, body, cls, code", [
    (400, {"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
           "Elements": [{"ValidationErrors": [{"Message": "Account code '999' is not a valid code for this "
                                                          "document."}]}]}, ValidationFailed, "10"),
    (400, {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": "bad"}, ValidationFailed, "14"),
    (401, {"Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired: token expired"}, AuthError,
     "TokenExpired: token expired"),
    (403, {"Title": "Forbidden", "Status": 403, "Detail": "AuthenticationUnsuccessful"}, AuthError,
     "AuthenticationUnsuccessful"),
    (404, b"The resource you're looking for cannot be found", RemoteNotFound, "404"),
    (500, {"Title": "Internal Server Error"}, RetryableError, ""),
    (503, b"<html>down</html>", RetryableError, ""),
])
def test_classification_is_by_status_and_body(status, body, cls, code):
    error = xero_errors.classify(_exc(status, body))
    assert type(error) is cls and error.platform_code == code and error.http_status == status


def test_validation_message_and_hint_come_from_xero():
    error = xero_errors.classify(_exc(400, {"ErrorNumber": 10, "Type": "ValidationException", "Elements": [
        {"ValidationErrors": [{"Message": "The TaxType code 'X' does not exist or cannot be used for this type "
                                          "of transaction."}]}]}))
    assert "TaxType code 'X'" in error.message and "TaxType" in error.hint


def test_editing_an_invoice_with_an_allocation_gets_its_own_hint():
    from connectors.xero.sandbox.store import ALLOCATED

    error = xero_errors.classify(_exc(400, {"ErrorNumber": 10, "Type": "ValidationException", "Elements": [
        {"ValidationErrors": [{"Message": ALLOCATED}]}]}))
    assert "cannot be edited" in error.message
    assert "Remove the allocation in Xero" in error.hint and "Check the amounts" not in error.hint


def test_transport_errors_are_retryable():
    assert "timed out" in xero_errors.transport_error(requests.ReadTimeout("slow")).message
    assert "timed out" in xero_errors.transport_error(requests.ConnectTimeout("slow")).message
    assert "connection failed" in xero_errors.transport_error(requests.ConnectionError("reset by peer")).message


def test_slow_answer_times_out_once_and_is_retryable(env):
    env.sandbox.faults.timeout_seconds = 2
    connector = env.connector(timeout=0.5)
    env.sandbox.faults.add("timeout", match="PUT /Contacts")
    with pytest.raises(RetryableError) as info:
        env.customer(connector)
    assert info.value.message.startswith("Xero request timed out")
    assert [(x["method"], x["status"], x["error"]) for x in connector.client.exchanges] == [("PUT", None,
                                                                                            "retryable")]


@responses.activate
def test_redirect_is_not_followed_and_is_classified():
    responses.get("https://api.example/api.xro/2.0/Contacts", status=302,
                  headers={"Location": "https://elsewhere.example/Contacts"})
    responses.get("https://elsewhere.example/Contacts", json={"Contacts": []})
    settings = {"api_base": "https://api.example/api.xro/2.0", "timeout": 3}
    client = XeroConnector(ConnectionConfig("xero", "redirect", "tenant-1", settings, *CLIENT),
                           lambda force=False: "token").client
    with pytest.raises(ValidationFailed) as info:
        client.call("get_contacts")
    assert info.value.http_status == 302 and len(responses.calls) == 1
    assert [x["status"] for x in client.exchanges] == [302]


def test_request_bodies_must_be_pre_encoded_exact_json(env, xero):
    from xero_python.accounting import Contacts

    with pytest.raises(TypeError, match="pre-encoded"):
        xero.client.call("create_contacts", Contacts(contacts=[]))
    assert xero.client.exchanges == []


def test_reset_connection_is_retryable_and_not_retried_by_urllib3(env, xero):
    env.sandbox.faults.add("reset", match="PUT /Contacts")
    with pytest.raises(RetryableError) as info:
        env.customer(xero)
    assert info.value.message.startswith("Xero request connection failed")
    assert [x["method"] for x in xero.client.exchanges] == ["PUT"]
    assert env.sandbox.store.entities("Contacts") == []

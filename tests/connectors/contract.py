"""The contract every connector passes against its own sandbox over loopback HTTP.

A platform's ``tests/connectors/<platform>/test_contract.py`` subclasses ``ConnectorContract`` and sets
``platform``; the ``contract`` fixture builds everything else from the registry and the platform harness
(``tests/platforms.py``): the connector with tokens the sandbox issued, mappings to the sandbox's demo chart,
faults. What the contract asks follows the connector's declared capabilities: an entity, a void, a delete, an
inbound entity or webhooks it does not declare is skipped with that reason, and nothing else is.

Per-platform hooks (class attributes): ``delete_settings`` (connection settings for documents the tests delete:
a platform that deletes only drafts sends drafts there) and ``sign_webhook(body, secret) -> headers`` for a
platform whose sandbox emits no webhooks.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
import requests

from connectors import registry
from connectors.base import AccountKind, BaseConnector, BatchOp, ReferenceData
from connectors.documents import (Allocation, BillPaymentSnapshot, BillSnapshot, CreditNoteSnapshot,
                                  CustomerSnapshot, Entity, ExpenseLineSnapshot, ExpenseSnapshot, InvoiceSnapshot,
                                  ItemSnapshot, JournalLineSnapshot, JournalSnapshot, LineSnapshot, Mapping,
                                  PaymentSnapshot, RefundSnapshot, RemoteRef, RemoteResult)
from connectors.errors import (AuthError, ConflictError, DuplicateError, PermanentError, RateLimitedError,
                               RemoteNotFound, RetryableError, SyncError)
from ledger.money import line_net
from tests.platforms import CLIENT, POOL, PlatformHarness, money, next_second, sandbox_for

DOCUMENTS = (Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE)
#: Refunds, expenses, journals and supplier bills: documents too (a total, a number), checked where a platform
#: declares them.
COSTS = Entity.DECLARED


@dataclass
class ContractEnv:
    harness: PlatformHarness
    connector: BaseConnector
    reference: ReferenceData
    tokens: dict  # the access and refresh token the token getter hands out, and how often it refreshed
    settings: dict = field(default_factory=dict)

    def mapping(self, refs: dict | None = None, lines: int = 0) -> Mapping:
        """The demo chart's income and deposit accounts, ``refs`` (local key -> remote id) for dependencies."""
        chart, accounts = self.harness.chart, self.harness.account_ids(self.reference)
        income = accounts[chart.default_income]
        return Mapping(line_accounts=(income,) * lines, item_account=income, deposit_account=accounts[chart.deposit],
                       refs=dict(refs or {}))

    def cost_mapping(self, doc, refs: dict | None = None) -> Mapping:
        """For a refund, an expense or a journal: paid from the demo chart's deposit account; an expense's lines on
        the platform's first expense account; a journal's debit on the deposit account and credit on income."""
        chart, accounts = self.harness.chart, self.harness.account_ids(self.reference)
        deposit, income = accounts[chart.deposit], accounts[chart.default_income]
        if isinstance(doc, (ExpenseSnapshot, BillSnapshot)):
            cost = next(pk for pk, kind in sorted(self.reference.account_kinds.items())
                        if kind == AccountKind.EXPENSE)
            lines = (cost,) * len(doc.lines)
        elif isinstance(doc, JournalSnapshot):
            lines = tuple(deposit if line.debit else income for line in doc.lines)
        else:
            lines = ()
        if isinstance(doc, BillSnapshot):  # owed on the platform's own accounts payable: no rule
            deposit = None
        if isinstance(doc, BillPaymentSnapshot):  # paid from a bank account (the paid-from rule's)
            deposit = accounts[chart.paid_from]
        return Mapping(line_accounts=lines, deposit_account=deposit, refs=dict(refs or {}))

    def connector_with(self, **settings) -> BaseConnector:
        """Another connector on the same tokens, with these connection settings."""
        return self.harness.connector(self.connector._token_getter, **{**self.settings, **settings})

    def inject(self, kind: str, retry_after=None, count: int = 1) -> None:
        """The next ``count`` API calls fail as ``kind`` (http_500, http_503, timeout, reset, lost_response,
        rate_limit)."""
        self.harness.sandbox.faults.add(kind, count=count, **({"retry_after": retry_after} if retry_after else {}))

    def expire_token(self) -> None:
        """The access token in hand is no longer valid; the next refresh succeeds."""
        self.tokens["token"] = "expired-or-revoked"

    def token_calls(self) -> int:
        return self.harness.sandbox.token_calls

    def forget_keys(self) -> None:
        """The platform forgets the idempotency keys (request ids) it has seen."""
        self.harness.sandbox.forget_idempotency_keys()


# -- documents -------------------------------------------------------------------------------------------------
def _tag() -> str:
    return uuid.uuid4().hex[:8]


def customer(name: str | None = None) -> CustomerSnapshot:
    return CustomerSnapshot(key=f"test.customer:{_tag()}", organization_id=1, name=name or f"Contract {_tag()}")


def item(name: str | None = None, price: str = "25.00") -> ItemSnapshot:
    return ItemSnapshot(key=f"test.item:{_tag()}", organization_id=1, name=name or f"Grooming {_tag()}",
                        kind="service", unit_price=Decimal(price))


def _lines(prices) -> tuple[LineSnapshot, ...]:
    return tuple(LineSnapshot(kind="service", description=f"Line {i}", quantity=Decimal("1"), unit_price=Decimal(p),
                              net_amount=line_net(Decimal("1"), Decimal(p)), tax_amount=Decimal("0.00"))
                 for i, p in enumerate(prices))


def invoice(customer_key: str, number: str, prices=("100.00",)) -> InvoiceSnapshot:
    lines = _lines(prices)
    total = sum((line.net_amount for line in lines), Decimal("0.00"))
    return InvoiceSnapshot(key=f"test.invoice:{number}", organization_id=1, number=number, customer_key=customer_key,
                           issue_date=dt.date.today(), lines=lines, subtotal=total, total=total)


def credit_note(customer_key: str, number: str, prices=("30.00",), applied: tuple[Allocation, ...] = ()):
    lines = _lines(prices)
    total = sum((line.net_amount for line in lines), Decimal("0.00"))
    return CreditNoteSnapshot(key=f"test.creditnote:{number}", organization_id=1, number=number,
                              customer_key=customer_key, issue_date=dt.date.today(), lines=lines, subtotal=total,
                              total=total, allocations=applied)


def payment(customer_key: str, number: str, invoice_key: str, amount: str = "40.00") -> PaymentSnapshot:
    return PaymentSnapshot(key=f"test.payment:{number}", organization_id=1, number=number, customer_key=customer_key,
                           date=dt.date.today(), amount=Decimal(amount),
                           allocations=(Allocation(invoice_key, Decimal(amount)),))


def refund(customer_key: str, number: str, credit_note_key: str, amount: str = "10.00") -> RefundSnapshot:
    return RefundSnapshot(key=f"test.refund:{number}", organization_id=1, number=number, customer_key=customer_key,
                          date=dt.date.today(), amount=Decimal(amount), method="transfer",
                          credit_note_key=credit_note_key)


def expense(number: str, amounts=("20.00",)) -> ExpenseSnapshot:
    lines = tuple(ExpenseLineSnapshot(cost_kind="other", description=f"Cost {i}", net_amount=Decimal(a),
                                      tax_amount=Decimal("0.00")) for i, a in enumerate(amounts))
    total = sum((line.net_amount for line in lines), Decimal("0.00"))
    return ExpenseSnapshot(key=f"test.expense:{number}", organization_id=1, number=number,
                           payee="Contract supplier", date=dt.date.today(), paid_from="transfer", lines=lines,
                           subtotal=total, total=total)


def bill(number: str, amounts=("20.00",)) -> BillSnapshot:
    """A supplier bill without a supplier's number of its own: the platform numbers it with ours."""
    lines = tuple(ExpenseLineSnapshot(cost_kind="supplier", description=f"Supply {i}", net_amount=Decimal(a),
                                      tax_amount=Decimal("0.00")) for i, a in enumerate(amounts))
    total = sum((line.net_amount for line in lines), Decimal("0.00"))
    today = dt.date.today()
    return BillSnapshot(key=f"test.bill:{number}", organization_id=1, number=number, supplier="Contract supplier",
                        issue_date=today, due_date=today + dt.timedelta(days=30), lines=lines, subtotal=total,
                        total=total)


def bill_payment(bill_doc: BillSnapshot, number: str, amount: str = "8.00") -> BillPaymentSnapshot:
    """A part payment of ``bill_doc`` by bank transfer."""
    return BillPaymentSnapshot(key=f"test.billpayment:{number}", organization_id=1, number=number,
                               bill_key=bill_doc.key, bill_number=bill_doc.number, supplier=bill_doc.supplier,
                               date=dt.date.today(), amount=Decimal(amount), paid_from="transfer",
                               bill_owed=bill_doc.total)


def journal(number: str, amount: str = "15.00") -> JournalSnapshot:
    return JournalSnapshot(key=f"test.journal:{number}", organization_id=1, number=number, date=dt.date.today(),
                           memo="Contract adjustment",
                           lines=(JournalLineSnapshot("1000", "Debit", debit=Decimal(amount)),
                                  JournalLineSnapshot("4000", "Credit", credit=Decimal(amount))))


def total_of(doc) -> Decimal:
    """What a platform's result should say a document's total is."""
    return doc.amount if isinstance(doc, (PaymentSnapshot, RefundSnapshot)) else doc.total


@dataclass
class Made:
    """A document the contract created: its snapshot, the mapping it was sent with, and the platform's answer."""

    doc: object
    mapping: Mapping
    result: RemoteResult

    @property
    def ref(self) -> RemoteRef:
        return RemoteRef(self.result.remote_id, self.result.version)


class ConnectorContract:
    platform = ""
    #: Connection settings for documents a test deletes (e.g. a platform that deletes drafts only).
    delete_settings: dict = {}
    #: ``sign_webhook(body, secret) -> headers``, for a platform with webhooks whose sandbox emits none.
    sign_webhook: Callable[[bytes, str], dict] | None = None

    # -- fixtures ---------------------------------------------------------------------------------------------
    @pytest.fixture(scope="session")
    @classmethod
    def platform_sandboxes(cls):
        yield POOL
        POOL.stop()

    @pytest.fixture
    def harness(self, request, platform_sandboxes) -> PlatformHarness:
        h = PlatformHarness(self.platform, sandbox_for(request, self.platform), platform_sandboxes)
        h.reset()
        yield h
        h.clear_faults()

    @pytest.fixture
    def contract(self, harness) -> ContractEnv:
        issued = harness.sandbox.issue_tokens()
        tokens = {"token": issued["access_token"], "refresh": issued["refresh_token"], "refreshes": 0,
                  "still_refused": False}

        def token_getter(force: bool = False) -> str:
            if force:  # what connectors.tokens does after a 401: one refresh grant at the token endpoint
                tokens["refreshes"] += 1
                fresh = harness.cls(connector.config).refresh(tokens["refresh"])
                tokens["refresh"] = fresh.refresh_token
                tokens["token"] = "refused-again" if tokens["still_refused"] else fresh.access_token
            return tokens["token"]

        connector = harness.connector(token_getter)
        return ContractEnv(harness, connector, connector.reference_data(), tokens)

    # -- making documents -------------------------------------------------------------------------------------
    def _customer(self, env: ContractEnv, connector: BaseConnector | None = None) -> Made:
        doc = customer()
        return Made(doc, env.mapping(), (connector or env.connector).create(doc, env.mapping(), f"c-{uuid.uuid4()}"))

    def _item(self, env: ContractEnv, connector: BaseConnector | None = None) -> Made:
        doc = item()
        return Made(doc, env.mapping(), (connector or env.connector).create(doc, env.mapping(), f"t-{uuid.uuid4()}"))

    def _invoice(self, env: ContractEnv, prices=("100.00",), connector: BaseConnector | None = None):
        connector = connector or env.connector
        cust = self._customer(env, connector)
        doc = invoice(cust.doc.key, f"K{_tag()}", prices)
        mapping = env.mapping(refs={cust.doc.key: cust.result.remote_id}, lines=len(doc.lines))
        return doc, mapping, connector.create(doc, mapping, f"i-{uuid.uuid4()}")

    def _payment(self, env: ContractEnv, amount: str = "40.00", connector: BaseConnector | None = None):
        """An invoice of 100.00 and a payment of ``amount`` applied to it (the payment sent with ``connector``)."""
        inv_doc, inv_mapping, inv = self._invoice(env)
        doc = payment(inv_doc.customer_key, f"P{_tag()}", inv_doc.key, amount)
        mapping = env.mapping(refs={**inv_mapping.refs, inv_doc.key: inv.remote_id})
        sent = (connector or env.connector).create(doc, mapping, f"p-{uuid.uuid4()}")
        return Made(inv_doc, inv_mapping, inv), Made(doc, mapping, sent)

    def _credit_note(self, env: ContractEnv, applied: str | None = None, connector: BaseConnector | None = None):
        """A credit note of 30.00 (applied to an invoice of 100.00 for ``applied``, when given)."""
        connector = connector or env.connector
        inv_doc, inv_mapping, inv = self._invoice(env, connector=connector)
        allocations = (Allocation(inv_doc.key, Decimal(applied)),) if applied else ()
        doc = credit_note(inv_doc.customer_key, f"C{_tag()}", applied=allocations)
        mapping = env.mapping(refs={**inv_mapping.refs, inv_doc.key: inv.remote_id}, lines=len(doc.lines))
        return Made(inv_doc, inv_mapping, inv), Made(doc, mapping, connector.create(doc, mapping, f"n-{uuid.uuid4()}"))

    def _make(self, env: ContractEnv, entity: str, connector: BaseConnector | None = None) -> Made:
        """One document of ``entity``, sent with ``connector`` (a payment's invoice with the default one: a
        platform may take payments on approved invoices only)."""
        if entity == Entity.CUSTOMER:
            return self._customer(env, connector)
        if entity == Entity.ITEM:
            return self._item(env, connector)
        if entity == Entity.INVOICE:
            return Made(*self._invoice(env, connector=connector))
        if entity == Entity.PAYMENT:
            return self._payment(env, connector=connector)[1]
        if entity in COSTS:
            return self._cost(env, entity, connector)
        return self._credit_note(env, connector=connector)[1]

    def _cost(self, env: ContractEnv, entity: str, connector: BaseConnector | None = None) -> Made:
        doc, mapping = self._unsent(env, entity)
        return Made(doc, mapping, (connector or env.connector).create(doc, mapping, f"k-{uuid.uuid4()}"))

    def _unsent(self, env: ContractEnv, entity: str) -> tuple[object, Mapping]:
        """A document of ``entity`` not sent yet, with its dependencies sent."""
        if entity == Entity.CUSTOMER:
            return customer(), env.mapping()
        if entity == Entity.ITEM:
            return item(), env.mapping()
        if entity == Entity.EXPENSE:
            doc = expense(f"E{_tag()}")
            return doc, env.cost_mapping(doc)
        if entity == Entity.JOURNAL:
            doc = journal(f"J{_tag()}")
            return doc, env.cost_mapping(doc)
        if entity == Entity.BILL:
            doc = bill(f"B{_tag()}")
            return doc, env.cost_mapping(doc)
        if entity == Entity.BILL_PAYMENT:  # a bill of 20.00, of which 8.00 is paid
            owed = bill(f"B{_tag()}")
            sent = env.connector.create(owed, env.cost_mapping(owed), f"b-{uuid.uuid4()}")
            doc = bill_payment(owed, f"P{_tag()}")
            return doc, env.cost_mapping(doc, {owed.key: sent.remote_id})
        if entity == Entity.REFUND:  # a credit note of 30.00, of which 10.00 is refunded
            _, note = self._credit_note(env)
            doc = refund(note.doc.customer_key, f"R{_tag()}", note.doc.key)
            return doc, env.cost_mapping(doc, {**note.mapping.refs, note.doc.key: note.result.remote_id})
        cust = self._customer(env)
        refs = {cust.doc.key: cust.result.remote_id}
        if entity == Entity.INVOICE:
            doc = invoice(cust.doc.key, f"U{_tag()}", ("80.00",))
            return doc, env.mapping(refs=refs, lines=1)
        inv = invoice(cust.doc.key, f"V{_tag()}")
        refs[inv.key] = env.connector.create(inv, env.mapping(refs=refs, lines=1), f"i-{uuid.uuid4()}").remote_id
        if entity == Entity.PAYMENT:
            return payment(cust.doc.key, f"Q{_tag()}", inv.key, "25.00"), env.mapping(refs=refs)
        return credit_note(cust.doc.key, f"W{_tag()}", ("25.00",)), env.mapping(refs=refs, lines=1)

    def _declared(self, entity: str, capability: str = "entities") -> None:
        declared = getattr(registry.get(self.platform).capabilities, capability)
        if entity not in declared:
            pytest.skip(f"{self.platform} does not declare {entity} in capabilities.{capability}")

    # -- registration -----------------------------------------------------------------------------------------
    def test_registered_with_capabilities(self):
        cls = registry.get(self.platform)
        caps = cls.capabilities
        assert cls.id == self.platform and {Entity.CUSTOMER, Entity.INVOICE} <= caps.entities <= set(Entity.EVERY)
        assert caps.void <= caps.entities and caps.delete <= caps.entities and caps.inbound <= caps.entities
        assert cls.sandbox_class and cls.demo_chart and caps.batch_size >= 1

    # -- create, read, find, update, void, delete, per declared entity ----------------------------------------
    @pytest.mark.parametrize("entity", Entity.EVERY)
    def test_create_then_fetch_reads_it_back(self, contract, entity):
        self._declared(entity)
        made = self._make(contract, entity)
        fetched = contract.connector.fetch(entity, made.result.remote_id)
        assert fetched.remote_id == made.result.remote_id and fetched.status == "active"
        if entity == Entity.CUSTOMER:
            assert fetched.number == made.doc.name
        if entity in DOCUMENTS + COSTS:
            expected = total_of(made.doc)
            assert fetched.total == made.result.total == expected and fetched.number == made.doc.number

    def test_create_then_fetch_matches_totals(self, contract):
        doc, _, created = self._invoice(contract, ("100.00", "23.45"))
        fetched = contract.connector.fetch(Entity.INVOICE, created.remote_id)
        assert fetched.total == doc.total == Decimal("123.45") and fetched.number == doc.number
        assert fetched.balance == Decimal("123.45")

    # -- the reconciliation read hook -----------------------------------------------------------------------
    @pytest.mark.parametrize("entity", DOCUMENTS)
    def test_read_documents_gives_totals_status_and_gone_ones(self, contract, entity):
        """``read_documents`` (bulk where the platform can) agrees with ``fetch``; an id the platform does not know
        comes back "deleted": what reconciliation compares."""
        self._declared(entity)
        made = [self._make(contract, entity) for _ in range(2)]
        ids = [m.result.remote_id for m in made]
        missing = self.missing_id(entity, ids)
        read = {d.remote_id: d for d in contract.connector.read_documents(entity, [*ids, missing])}
        assert set(read) == {*ids, missing} and read[missing].status == "deleted"
        for m in made:
            totals, fetched = read[m.result.remote_id], contract.connector.fetch(entity, m.result.remote_id)
            assert totals.entity == entity and totals.total == fetched.total and totals.status in ("open", "paid")
            assert totals.number == fetched.number

    @staticmethod
    def missing_id(entity: str, ids: list[str]) -> str:
        """An id of the same shape as ``ids`` that the platform has not given out."""
        sample = ids[0]
        if sample.isdigit():
            return str(max(int(i) for i in ids) + 10_000)
        return str(uuid.UUID(int=uuid.UUID(sample).int ^ 1)) if len(sample) == 36 else f"{sample}0"

    @pytest.mark.parametrize("entity", Entity.EVERY)
    def test_find_existing_searches_before_create(self, contract, entity):
        self._declared(entity)
        doc, mapping = self._unsent(contract, entity)
        assert contract.connector.find_existing(doc, mapping) is None
        created = contract.connector.create(doc, mapping, f"f-{uuid.uuid4()}")
        found = contract.connector.find_existing(doc, mapping)
        assert found is not None and found.remote_id == created.remote_id and found.adopted
        [again] = contract.connector.find_existing_many([(doc, mapping)])
        assert again is not None and again.remote_id == created.remote_id

    @pytest.mark.parametrize("entity", Entity.EVERY)
    def test_update_with_current_version(self, contract, entity):
        self._declared(entity)
        made = self._make(contract, entity)
        doc = made.doc
        if entity == Entity.CUSTOMER:
            changed = CustomerSnapshot(key=doc.key, organization_id=1, name=f"{doc.name} renamed")
        elif entity == Entity.ITEM:
            changed = ItemSnapshot(key=doc.key, organization_id=1, name=doc.name, kind=doc.kind,
                                   unit_price=Decimal("31.00"))
        elif entity == Entity.INVOICE:
            changed = invoice(doc.customer_key, doc.number, ("150.00",))
        elif entity == Entity.PAYMENT:
            changed = payment(doc.customer_key, doc.number, doc.allocations[0].invoice_key, "55.00")
        elif entity == Entity.REFUND:
            changed = refund(doc.customer_key, doc.number, doc.credit_note_key, "12.00")
        elif entity == Entity.EXPENSE:
            changed = expense(doc.number, ("30.00",))
        elif entity == Entity.JOURNAL:
            changed = journal(doc.number, "18.00")
        elif entity == Entity.BILL:
            changed = bill(doc.number, ("35.00",))
        elif entity == Entity.BILL_PAYMENT:
            changed = dataclasses.replace(doc, amount=Decimal("12.00"))
        else:
            changed = credit_note(doc.customer_key, doc.number, ("45.00",))
        updated = contract.connector.update(changed, made.mapping, made.ref, f"u-{uuid.uuid4()}")
        fetched = contract.connector.fetch(entity, updated.remote_id)
        assert (updated.version, updated.fingerprint) != (made.result.version, made.result.fingerprint)
        if entity == Entity.CUSTOMER:
            assert fetched.number == changed.name
        elif entity == Entity.PAYMENT:
            assert fetched.total == Decimal("55.00")
        elif entity in COSTS:
            assert fetched.total == total_of(changed) and fetched.number == doc.number
        elif entity in DOCUMENTS:
            assert fetched.total == changed.total and fetched.number == doc.number

    @pytest.mark.parametrize("entity", Entity.EVERY)
    def test_void_keeps_the_record_with_nothing_due(self, contract, entity):
        self._declared(entity, "void")
        made = self._make(contract, entity)
        voided = contract.connector.void(entity, made.ref, f"v-{uuid.uuid4()}")
        fetched = contract.connector.fetch(entity, made.result.remote_id)
        assert voided.status == fetched.status == "voided" and fetched.total == Decimal("0.00")

    @pytest.mark.parametrize("entity", Entity.EVERY)
    def test_delete_then_the_platform_no_longer_holds_it(self, contract, entity):
        self._declared(entity, "delete")
        connector = contract.connector_with(**self.delete_settings)
        made = self._make(contract, entity, connector)
        connector.delete(entity, made.ref, f"d-{uuid.uuid4()}")
        if entity in DOCUMENTS + COSTS:
            with pytest.raises(RemoteNotFound):
                connector.fetch(entity, made.result.remote_id)
            return
        try:
            status = connector.fetch(entity, made.result.remote_id).status
        except RemoteNotFound:
            status = "not found"
        assert status in ("not found", "deleted", "inactive")  # names are made inactive where never deleted

    # -- money applied to invoices ----------------------------------------------------------------------------
    def test_payment_applied_to_an_invoice_lowers_its_balance(self, contract):
        self._declared(Entity.PAYMENT)
        inv, pay = self._payment(contract, "40.00")
        assert pay.result.total == Decimal("40.00")
        assert contract.connector.fetch(Entity.INVOICE, inv.result.remote_id).balance == Decimal("60.00")

    def test_credit_note_applied_to_an_invoice_lowers_its_balance(self, contract):
        self._declared(Entity.CREDIT_NOTE)
        inv, note = self._credit_note(contract, applied="30.00")
        assert contract.connector.fetch(Entity.CREDIT_NOTE, note.result.remote_id).total == Decimal("30.00")
        assert contract.connector.fetch(Entity.INVOICE, inv.result.remote_id).balance == Decimal("70.00")

    # -- delivery that never duplicates -----------------------------------------------------------------------
    @pytest.mark.parametrize("entity", Entity.EVERY)
    def test_lost_response_then_retry_with_same_key_creates_once(self, contract, entity):
        self._declared(entity)
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
        self._make(contract, entity)  # warm up: whatever the connector looks up once (generic items) is known now
        doc, mapping = self._unsent(contract, entity)
        contract.inject("lost_response")
        with pytest.raises(RetryableError):
            contract.connector.create(doc, mapping, "same-key-1")
        # A platform without idempotency keys is retried as the pipeline does it: search first, send if not found.
        keys = contract.connector.capabilities.idempotency_keys
        again = None if keys else contract.connector.find_existing(doc, mapping)
        again = again or contract.connector.create(doc, mapping, "same-key-1")
        assert contract.connector.find_existing(doc, mapping).remote_id == again.remote_id
        if entity in contract.connector.inbound_entities:
            assert self._same_remote(contract, entity, doc, since) == [again.remote_id]

    @pytest.mark.parametrize("entity", Entity.EVERY)
    def test_lost_response_with_keys_forgotten_is_found_by_search(self, contract, entity):
        """What the pipeline does after a lost create: search by our number / name and adopt, never send twice."""
        self._declared(entity)
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
        self._make(contract, entity)  # warm up
        doc, mapping = self._unsent(contract, entity)
        contract.inject("lost_response")
        with pytest.raises(RetryableError):
            contract.connector.create(doc, mapping, "lost-key-1")
        contract.forget_keys()
        found = contract.connector.find_existing(doc, mapping)
        assert found is not None and found.adopted
        if entity in DOCUMENTS + COSTS:
            assert found.total == total_of(doc)
        [again] = contract.connector.find_existing_many([(doc, mapping)])
        assert again is not None and again.remote_id == found.remote_id
        if entity in contract.connector.inbound_entities:
            assert self._same_remote(contract, entity, doc, since) == [found.remote_id]

    @staticmethod
    def _same_remote(contract, entity: str, doc, since) -> list[str]:
        """The remote records that are ``doc``: by number, or by name for customers and items (no number)."""
        if hasattr(doc, "number"):
            return contract.harness.numbered(contract.connector, entity, doc.number, since)
        return contract.harness.named(contract.connector, entity, doc.name, since)

    def test_lost_response_with_keys_forgotten_is_found_by_our_number(self, contract):
        self._invoice(contract)  # warm up
        cust = self._customer(contract)
        doc = invoice(cust.doc.key, f"L{_tag()}", ("80.00",))
        mapping = contract.mapping(refs={cust.doc.key: cust.result.remote_id}, lines=1)
        contract.inject("lost_response")
        with pytest.raises(RetryableError):
            contract.connector.create(doc, mapping, "lost-key-1")
        contract.forget_keys()
        found = contract.connector.find_existing(doc, mapping)
        assert found is not None and found.adopted and found.total == Decimal("80.00")
        with pytest.raises(DuplicateError):  # the key is forgotten: sending again is refused, never doubled
            contract.connector.create(doc, mapping, "lost-key-1")

    def test_duplicate_number_is_a_duplicate_error(self, contract):
        doc, mapping, _ = self._invoice(contract)
        with pytest.raises(DuplicateError) as info:
            contract.connector.create(doc, mapping, f"dup-{uuid.uuid4()}")  # same number, another key
        assert info.value.platform_code and info.value.message

    def test_fingerprint_of_our_write_equals_a_later_read(self, contract):
        """Conflict detection compares them: a false difference would report every update as a conflict."""
        _, _, created = self._invoice(contract, ("10.00", "20.00"))
        fetched = contract.connector.fetch(Entity.INVOICE, created.remote_id)
        assert created.fingerprint and fetched.fingerprint == created.fingerprint

    def test_stale_version_is_a_conflict(self, contract):
        doc, mapping, created = self._invoice(contract)
        if not created.version:
            pytest.skip("platform has no optimistic-concurrency version")
        updated = contract.connector.update(invoice(doc.customer_key, doc.number, ("110.00",)), mapping,
                                            RemoteRef(created.remote_id, created.version), f"u-{uuid.uuid4()}")
        with pytest.raises(ConflictError):
            contract.connector.update(invoice(doc.customer_key, doc.number, ("120.00",)), mapping,
                                      RemoteRef(created.remote_id, created.version), f"u-{uuid.uuid4()}")
        # where the update left the document (a platform that cannot change a posted one replaces it: SAP Business
        # One, Acumatica)
        assert contract.connector.fetch(Entity.INVOICE, updated.remote_id).total == Decimal("110.00")

    def test_batch_applies_each_item_on_its_own(self, contract):
        cust = self._customer(contract)
        taken, _, _ = self._invoice(contract)
        mapping = contract.mapping(refs={cust.doc.key: cust.result.remote_id, taken.customer_key: "unused"}, lines=1)
        docs = [invoice(cust.doc.key, f"B{_tag()}", (f"{10 + n}.00",)) for n in range(4)]
        docs.insert(2, invoice(cust.doc.key, taken.number, ("5.00",)))  # this number is taken
        outcomes = contract.connector.write_batch([BatchOp("create", d, mapping, f"b-{uuid.uuid4()}") for d in docs])
        assert len(outcomes) == 5 and isinstance(outcomes[2], SyncError)
        assert [o.total for i, o in enumerate(outcomes) if i != 2] == [Decimal("10.00"), Decimal("11.00"),
                                                                      Decimal("12.00"), Decimal("13.00")]

    # -- limits, tokens and errors ----------------------------------------------------------------------------
    def test_rate_limit_carries_retry_after(self, contract):
        contract.inject("rate_limit", retry_after="120")
        with pytest.raises(RateLimitedError) as info:
            self._customer(contract)
        assert info.value.retry_after == 120
        self._customer(contract)  # the limit was for that call only

    @pytest.mark.parametrize("kind", ["http_500", "http_503", "reset"])
    def test_server_errors_and_resets_are_retryable(self, contract, kind):
        contract.inject(kind)
        with pytest.raises(RetryableError) as info:
            self._customer(contract)
        assert not isinstance(info.value, RateLimitedError)

    def test_timeout_is_retryable(self, contract):
        made = self._customer(contract)
        impatient = contract.connector_with(timeout=0.5)
        contract.inject("timeout")  # the sandbox stalls longer than the connector waits
        with pytest.raises(RetryableError):
            impatient.fetch(Entity.CUSTOMER, made.result.remote_id)
        assert [kind for kind, _, _ in contract.harness.sandbox.faults.fired] == ["timeout"]

    def test_validation_error_is_permanent_with_platform_code_and_message(self, contract):
        cust = self._customer(contract)
        doc = invoice(cust.doc.key, f"X{_tag()}")
        bad = Mapping(line_accounts=("99999",), item_account="99999", refs={cust.doc.key: cust.result.remote_id})
        with pytest.raises(PermanentError) as info:
            contract.connector.create(doc, bad, f"x-{uuid.uuid4()}")  # an account the company does not have
        assert not isinstance(info.value, RetryableError)
        assert info.value.platform_code and info.value.message

    def test_expired_token_is_refreshed_once_and_call_succeeds(self, contract):
        contract.expire_token()
        before = contract.token_calls()
        self._customer(contract)
        assert contract.token_calls() == before + 1 and contract.tokens["refreshes"] == 1

    def test_refused_again_after_refresh_is_an_auth_error(self, contract):
        contract.expire_token()
        contract.tokens["still_refused"] = True  # the platform refuses even the refreshed token
        with pytest.raises(AuthError):
            self._customer(contract)
        assert contract.tokens["refreshes"] == 1  # refreshed once, not in a loop

    def test_revoked_consent_is_an_auth_error(self, contract):
        revoke_url = getattr(contract.harness.sandbox, "revoke_url", None)
        if not revoke_url:
            pytest.skip(f"the {self.platform} sandbox cannot revoke a grant")
        answer = requests.post(revoke_url, data={"token": contract.tokens["refresh"]}, auth=CLIENT, timeout=5)
        assert answer.status_code == 200
        contract.expire_token()
        with pytest.raises(AuthError):
            self._customer(contract)

    # -- platform -> local --------------------------------------------------------------------------------------
    def _inbound(self, contract, entity: str, deletion: bool = False) -> None:
        self._declared(entity, "inbound")
        if deletion and not registry.get(self.platform).capabilities.inbound_deletes:
            pytest.skip(f"{self.platform} does not declare capabilities.inbound_deletes (polling reports no deletions)")

    def _reported_once(self, contract, entity: str, remote_id: str, since: dt.datetime) -> list:
        """``changes_since`` reports ``remote_id``; from the cursor it returned, it does not again."""
        next_second()  # platforms compare whole seconds: the cursor must be past the change's second
        changes, cursor = contract.connector.changes_since([entity], since)
        mine = [c for c in changes if (c.entity, c.remote_id) == (entity, remote_id)]
        assert mine, f"{entity} {remote_id} not reported in {changes}"
        later, _ = contract.connector.changes_since([entity], cursor)
        assert (entity, remote_id) not in {(c.entity, c.remote_id) for c in later}
        return mine

    def test_invoice_line_edited_by_a_user_is_reported_and_read_back(self, contract):
        self._inbound(contract, Entity.INVOICE)
        _, _, created = self._invoice(contract, ("100.00", "20.00"))
        since = dt.datetime.now(dt.UTC)
        contract.harness.act("edit_invoice_line", invoice_id=created.remote_id, line=0, amount="150.00")
        self._reported_once(contract, Entity.INVOICE, created.remote_id, since)
        remote = contract.connector.remote_document(Entity.INVOICE, created.remote_id)
        assert remote.status == "active" and remote.total == Decimal("170.00") and remote.version != created.version
        assert [(money(q * p)) for q, p in remote.lines] == [Decimal("150.00"), Decimal("20.00")]

    def test_payment_recorded_by_a_user_is_reported_and_read_back(self, contract):
        self._inbound(contract, Entity.PAYMENT)
        doc, _, created = self._invoice(contract)
        since = dt.datetime.now(dt.UTC)
        contract.harness.act("record_payment", invoice_id=created.remote_id, amount="60.00", reference="USER-77")
        next_second()
        changes, _ = contract.connector.changes_since([Entity.PAYMENT], since)
        [change] = [c for c in changes if c.entity == Entity.PAYMENT]
        self._reported_once(contract, Entity.PAYMENT, change.remote_id, since)
        paid = contract.connector.remote_payment(change.remote_id)
        assert paid.amount == Decimal("60.00") and paid.allocations == ((created.remote_id, Decimal("60.00")),)
        assert not paid.deleted
        if contract.harness.takes("record_payment", "reference"):
            assert paid.reference == "USER-77"
        assert contract.connector.fetch(Entity.INVOICE, created.remote_id).balance == Decimal("40.00")

    def test_credit_note_change_is_reported_once(self, contract):
        self._inbound(contract, Entity.CREDIT_NOTE)
        since = dt.datetime.now(dt.UTC)
        _, note = self._credit_note(contract)  # no user action for credit notes: our own write is a change too
        self._reported_once(contract, Entity.CREDIT_NOTE, note.result.remote_id, since)
        remote = contract.connector.remote_document(Entity.CREDIT_NOTE, note.result.remote_id)
        assert remote.status == "active" and remote.total == Decimal("30.00") and remote.number == note.doc.number

    def test_invoice_voided_by_a_user_is_reported_and_read_back(self, contract):
        self._inbound(contract, Entity.INVOICE)
        _, _, created = self._invoice(contract)
        since = dt.datetime.now(dt.UTC)
        contract.harness.act("void_invoice", invoice_id=created.remote_id)
        [change] = self._reported_once(contract, Entity.INVOICE, created.remote_id, since)
        assert change.operation in ("void", "update")
        assert contract.connector.remote_document(Entity.INVOICE, created.remote_id).status == "voided"

    def test_invoice_deleted_by_a_user_is_reported_and_read_back(self, contract):
        self._inbound(contract, Entity.INVOICE, deletion=True)
        connector = contract.connector_with(**self.delete_settings)  # a platform may let users delete drafts only
        _, _, created = self._invoice(contract, connector=connector)
        since = dt.datetime.now(dt.UTC)
        contract.harness.act("delete_invoice", invoice_id=created.remote_id)
        [change] = self._reported_once(contract, Entity.INVOICE, created.remote_id, since)
        assert change.operation in ("delete", "update")
        assert contract.connector.remote_document(Entity.INVOICE, created.remote_id).status == "deleted"

    def test_payment_deleted_by_a_user_is_reported_and_read_back(self, contract):
        self._inbound(contract, Entity.PAYMENT, deletion=True)
        inv, pay = self._payment(contract, "40.00")
        since = dt.datetime.now(dt.UTC)
        contract.harness.act("delete_payment", payment_id=pay.result.remote_id)
        [change] = self._reported_once(contract, Entity.PAYMENT, pay.result.remote_id, since)
        assert change.operation == "delete"
        with contextlib.suppress(RemoteNotFound):
            assert contract.connector.remote_payment(pay.result.remote_id).deleted
        assert contract.connector.fetch(Entity.INVOICE, inv.result.remote_id).balance == Decimal("100.00")

    @pytest.mark.parametrize("entity", COSTS)
    def test_cost_taken_back_by_a_user_is_reported_and_read_back(self, contract, entity):
        """A refund, expense, journal or supplier bill we sent, voided, reversed or deleted by a person there: the
        change feed reports it once, and the reconciliation read shows it gone (``user_takes_back``)."""
        self._inbound(contract, entity)
        made = self._cost(contract, entity)
        since = dt.datetime.now(dt.UTC)
        contract.harness.take_back(entity, made.result.remote_id)
        [change] = self._reported_once(contract, entity, made.result.remote_id, since)
        assert change.operation in ("void", "delete", "update")
        [read] = contract.connector.read_documents(entity, [made.result.remote_id])
        assert read.status in ("voided", "deleted"), read

    def test_account_archived_by_a_user_leaves_the_reference_data(self, contract):
        accounts = contract.harness.account_ids(contract.reference)
        archived = accounts[contract.harness.chart.discount]
        contract.harness.act("archive_account", account_id=archived)
        assert archived not in contract.connector.reference_data().accounts

    # -- webhooks -----------------------------------------------------------------------------------------------
    def test_webhook_signed_with_the_secret_verifies_and_a_tampered_one_does_not(self, contract):
        cls = registry.get(self.platform)
        if not cls.capabilities.webhooks:
            pytest.skip(f"{self.platform} does not declare webhooks")
        secret = f"webhook-secret-{_tag()}"
        made = {}
        if contract.harness.emits_webhooks:
            headers, body = contract.harness.webhook_delivery(
                secret, lambda: made.update(invoice=self._invoice(contract)[2]))
        elif self.sign_webhook is not None:
            made["invoice"] = self._invoice(contract)[2]
            body = b'{"contract": "%s"}' % made["invoice"].remote_id.encode()
            headers = type(self).sign_webhook(body, secret)
        else:
            pytest.fail("the platform declares webhooks, but its sandbox emits none and the contract subclass "
                        "has no sign_webhook")
        assert cls.verify_webhook(headers, body, secret)
        assert not cls.verify_webhook(headers, body.replace(b"}", b" }", 1), secret)
        assert not cls.verify_webhook(headers, body, f"not-{secret}")
        assert not cls.verify_webhook({}, body, secret)
        if contract.harness.emits_webhooks:
            announced = {(c.entity, c.remote_id) for c in cls.parse_webhook(body)}
            assert (Entity.INVOICE, made["invoice"].remote_id) in announced

    # -- reference data -----------------------------------------------------------------------------------------
    def test_reference_data_lists_the_demo_chart_with_kinds_tax_codes_and_currencies(self, contract):
        data, chart = contract.reference, contract.harness.chart
        accounts = contract.harness.account_ids(data)
        names = {chart.default_income, chart.discount, chart.deposit, *chart.category_income.values(),
                 *chart.line_kind_income.values()}
        assert names <= accounts.keys()
        assert data.account_kinds[accounts[chart.default_income]] == AccountKind.INCOME
        assert data.account_kinds[accounts[chart.deposit]] == AccountKind.DEPOSIT
        assert set(data.account_kinds) <= set(data.accounts)
        assert set(chart.taxes.values()) <= set(data.tax_codes.values())
        assert data.home_currency and data.home_currency in data.currencies

"""The contract every connector passes against its own sandbox over loopback HTTP.

Subclass ``ConnectorContract`` in ``tests/connectors/<platform>/test_contract.py`` and provide a ``contract``
fixture returning a ``ContractEnv``: the connector, a mapping builder, and a fault injector for the sandbox.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

import pytest

from connectors import registry
from connectors.base import BaseConnector
from connectors.documents import (CustomerSnapshot, Entity, InvoiceSnapshot, LineSnapshot, Mapping, RemoteRef,
                                  RemoteResult)
from connectors.base import BatchOp
from connectors.errors import (ConflictError, DuplicateError, PermanentError, RateLimitedError, RemoteNotFound,
                               RetryableError, SyncError)
from ledger.money import line_net


@dataclass
class ContractEnv:
    connector: BaseConnector
    mapping: Callable[..., Mapping]  # mapping(refs=..., lines=n) -> Mapping with accounts / tax codes
    inject: Callable[..., None]  # inject(kind, retry_after=None): next API call fails that way
    token_calls: Callable[[], int]
    expire_token: Callable[[], None]  # make the current access token invalid on the platform side
    forget_keys: Callable[[], None] = lambda: None  # the platform forgets idempotency keys / request ids


def customer(name: str | None = None) -> CustomerSnapshot:
    return CustomerSnapshot(key=f"test.customer:{uuid.uuid4().hex[:8]}", organization_id=1,
                            name=name or f"Contract {uuid.uuid4().hex[:6]}")


def invoice(customer_key: str, number: str, prices=("100.00",)) -> InvoiceSnapshot:
    lines = tuple(LineSnapshot(kind="service", description=f"Line {i}", quantity=Decimal("1"), unit_price=Decimal(p),
                               net_amount=line_net(Decimal("1"), Decimal(p)), tax_amount=Decimal("0.00"))
                  for i, p in enumerate(prices))
    total = sum((line.net_amount for line in lines), Decimal("0.00"))
    return InvoiceSnapshot(key=f"test.invoice:{number}", organization_id=1, number=number, customer_key=customer_key,
                           issue_date=dt.date.today(), lines=lines, subtotal=total, total=total)


class ConnectorContract:
    platform = ""

    def _customer(self, env: ContractEnv) -> tuple[CustomerSnapshot, RemoteResult]:
        doc = customer()
        return doc, env.connector.create(doc, env.mapping(), f"c-{uuid.uuid4()}")

    def _invoice(self, env: ContractEnv, prices=("100.00",)):
        cust, remote_customer = self._customer(env)
        doc = invoice(cust.key, f"K{uuid.uuid4().hex[:8]}", prices)
        mapping = env.mapping(refs={cust.key: remote_customer.remote_id}, lines=len(doc.lines))
        return doc, mapping, env.connector.create(doc, mapping, f"i-{uuid.uuid4()}")

    def test_registered_with_capabilities(self):
        cls = registry.get(self.platform)
        assert cls.id == self.platform and {Entity.CUSTOMER, Entity.INVOICE} <= cls.capabilities.entities

    def test_create_then_fetch_matches_totals(self, contract):
        doc, _, created = self._invoice(contract, ("100.00", "23.45"))
        fetched = contract.connector.fetch(Entity.INVOICE, created.remote_id)
        assert fetched.total == doc.total == Decimal("123.45") and fetched.number == doc.number

    def test_find_existing_adopts_by_our_number(self, contract):
        doc, mapping, created = self._invoice(contract)
        found = contract.connector.find_existing(doc, mapping)
        assert found is not None and found.remote_id == created.remote_id and found.adopted

    def test_update_with_current_version(self, contract):
        doc, mapping, created = self._invoice(contract)
        changed = invoice(doc.customer_key, doc.number, ("150.00",))
        updated = contract.connector.update(changed, mapping, RemoteRef(created.remote_id, created.version), "u-1")
        assert updated.version != created.version
        assert contract.connector.fetch(Entity.INVOICE, created.remote_id).total == Decimal("150.00")

    def test_void_keeps_record_with_zero_total(self, contract):
        if Entity.INVOICE not in contract.connector.capabilities.void:
            pytest.skip("platform does not void invoices")
        _, _, created = self._invoice(contract)
        contract.connector.void(Entity.INVOICE, RemoteRef(created.remote_id, created.version), "v-1")
        assert contract.connector.fetch(Entity.INVOICE, created.remote_id).total == Decimal("0.00")

    def test_delete_then_fetch_is_not_found(self, contract):
        _, _, created = self._invoice(contract)
        contract.connector.delete(Entity.INVOICE, RemoteRef(created.remote_id, created.version), "d-1")
        with pytest.raises(RemoteNotFound):
            contract.connector.fetch(Entity.INVOICE, created.remote_id)

    def test_validation_error_is_permanent_with_platform_code(self, contract):
        doc, mapping, _ = self._invoice(contract)
        with pytest.raises(PermanentError) as info:
            contract.connector.create(doc, mapping, f"dup-{uuid.uuid4()}")  # same number again
        assert info.value.platform_code and info.value.message

    def test_rate_limit_carries_retry_after(self, contract):
        contract.inject("rate_limit", retry_after="120")
        with pytest.raises(RateLimitedError) as info:
            self._customer(contract)
        assert info.value.retry_after == 120

    def test_server_error_and_lost_response_are_retryable(self, contract):
        for kind in ("http_503", "reset"):
            contract.inject(kind)
            with pytest.raises(RetryableError):
                self._customer(contract)

    def test_lost_response_then_retry_with_same_key_creates_once(self, contract):
        cust = customer()
        contract.inject("lost_response")
        with pytest.raises(RetryableError):
            contract.connector.create(cust, contract.mapping(), "same-key-1")
        again = contract.connector.create(cust, contract.mapping(), "same-key-1")
        assert contract.connector.find_existing(cust, contract.mapping()).remote_id == again.remote_id

    def test_expired_token_is_refreshed_once_and_call_succeeds(self, contract):
        contract.expire_token()
        before = contract.token_calls()
        self._customer(contract)
        assert contract.token_calls() == before + 1

    # -- delivery that never duplicates (issue 3) ---------------------------------------------------------
    def test_duplicate_number_is_a_duplicate_error(self, contract):
        doc, mapping, _ = self._invoice(contract)
        with pytest.raises(DuplicateError):
            contract.connector.create(doc, mapping, f"dup-{uuid.uuid4()}")

    def test_lost_response_with_keys_forgotten_is_found_by_our_number(self, contract):
        self._invoice(contract)  # warm up: whatever the connector looks up once (generic items) is known now
        cust, remote_customer = self._customer(contract)
        doc = invoice(cust.key, f"L{uuid.uuid4().hex[:8]}", ("80.00",))
        mapping = contract.mapping(refs={cust.key: remote_customer.remote_id}, lines=1)
        contract.inject("lost_response")
        with pytest.raises(RetryableError):
            contract.connector.create(doc, mapping, "lost-key-1")
        contract.forget_keys()
        found = contract.connector.find_existing(doc, mapping)
        assert found is not None and found.adopted and found.total == Decimal("80.00")
        [again] = contract.connector.find_existing_many([(doc, mapping)])
        assert again is not None and again.remote_id == found.remote_id

    def test_fingerprint_of_our_write_equals_a_later_read(self, contract):
        """Conflict detection compares them: a false difference would report every update as a conflict."""
        _, _, created = self._invoice(contract, ("10.00", "20.00"))
        fetched = contract.connector.fetch(Entity.INVOICE, created.remote_id)
        assert created.fingerprint and fetched.fingerprint == created.fingerprint

    def test_stale_version_is_a_conflict(self, contract):
        doc, mapping, created = self._invoice(contract)
        if not created.version:
            pytest.skip("platform has no optimistic-concurrency version")
        contract.connector.update(invoice(doc.customer_key, doc.number, ("110.00",)), mapping,
                                  RemoteRef(created.remote_id, created.version), f"u-{uuid.uuid4()}")
        with pytest.raises(ConflictError):
            contract.connector.update(invoice(doc.customer_key, doc.number, ("120.00",)), mapping,
                                      RemoteRef(created.remote_id, created.version), f"u-{uuid.uuid4()}")

    def test_batch_applies_each_item_on_its_own(self, contract):
        cust, remote_customer = self._customer(contract)
        taken, _, _ = self._invoice(contract)
        mapping = contract.mapping(refs={cust.key: remote_customer.remote_id, taken.customer_key: "unused"}, lines=1)
        docs = [invoice(cust.key, f"B{uuid.uuid4().hex[:8]}", (f"{10 + n}.00",)) for n in range(4)]
        docs.insert(2, invoice(cust.key, taken.number, ("5.00",)))  # this number is taken
        outcomes = contract.connector.write_batch([BatchOp("create", d, mapping, f"b-{uuid.uuid4()}") for d in docs])
        assert len(outcomes) == 5 and isinstance(outcomes[2], SyncError)
        assert [o.total for i, o in enumerate(outcomes) if i != 2] == [Decimal("10.00"), Decimal("11.00"),
                                                                      Decimal("12.00"), Decimal("13.00")]

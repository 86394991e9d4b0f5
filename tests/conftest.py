"""Shared fixtures: a QBO sandbox on loopback, a connected QBO connection with mappings, ledger data."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests import factories as f


@pytest.fixture(scope="session")
def qbo_sandbox():
    from connectors.qbo.sandbox import QBOSandbox

    sandbox = QBOSandbox(port=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(qbo_sandbox):
    from connectors.qbo.connector import forget_remembered_items

    qbo_sandbox.reset()
    forget_remembered_items()  # a fresh company: what the connector remembered about the last one is gone
    qbo_sandbox.faults.clear()
    yield qbo_sandbox
    qbo_sandbox.faults.clear()


@pytest.fixture(scope="session")
def xero_sandbox():
    from connectors.xero.sandbox import XeroSandbox

    sandbox = XeroSandbox(port=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def xsandbox(xero_sandbox):
    """The session Xero sandbox, emptied: fresh reference data, no faults, Xero's limits with empty counters."""
    xero_sandbox.reset()
    yield xero_sandbox
    xero_sandbox.faults.clear()
    xero_sandbox.limits.restore()


def xero_settings(sandbox) -> dict:
    return {"api_base": sandbox.api_base, "token_url": sandbox.token_url, "authorize_url": sandbox.authorize_url,
            "connections_url": sandbox.connections_url, "timeout": 3}


@pytest.fixture
def make_xero_connection(xsandbox):
    """A connected Xero connection serving ``orgs``, mapped to the sandbox's chart (codes 200/210/090, OUTPUT)."""
    from mappings.models import MappingKind, Scope

    def make(*orgs, direction="push", **settings):
        tokens = xsandbox.issue_tokens()
        conn = f.ConnectionFactory(
            name=f"Xero {f.ConnectionFactory._meta.model.objects.count() + 1}", platform="xero", direction=direction,
            remote_company_id=xsandbox.tenant_id, settings={**xero_settings(xsandbox), **settings},
            access_token=tokens["access_token"], refresh_token=tokens["refresh_token"],
            access_expires_at=timezone.now() + dt.timedelta(seconds=tokens["expires_in"]))
        conn.organizations.add(*orgs)
        f.MappingFactory(connection=conn, kind=MappingKind.INCOME_ACCOUNT, remote_id="200")
        f.MappingFactory(connection=conn, kind=MappingKind.DISCOUNT_ACCOUNT, remote_id="210")
        f.MappingFactory(connection=conn, kind=MappingKind.DEPOSIT_ACCOUNT, remote_id="090")
        f.MappingFactory(connection=conn, kind=MappingKind.TAX_CODE, scope=Scope.TAX_RATE, local_value="GST 10%",
                         remote_id="OUTPUT")
        return conn

    return make


def sandbox_settings(sandbox) -> dict:
    return {"api_base": sandbox.api_base, "authorize_url": sandbox.authorize_url, "token_url": sandbox.token_url,
            "timeout": 5}


@pytest.fixture
def org(db):
    return f.OrganizationFactory()


@pytest.fixture
def make_connection(sandbox):
    """A connected QBO connection serving ``orgs``, with tokens from the sandbox and the default mappings."""

    def make(*orgs, mapped=True, **kwargs):
        tokens = sandbox.issue_tokens()
        conn = f.ConnectionFactory(
            settings=sandbox_settings(sandbox), remote_company_id=sandbox.realm_id,
            access_token=tokens["access_token"], refresh_token=tokens["refresh_token"],
            access_expires_at=timezone.now() + dt.timedelta(seconds=tokens["expires_in"]), **kwargs)
        conn.organizations.add(*orgs)
        if mapped:
            map_defaults(conn, sandbox)
        return conn

    return make


@pytest.fixture
def connection(make_connection, org):
    return make_connection(org)


def account_id(sandbox, name: str) -> str:
    return next(a["Id"] for a in sandbox.store.entities("Account") if a["Name"] == name)


def tax_code_id(sandbox, name: str) -> str:
    return next(c["Id"] for c in sandbox.store.entities("TaxCode") if c["Name"] == name)


def map_defaults(conn, sandbox) -> None:
    from mappings.models import MappingKind, Scope

    f.MappingFactory(connection=conn, kind=MappingKind.INCOME_ACCOUNT, remote_id=account_id(sandbox, "Sales"))
    for kind, account in ((MappingKind.DISCOUNT_ACCOUNT, "Discounts given"),
                          (MappingKind.DEPOSIT_ACCOUNT, "Undeposited Funds")):
        f.MappingFactory(connection=conn, kind=kind, remote_id=account_id(sandbox, account))
    f.MappingFactory(connection=conn, kind=MappingKind.TAX_CODE, scope=Scope.TAX_RATE, local_value="GST 10%",
                     remote_id=tax_code_id(sandbox, "GST 10%"))


@pytest.fixture
def make_invoice(org):
    """An issued invoice with ``lines`` (kind, quantity, unit price[, tax rate]) saved in one transaction."""
    from django.db import transaction

    def make(*lines, organization=None, **kwargs):
        organization = organization or org
        with transaction.atomic():
            invoice = f.InvoiceFactory(organization=organization, **kwargs)
            for pos, line in enumerate(lines or [("service", "1", "100.00")]):
                kind, qty, price, *rest = line
                f.InvoiceLineFactory(invoice=invoice, position=pos, kind=kind, quantity=Decimal(qty),
                                     unit_price=Decimal(price), tax_rate=rest[0] if rest else None)
        return invoice

    return make


def drain():
    from accounting_sync.tasks import drain as run

    return run()


def remote_invoices(sandbox):
    return sandbox.store.entities("Invoice")


class Clock:
    """Real time plus an offset the test moves forward: what ``django.utils.timezone.now()`` returns."""

    def __init__(self, real):
        self.real, self.offset = real, dt.timedelta()

    def now(self):
        return self.real() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    """A controllable clock for the pipeline (leases, backoff, rate-limit pauses all read ``timezone.now``)."""
    c = Clock(timezone.now)
    monkeypatch.setattr(timezone, "now", c.now)
    return c


def at_once(count: int, work) -> list[Exception]:
    """Run ``work()`` in ``count`` threads released together, each on its own database connection (PostgreSQL
    concurrency tests: workers of several processes); returns what they raised."""
    import threading

    from django.db import connection as db

    barrier, errors = threading.Barrier(count), []

    def run():
        try:
            barrier.wait()
            work()
        except Exception as exc:  # pragma: no cover - the test asserts there are none
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def entry_of(document, **filters):
    """The document's outbox entry, once the dispatcher has taken in the saved change (what the cluster does at
    its next poll; ``drain`` does it too)."""
    from accounting_sync.core import outbox
    from accounting_sync.models import OutboxEntry
    from accounting_sync.core.sources import key_for

    outbox.absorb()
    return OutboxEntry.objects.get(source_key=key_for(document), **filters)


def make_due(**filters) -> int:
    """Pretend the backoff has passed for pending entries."""
    from accounting_sync.models import EntryStatus, OutboxEntry

    return OutboxEntry.objects.filter(status=EntryStatus.PENDING, **filters).update(next_attempt_at=timezone.now())

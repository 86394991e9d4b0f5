"""Returns and costs worked examples on every registered platform that declares them (issue 23).

Parametrized over the registry (``tests/platforms.py``): each example runs on every platform whose connector
declares the entity (and, for the restocking fee, ``kept_lines``), and is skipped with that reason elsewhere. The
ledger documents go through the pipeline to the platform's sandbox; what the platform then holds is read back
through the connector (``fetch``), never from a sandbox's store, and the GL preview must show the legs an
accountant expects, balanced; and each ends reconciled: a full run of the reconcile engine finds no variance and
compared each document (on a platform whose connector reconciles the entity: ``reconcile_entities``).
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, RemoteStatus
from accounting_sync.policies import preflight
from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import DocumentCheck, RunStatus, Variance, VarianceStatus
from accounting_sync.staff import glpreview
from connectors.base import AccountKind
from connectors.documents import Entity
from connectors.errors import RemoteNotFound
from ledger.models import DocumentStatus
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests import platforms
from tests.conftest import drain

pytestmark = pytest.mark.django_db
harness, platform, platform_sandboxes = platforms.harness, platforms.platform, platforms.platform_sandboxes
D = Decimal


def needs(harness, entity: str, kept_lines: bool = False) -> None:
    """Skip unless the platform declares ``entity`` (and kept credit-note lines when asked)."""
    caps = harness.capabilities
    if entity not in caps.entities:
        pytest.skip(f"{harness.platform} does not declare {entity} in capabilities.entities")
    if kept_lines and not caps.kept_lines:
        pytest.skip(f"{harness.platform} does not declare kept_lines (restocking fees)")


@pytest.fixture
def rates(org):
    """The organization's tax rates, named like the demo's so the demo chart maps them."""
    return {"gst": f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10")),
            "exempt": f.TaxRateFactory(organization=org, name="Exempt", rate=D("0"))}


@pytest.fixture
def conn(harness, org, rates):
    """A connection with the demo chart mapped: refunds paid from ``chart.refund``, expenses on ``chart.expense``
    paid from ``chart.paid_from`` (``demo.map_demo_accounts``)."""
    return harness.connect(org)


def accounts(conn) -> dict[str, str]:
    """Account name -> id on the connection's platform."""
    reference = preflight.reference_data(conn, conn.connector(), refresh=True)
    return {name: pk for pk, name in reference.accounts.items()}


def key(obj) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def ref_of(conn, obj) -> ExternalReference:
    return ExternalReference.objects.get(connection=conn, source_key=key(obj))


def held(conn, entity: str, obj):
    """What the platform holds for ``obj``, read through the connector; None when it no longer holds it."""
    try:
        return conn.connector().fetch(entity, ref_of(conn, obj).remote_id)
    except RemoteNotFound:
        return None


def legs(conn, obj) -> glpreview.Journal:
    """The GL preview of ``obj`` with the platform's current lists: balanced, with no problem."""
    entry = glpreview.preview(conn, key(obj), preflight.reference_data(conn, conn.connector(), refresh=True))
    assert entry.balanced and not entry.problems, (entry.lines, entry.problems)
    return entry


def sides(entry: glpreview.Journal) -> list[tuple[str, Decimal, Decimal]]:
    return [(line.account_id, line.debit, line.credit) for line in entry.lines]


def all_done() -> None:
    stuck = OutboxEntry.objects.exclude(status=EntryStatus.DONE)
    assert not stuck.exists(), list(stuck.values_list("label", "error_code", "last_error"))


def reconciled(conn, *documents) -> None:
    """...and is reconciled: a full run finds no variance, and each of ``documents`` whose entity the platform
    reconciles was compared and found equal."""
    run = engine.run(conn)
    assert run.status == RunStatus.DONE, run.error
    assert list(Variance.objects.filter(connection=conn, status=VarianceStatus.OPEN)
                .values_list("label", "field", "reason", "message")) == []
    compared = conn.connector().reconcile_entities
    for document in documents:
        ref = ref_of(conn, document)
        if ref.entity in compared:
            check = DocumentCheck.objects.get(connection=conn, source_key=key(document))
            assert check.equal and check.entity == ref.entity


def returned(org, price: str = "120.00", fee: str = ""):
    """A credit note for goods returned at ``price``, less a restocking fee of ``fee`` the business keeps."""
    with transaction.atomic():
        note = f.CreditNoteFactory(organization=org)
        f.CreditNoteLineFactory(credit_note=note, position=0, kind="product", unit_price=D(price))
        if fee:
            f.CreditNoteLineFactory(credit_note=note, position=1, kind="restocking_fee", description="Restocking fee",
                                    unit_price=D(fee))
    return note


def test_a_return_of_120_with_a_12_restocking_fee_refunded_108_to_a_card(harness, conn, org):
    needs(harness, Entity.REFUND, kept_lines=True)
    names = accounts(conn)
    refund_account = names[harness.chart.refund]
    note = returned(org, fee="12.00")
    assert note.totals().total == D("108.00") and note.totals().kept == D("12.00")
    refund = f.RefundFactory(credit_note=note, amount=D("108.00"), method="card")
    drain()
    all_done()

    credit = held(conn, Entity.CREDIT_NOTE, note)
    assert credit.total == D("108.00")  # 120.00 returned, less the 12.00 kept
    assert credit.balance == D("0.00")  # the whole credit went back to the customer
    paid = held(conn, Entity.REFUND, refund)
    assert paid.total == D("108.00") and paid.status == "active"

    receivable = legs(conn, note).lines[0].account_id
    note_legs = sides(legs(conn, note))
    assert note_legs[0] == (receivable, D("0.00"), D("108.00"))
    assert sum(debit for _, debit, _ in note_legs) == D("120.00")  # the goods back, at their price
    assert (names[harness.chart.line_kind_income.get("restocking_fee", harness.chart.default_income)], D("0.00"),
            D("12.00")) in note_legs  # the fee kept is income
    assert sides(legs(conn, refund)) == [(receivable, D("108.00"), D("0.00")), (refund_account, D("0.00"),
                                                                                D("108.00"))]
    reconciled(conn, note, refund)


def test_a_partial_refund_leaves_the_rest_of_the_credit(harness, conn, org):
    needs(harness, Entity.REFUND)
    note = returned(org, price="100.00")
    first = f.RefundFactory(credit_note=note, amount=D("40.00"), method="transfer")
    drain()
    all_done()
    assert held(conn, Entity.CREDIT_NOTE, note).balance == D("60.00")
    assert held(conn, Entity.REFUND, first).total == D("40.00")
    with pytest.raises(ValidationError, match="has 60.00 USD left to refund"):
        f.RefundFactory(credit_note=note, amount=D("60.01"), method="transfer")
    second = f.RefundFactory(credit_note=note, amount=D("25.00"), method="card")
    drain()
    assert held(conn, Entity.CREDIT_NOTE, note).balance == D("35.00")
    assert held(conn, Entity.REFUND, second).total == D("25.00")
    entry = legs(conn, second)
    assert [(line.debit, line.credit) for line in entry.lines] == [(D("25.00"), D("0.00")), (D("0.00"), D("25.00"))]

    first.amount = D("30.00")  # corrected: the platform's refund follows, and the credit it leaves
    first.save()
    drain()
    all_done()
    assert held(conn, Entity.REFUND, first).total == D("30.00")
    assert held(conn, Entity.CREDIT_NOTE, note).balance == D("45.00")
    reconciled(conn, note, first, second)


def test_a_refund_voided_gives_the_credit_back(harness, conn, org):
    needs(harness, Entity.REFUND)
    note = returned(org)
    refund = f.RefundFactory(credit_note=note, amount=D("120.00"))
    drain()
    assert held(conn, Entity.CREDIT_NOTE, note).balance == D("0.00")
    refund.status = DocumentStatus.VOID
    refund.save()
    drain()
    all_done()
    after = held(conn, Entity.REFUND, refund)
    assert after is None or after.status in ("voided", "deleted") or after.total == D("0.00")
    assert held(conn, Entity.CREDIT_NOTE, note).balance == D("120.00")
    assert ref_of(conn, refund).remote_status in (RemoteStatus.DELETED, RemoteStatus.VOIDED)
    entry = glpreview.preview(conn, key(refund), None)
    assert entry.lines == () and entry.note.startswith("Void")
    reconciled(conn, note)


def test_an_expense_with_tax_in_a_foreign_currency(harness, conn, org, rates):
    needs(harness, Entity.EXPENSE)
    reference = preflight.reference_data(conn, conn.connector(), refresh=True)
    if "EUR" not in reference.currencies or reference.home_currency == "EUR":
        pytest.skip(f"{harness.platform}'s sandbox company takes no foreign currency EUR")
    names = accounts(conn)
    # Platforms that tie a bank or card account to one currency (QBO, Xero) pay a euro expense from a euro account:
    # their sandboxes seed one named for the euro. Elsewhere the demo chart's paid-from account takes any currency.
    paid_from = next((pk for name, pk in sorted(names.items()) if name.startswith("Euro")),
                     names[harness.chart.paid_from])
    f.MappingFactory(connection=conn, kind=MappingKind.PAID_FROM_ACCOUNT, scope=Scope.PAYMENT_METHOD,
                     local_value="card", remote_id=paid_from)
    with transaction.atomic():
        expense = f.ExpenseFactory(organization=org, currency="EUR", exchange_rate=D("1.08"), paid_from="card",
                                   payee="Parcel Express", attachment="receipts/2026/0042.pdf")
        f.ExpenseLineFactory(expense=expense, cost_kind="return_shipping", amount=D("50.00"), tax_rate=rates["gst"])
    drain()
    all_done()
    remote = held(conn, Entity.EXPENSE, expense)
    assert remote.total == D("55.00") and remote.number.startswith(expense.number)
    if remote.home_total is not None:  # where the platform reports it (QBO's purchases, Sage's other payments: not)
        assert remote.home_total == D("59.40")

    entry = legs(conn, expense)
    assert entry.currency == "EUR"
    assert [(line.debit, line.credit) for line in entry.lines] == [(D("50.00"), D("0.00")), (D("5.00"), D("0.00")),
                                                                  (D("0.00"), D("55.00"))]
    assert entry.lines[0].account_id == names[harness.chart.expense]
    assert entry.lines[2].account_id == paid_from
    reconciled(conn, expense)


def test_an_unbalanced_journal_is_stopped_by_preflight_with_a_clear_message(harness, conn, org):
    needs(harness, Entity.JOURNAL)
    reference = preflight.reference_data(conn, conn.connector(), refresh=True)
    names = {name: pk for pk, name in reference.accounts.items()}
    cost = names[harness.chart.expense] if harness.chart.expense else next(
        pk for pk, kind in sorted(reference.account_kinds.items()) if kind == AccountKind.EXPENSE)
    bank = names[harness.chart.paid_from or harness.chart.deposit]
    for code, remote in (("6100", cost), ("1010", bank)):
        f.MappingFactory(connection=conn, kind=MappingKind.JOURNAL_ACCOUNT, scope=Scope.ACCOUNT_CODE, local_value=code,
                         remote_id=remote)
    with transaction.atomic():
        entry = f.JournalEntryFactory(organization=org, number="JE-7", currency=reference.home_currency or "USD")
        f.JournalLineFactory(entry=entry, position=0, account_code="6100", debit=D("100.00"), credit=D("0"))
        line = f.JournalLineFactory(entry=entry, position=1, account_code="1010", debit=D("0"), credit=D("90.00"))
    drain()
    stopped = OutboxEntry.objects.get(source_key=key(entry))
    assert stopped.status == EntryStatus.NEEDS_ATTENTION and stopped.error_code == "invalid_document"
    assert stopped.last_error == ("Journal JE-7: the journal does not balance: debits 100.00 and credits 90.00 differ "
                                  "by 10.00; make them equal to the cent")
    assert not ExternalReference.objects.filter(connection=conn, source_key=key(entry)).exists()  # nothing sent
    assert not glpreview.preview(conn, key(entry), None).balanced

    line.credit = D("100.00")
    line.save()
    drain()
    all_done()
    remote = held(conn, Entity.JOURNAL, entry)
    assert remote.total == D("100.00") and remote.status == "active"
    assert sides(legs(conn, entry)) == [(cost, D("100.00"), D("0.00")), (bank, D("0.00"), D("100.00"))]
    reconciled(conn, entry)

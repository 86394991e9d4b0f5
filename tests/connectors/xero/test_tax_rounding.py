"""Xero's tax rounding against ours: preflight either proves the totals equal or blocks with a message.

Xero computes each line's amount (Quantity x UnitAmount) and tax to the cent, then sums the line taxes. The
ledger rounds the same way for tax-exclusive amounts, but a host's own numbers, or tax-inclusive amounts, can
differ by a cent. The property test pushes random documents to the sandbox (real loopback HTTP, the sandbox's
own Xero-style arithmetic) and checks: preflight passed => Xero's totals equal ours to the cent.
"""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from connectors.base import ConnectionConfig
from connectors.documents import CustomerSnapshot, InvoiceSnapshot, LineSnapshot, Mapping
from connectors.xero import translate as t
from connectors.xero.connector import XeroConnector
from ledger.money import line_net, line_tax
from ledger.totals import compute_totals

RATES = {"OUTPUT": Decimal("10.0000"), "TAX001": Decimal("8.2500"), "NONE": None}


def line(quantity: str, price: str, rate: str | None, kind: str = "service", tax_amount: Decimal | None = None):
    rate_percent = Decimal(rate) if rate is not None else None
    net = line_net(Decimal(quantity), Decimal(price))
    return LineSnapshot(kind=kind, description="x", quantity=Decimal(quantity), unit_price=Decimal(price),
                        net_amount=net, tax_amount=line_tax(net, rate_percent) if tax_amount is None else tax_amount,
                        tax_rate_key=f"rate:{rate}" if rate is not None else None, tax_rate_name=f"{rate}%",
                        tax_rate_percent=rate_percent)


def document(*lines: LineSnapshot, number: str | None = None, customer_key: str = "test.customer:1",
             tax_total: Decimal | None = None) -> InvoiceSnapshot:
    totals = compute_totals((li.kind, li.quantity, li.unit_price, li.tax_rate_percent) for li in lines)
    tax = totals.tax if tax_total is None else tax_total
    return InvoiceSnapshot(key=f"test.invoice:{uuid.uuid4().hex[:8]}", organization_id=1,
                           number=number or f"R{uuid.uuid4().hex[:10]}", customer_key=customer_key,
                           issue_date=dt.date(2026, 3, 2), lines=tuple(lines), subtotal=totals.subtotal,
                           discount_total=totals.discount, tax_total=tax,
                           total=totals.subtotal - totals.discount + tax)


# -- pure arithmetic ---------------------------------------------------------------------------------------
def test_xero_rounds_tax_per_line_not_per_document():
    # 5 lines of 2.29 at 12.5%: per line 0.29 x 5 = 1.45; on the document's 11.45 it would be 1.43.
    rows = [(Decimal("1"), Decimal("2.29"), Decimal("12.5"))] * 5
    totals = t.xero_totals(rows, "Exclusive")
    assert totals == t.XeroTotals(subtotal=Decimal("11.45"), tax=Decimal("1.45"), total=Decimal("12.90"))


def test_inclusive_amounts_back_tax_out_of_each_line():
    totals = t.xero_totals([(Decimal("1"), Decimal("11.00"), Decimal("10"))] * 3, "Inclusive")
    assert totals == t.XeroTotals(subtotal=Decimal("30.00"), tax=Decimal("3.00"), total=Decimal("33.00"))


def test_half_cents_round_away_from_zero_for_discount_lines_too():
    assert t.xero_line(Decimal("1"), Decimal("0.125"), Decimal("0"), "Exclusive") == (Decimal("0.13"), Decimal("0"))
    assert t.xero_line(Decimal("1"), Decimal("-0.125"), Decimal("0"), "Exclusive") == (Decimal("-0.13"),
                                                                                       Decimal("0.00"))
    assert t.xero_line(Decimal("1"), Decimal("-0.05"), Decimal("10"), "Exclusive")[1] == Decimal("-0.01")


def test_ledger_documents_pass_exclusive_preflight():
    doc = document(line("3", "19.99", "10"), line("0.3333", "7.4999", "8.25"), line("1", "5", None),
                   line("1", "2.50", "10", kind="discount"))
    assert t.rounding_problems(doc, t.SalesSettings()) == []


def test_a_host_that_rounds_tax_per_document_is_blocked_with_numbers():
    lines = [line("1", "2.29", "12.5")] * 5
    doc = document(*lines, tax_total=Decimal("1.43"))  # 11.45 x 12.5% rounded once
    problems = t.rounding_problems(doc, t.SalesSettings())
    assert len(problems) == 1
    assert "tax 1.45" in problems[0] and "tax 1.43" in problems[0] and "allow_rounding_adjustment" in problems[0]


def test_rounding_adjustment_line_carries_the_difference():
    doc = document(*[line("1", "2.29", "12.5")] * 5, tax_total=Decimal("1.43"))
    settings_ = t.SalesSettings(allow_rounding_adjustment=True, rounding_account="260")
    assert t.rounding_problems(doc, settings_) == []
    mapping = Mapping(line_accounts=("200",) * 5, tax_codes={"rate:12.5": "OUTPUT"}, refs={doc.customer_key: "c"})
    lines = t.sales_lines(doc, mapping, {}, settings_)
    assert lines[-1] == {"Description": t.ROUNDING_DESCRIPTION, "Quantity": Decimal("1"),
                         "UnitAmount": Decimal("-0.02"), "AccountCode": "260", "TaxType": "NONE"}


def test_rounding_adjustment_refuses_differences_bigger_than_rounding():
    doc = document(line("1", "100", "10"), tax_total=Decimal("0.00"))
    problems = t.rounding_problems(doc, t.SalesSettings(allow_rounding_adjustment=True, rounding_account="260"))
    assert problems and "more than rounding" in problems[0]


def test_inclusive_unit_amount_reproduces_the_line_gross():
    item = line("3", "3.3333", "8.25")  # net 10.00, tax 0.83, gross 10.83
    quantity, unit = t.line_unit_amount(item, "Inclusive")
    assert quantity == Decimal("3") and t.q2(quantity * unit) == Decimal("10.83")


def test_payloads_refuse_floats_and_keep_decimal_digits():
    assert t.dumps({"UnitAmount": Decimal("1.2345"), "Quantity": Decimal("2.0000")}) == \
        '{"UnitAmount": 1.2345, "Quantity": 2.0000}'
    with pytest.raises(TypeError):
        t.dumps({"UnitAmount": 1.5})


# -- property: a real push to the sandbox ------------------------------------------------------------------
money = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999.9999"), places=4, allow_nan=False,
                    allow_infinity=False)
quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("50"), places=4, allow_nan=False,
                         allow_infinity=False)
line_specs = st.lists(st.tuples(quantities, money, st.sampled_from(sorted(RATES)), st.booleans()),
                      min_size=1, max_size=6)


def _property_document(specs, customer_key: str, host_rounds_per_document: bool) -> InvoiceSnapshot:
    lines = []
    for quantity, price, tax_type, is_discount in specs:
        rate = RATES[tax_type]
        lines.append(line(str(quantity), str(price), str(rate) if rate is not None else None,
                          kind="discount" if is_discount and lines else "service"))
    doc = document(*lines, customer_key=customer_key)
    if doc.total < 0:  # a discount bigger than the sales: not a document anyone sends
        lines = [li if li.kind != "discount" else LineSnapshot(**{**li.__dict__, "kind": "service"}) for li in lines]
        doc = document(*lines, customer_key=customer_key)
    if host_rounds_per_document:  # a host that computes tax on the document's net, once
        taxed = [(li.net_amount * (-1 if li.kind == "discount" else 1), li.tax_rate_percent or 0) for li in lines]
        tax = t.q2(sum((net * rate / 100 for net, rate in taxed), Decimal(0)))
        doc = document(*lines, customer_key=customer_key, tax_total=tax)
    return doc


TAX_TYPES = {Decimal("10.0000"): "OUTPUT", Decimal("8.2500"): "TAX001"}  # the sandbox's rates for these types


class RoundingEnv:
    """One sandbox customer; connectors with the settings under test; mappings from the snapshot's rates."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.token = sandbox.issue_tokens()["access_token"]
        customer = CustomerSnapshot(key="test.customer:rounding", organization_id=1, name="Rounding Ltd")
        self.customer_key = customer.key
        self.customer_id = self.connector_with().create(customer, Mapping(), "rounding-customer").remote_id

    def connector_with(self, **settings) -> XeroConnector:
        config = ConnectionConfig("xero", "rounding", self.sandbox.tenant_id,
                                  {"api_base": self.sandbox.api_base, "timeout": 5, **settings})
        return XeroConnector(config, lambda force=False: self.token)

    def mapping_for(self, doc) -> Mapping:
        codes = {li.tax_rate_key: TAX_TYPES[li.tax_rate_percent] for li in doc.lines if li.tax_rate_key}
        accounts = tuple("210" if li.kind == "discount" else "200" for li in doc.lines)
        return Mapping(line_accounts=accounts, tax_codes=codes, refs={self.customer_key: self.customer_id})


@pytest.fixture
def rounding_env(xsandbox):
    xsandbox.limits.off()  # dozens of pushes in one test; Xero's minute limit is tested elsewhere
    return RoundingEnv(xsandbox)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(specs=line_specs, line_amount_types=st.sampled_from(["Exclusive", "Inclusive"]),
       adjust=st.booleans(), host_rounds_per_document=st.booleans())
def test_pushed_totals_equal_xero_totals_or_preflight_blocks(rounding_env, specs, line_amount_types, adjust,
                                                             host_rounds_per_document):
    env = rounding_env
    connector = env.connector_with(line_amount_types=line_amount_types, allow_rounding_adjustment=adjust,
                                   rounding_account="260")
    doc = _property_document(specs, env.customer_key, host_rounds_per_document)
    mapping = env.mapping_for(doc)
    problems = connector.preflight(doc, mapping)
    if problems:
        event(f"blocked by preflight ({line_amount_types}, adjust={adjust})")
        assert not adjust or "more than rounding" in problems[0]
        assert "Xero" in problems[0]
        return
    event(f"pushed ({line_amount_types}, adjust={adjust}, rounding line="
          f"{bool(t.rounding_difference(doc, line_amount_types))})")
    created = connector.create(doc, mapping, f"prop-{uuid.uuid4()}")
    remote = created.raw
    assert Decimal(str(remote["Total"])) == doc.total
    if not adjust:
        assert Decimal(str(remote["TotalTax"])) == doc.tax_total
        assert Decimal(str(remote["SubTotal"])) == doc.subtotal - doc.discount_total


@pytest.mark.parametrize("line_amount_types", ["Exclusive", "Inclusive"])
def test_a_known_cent_difference_is_blocked_or_carried_by_a_rounding_line(rounding_env, line_amount_types):
    """Three 0.05 lines at 10%: Xero's per-line tax is 0.03; a host that taxes the document once says 0.02."""
    doc = _property_document([(Decimal("1"), Decimal("0.05"), "OUTPUT", False)] * 3, rounding_env.customer_key,
                             host_rounds_per_document=True)
    assert doc.tax_total == Decimal("0.02")
    mapping = rounding_env.mapping_for(doc)
    strict = rounding_env.connector_with(line_amount_types=line_amount_types)
    [problem] = strict.preflight(doc, mapping)
    assert "tax 0.03" in problem and "tax 0.02" in problem
    lenient = rounding_env.connector_with(line_amount_types=line_amount_types, allow_rounding_adjustment=True,
                                          rounding_account="260")
    assert lenient.preflight(doc, mapping) == []
    created = lenient.create(doc, mapping, f"known-{line_amount_types}")
    assert created.total == doc.total == Decimal("0.17")
    rounding = [li for li in created.raw["LineItems"] if li["Description"] == t.ROUNDING_DESCRIPTION]
    assert len(rounding) == 1 and rounding[0]["AccountCode"] == "260"
    assert Decimal(str(rounding[0]["LineAmount"])) == Decimal("-0.01")

"""Shared REST helpers (``connectors.rest``): bodies, money, times, content hashes, reference data, refusals."""
import datetime as dt
import re
from decimal import Decimal

from connectors import rest
from connectors.base import AccountKind, RuleKind
from connectors.errors import DuplicateError, RemoteNotFound, ValidationFailed


def test_bodies_money_and_times():
    assert rest.clean({"a": None, "b": "", "c": 0, "d": "x"}) == {"c": 0, "d": "x"}
    assert rest.iso_date(dt.date(2026, 12, 1)) == "2026-12-01" and rest.iso_date(None) is None
    assert rest.money("12.5") == Decimal("12.50") and rest.money(3) == Decimal("3.00") and rest.money("") is None
    assert rest.parse_time("2013-11-18T02:02:51-0800") == dt.datetime(2013, 11, 18, 10, 2, 51,
                                                                      tzinfo=dt.UTC)
    assert rest.parse_time("2013-11-18T02:02:51").tzinfo == dt.UTC == rest.parse_time("2013-11-18Z").tzinfo


def test_content_hash_ignores_spelling_not_content():
    body = {"n": 100, "x": "ignored", "lines": [{"q": "2.0", "r": Decimal("5")}]}
    same = {"n": "100.00", "x": "other", "lines": [{"q": 2, "r": "5.00"}]}
    assert rest.content_hash("e", body, ("n",), ("q", "r"), "lines") == rest.content_hash("e", same, ("n",),
                                                                                          ("q", "r"), "lines")
    assert rest.content_hash("e", body, ("n",)) != rest.content_hash("f", body, ("n",))
    assert rest.content_hash("e", body, ("n",), extra=[("a", "1")]) != rest.content_hash("e", body, ("n",))
    assert rest.plain(None) == "" and rest.plain(" word ") == "word" and rest.plain(True) == "True"


def test_reference_data_kinds_and_control_accounts():
    accounts = [{"id": 1, "name": "Sales", "t": "income"}, {"id": 2, "name": "AR", "t": "ar"},
                {"id": 3, "name": "AR 2", "t": "ar"}]
    kinds = {"income": AccountKind.INCOME, "ar": AccountKind.RECEIVABLE}
    ref = rest.reference_data(accounts, [{"tid": "T", "tn": "GST"}], lambda a: kinds[a["t"]], account_id="id",
                              account_name="name", tax_id="tid", tax_name="tn", currencies=["EUR"],
                              home_currency="USD")
    assert ref.accounts == {"1": "Sales", "2": "AR", "3": "AR 2"} and ref.tax_codes == {"T": "GST"}
    assert ref.control_accounts == {AccountKind.RECEIVABLE: ("2", "AR")} and ref.account_kinds["1"] == "income"
    assert ref.currencies == {"EUR", "USD"} and ref.home_currency == "USD"


def test_read_totals_reports_a_gone_document_deleted():
    def read(remote_id):
        if remote_id == "gone":
            raise RemoteNotFound("gone")
        return rest.DocumentTotals(remote_id, "invoice", status="open")
    found = rest.read_totals("invoice", ["1", "gone"], read)
    assert [(t.remote_id, t.status) for t in found] == [("1", "open"), ("gone", "deleted")]


def test_refused_by_words():
    words = ((re.compile(r"\baccount\b", re.I), frozenset({RuleKind.INCOME_ACCOUNT})),)
    gone = re.compile(r"inactive|does not exist", re.I)
    [refused] = rest.refused_by_words(RemoteNotFound("The account does not exist."), words, gone)
    assert refused.kinds == {RuleKind.INCOME_ACCOUNT} and refused.remote_id is None and refused.definite
    assert not rest.refused_by_words(ValidationFailed("The account is inactive."), words, gone)[0].definite
    assert rest.refused_by_words(DuplicateError("The account already exists."), words, gone) == []
    assert rest.refused_by_words(ValidationFailed("Please enter a date."), words, gone) == []

"""Optional dimensions a platform declares (a class per line, a location per document, a two-part tracking value
per line): the same precedence as the other kinds, no rule means nothing is sent, and no migration per platform."""

import pytest

from connectors.base import ReferenceData
from connectors.documents import Mapping
from mappings.choices import kinds_for, local_options
from mappings.csv_io import read_rows
from mappings.models import MappingKind, Scope
from mappings.resolve import explain, resolve
from tests.mappings.rules_kit import DimensionsConnector, connection_with_rules, dimensions_platform, invoice, line

pytestmark = pytest.mark.django_db
__all__ = ["dimensions_platform"]  # the fixture, used by name

INCOME, CLASS, LOCATION, TRACKING = MappingKind.INCOME_ACCOUNT, "class", "location", "tracking"


@pytest.fixture
def rules(dimensions_platform):
    conn, org, other, rule = connection_with_rules(dimensions_platform)
    rule(INCOME, remote="1")
    rule(MappingKind.DISCOUNT_ACCOUNT, remote="5")
    return conn, org, other, rule


def test_per_line_dimensions_follow_the_income_account_precedence(rules):
    conn, org, other, rule = rules
    rule(CLASS, remote="1")
    rule(CLASS, Scope.CATEGORY, "Pharmacy", remote="2")
    rule(CLASS, Scope.ITEM, "Vaccine", remote="3", organization=org)
    rule(TRACKING, Scope.LINE_KIND, "shipping", remote="Region/North")
    rule(TRACKING, remote="Region/South", organization=org)
    doc = invoice(org, line(item_key="ledger.item:9", item_name="Vaccine", category="Pharmacy"),
                  line(category="Pharmacy"), line("shipping"), line("discount"))
    lines = explain(conn, doc).lines
    assert [d.dimension(CLASS).remote_id for d in lines] == ["3", "2", "1", "1"]
    assert lines[0].dimension(CLASS).why == "item “Vaccine” (this organization's rule)"
    assert [d.dimension(TRACKING).remote_id for d in lines] == ["Region/South", "Region/South", "Region/North",
                                                                "Region/South"]
    mapping = resolve(conn, doc)
    assert mapping.line_dimensions == {CLASS: ("3", "2", "1", "1"),
                                       TRACKING: ("Region/South", "Region/South", "Region/North", "Region/South")}
    assert mapping.line_dimension(CLASS, 2) == "1" and mapping.dimensions == {}
    # The other organization has only the connection-wide rules.
    assert resolve(conn, invoice(other, line("shipping"), line())).line_dimensions == {
        CLASS: ("1", "1"), TRACKING: ("Region/North", None)}


def test_per_document_dimension_takes_an_organizations_own_rule_first(rules):
    conn, org, other, rule = rules
    rule(LOCATION, remote="1")
    rule(LOCATION, remote="2", organization=org)
    assert resolve(conn, invoice(org, line())).dimensions == {LOCATION: "2"}
    explanation = explain(conn, invoice(other, line()))
    location = explanation.dimension(LOCATION)
    assert location.remote_id == "1" and location.why == "default (connection-wide rule)"


def test_a_platform_without_the_dimension_ignores_its_rules(dimensions_platform):
    conn, org, _, rule = connection_with_rules("qbo")
    rule(INCOME, remote="1")
    rule(TRACKING, remote="Region/North")  # QuickBooks declares no tracking dimension
    assert resolve(conn, invoice(org, line())).line_dimensions == {}


def test_without_rules_nothing_is_missing_and_the_mapping_is_what_it_always_was(rules):
    conn, org, _, rule = rules
    rule(CLASS, Scope.LINE_KIND, "shipping", remote="1")  # matches no line of this document
    doc = invoice(org, line(), line("service"))
    explanation = explain(conn, doc)
    assert explanation.problems == [] and explanation.dimensions == ()
    assert all(d.dimensions == () for d in explanation.lines)
    mapping = resolve(conn, doc)
    assert mapping == Mapping(line_accounts=("1", "1"), tax_codes={}, refs={})
    # The engine hashes repr(mapping): the dimension fields stay out of it while empty.
    assert repr(mapping) == ("Mapping(line_accounts=('1', '1'), tax_codes={}, item_account=None, "
                             "deposit_account=None, refs={})")
    assert "dimensions={'location': '2'}" in repr(Mapping(dimensions={LOCATION: "2"}))


def test_two_part_values_split_at_the_first_separator():
    tracking = DimensionsConnector.dimensions[2]
    assert tracking.pair("Region/North") == ("Region", "North")
    assert tracking.pair(" Region / North/East ") == ("Region", "North/East")
    assert tracking.pair("Region") is None and tracking.pair("/North") is None and tracking.pair("Region/") is None
    assert "first/second" in tracking.problem("Region") and tracking.problem("Region/North") == ""


def test_editor_kinds_are_the_required_ones_then_the_platforms_dimensions(rules):
    # a platform that takes no refunds, expenses or journals is offered none of their kinds
    assert kinds_for("dimensions-test") == [MappingKind.INCOME_ACCOUNT, MappingKind.DISCOUNT_ACCOUNT,
                                            MappingKind.DEPOSIT_ACCOUNT, MappingKind.TAX_CODE, CLASS, LOCATION,
                                            TRACKING]
    assert kinds_for("qbo")[-2:] == [CLASS, LOCATION] and TRACKING not in kinds_for("qbo")
    assert kinds_for("xero")[-1] == TRACKING and CLASS not in kinds_for("xero")
    _, org, *_ = rules
    assert [group for group, _ in local_options("dimensions-test", LOCATION, [org.pk])] == ["Default"]
    line_kinds = dict(local_options("dimensions-test", TRACKING, [org.pk]))["Line kind"]
    assert "line_kind:discount" in [value for value, _ in line_kinds]


def test_csv_import_takes_typed_in_targets_and_checks_each_dimensions_rule(rules):
    conn, *_ = rules
    text = ("organization,kind,scope,local_value,remote_id,remote_name\n"
            ",class,category,Pharmacy,2,Wholesale\n"
            ",location,default,,1,Downtown\n"
            ",tracking,line_kind,fee,Region,\n"
            ",location,line_kind,fee,1,\n"
            ",colour,default,,1,\n")
    _, errors = read_rows(conn, text, ReferenceData(accounts={"1": "Sales"}, tax_codes={}))
    assert len(errors) == 3
    assert errors[0].startswith("line 4:") and "first/second" in errors[0]
    assert errors[1].startswith("line 5:") and "never used" in errors[1]
    assert errors[2].startswith("line 6:") and "unknown kind “colour”" in errors[2] and "tracking" in errors[2]

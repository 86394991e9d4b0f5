"""Optional dimensions (issue 6, "optional class / tracking category / location"): QBO class per line, QBO location
per document, Xero tracking per line. Same precedence as the other kinds; no rule means nothing is sent."""

import pytest

from connectors.documents import Mapping
from mappings.choices import kinds_for, local_options
from mappings.csv_io import read_rows
from mappings.models import MappingKind, Scope
from mappings.resolve import explain, resolve, tracking_pair
from tests.mappings.rules_kit import connection_with_rules, invoice, line

pytestmark = pytest.mark.django_db

INCOME, CLASS, LOCATION, TRACKING = (MappingKind.INCOME_ACCOUNT, MappingKind.CLASS, MappingKind.LOCATION,
                                     MappingKind.TRACKING)


@pytest.fixture
def rules():
    conn, org, other, rule = connection_with_rules()
    rule(INCOME, remote="1")
    rule(MappingKind.DISCOUNT_ACCOUNT, remote="5")
    return conn, org, other, rule


def test_class_and_tracking_follow_the_income_account_precedence_per_line(rules):
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
    assert mapping.line_classes == ("3", "2", "1", "1")
    assert mapping.line_tracking == ((("Region", "South"),), (("Region", "South"),), (("Region", "North"),),
                                     (("Region", "South"),))
    assert mapping.location is None
    # The other organization has only the connection-wide rules.
    assert resolve(conn, invoice(other, line("shipping"), line())).line_tracking == ((("Region", "North"),), ())


def test_location_is_per_document_an_organizations_own_rule_first(rules):
    conn, org, other, rule = rules
    rule(LOCATION, remote="1")
    rule(LOCATION, remote="2", organization=org)
    assert resolve(conn, invoice(org, line())).location == "2"
    explanation = explain(conn, invoice(other, line()))
    assert explanation.location.remote_id == "1" and explanation.location.why == "default (connection-wide rule)"


def test_without_rules_nothing_is_missing_and_the_mapping_is_what_it_always_was(rules):
    conn, org, _, rule = rules
    rule(CLASS, Scope.LINE_KIND, "shipping", remote="1")  # matches no line of this document
    doc = invoice(org, line(), line("service"))
    explanation = explain(conn, doc)
    assert explanation.problems == [] and explanation.location is None
    assert all(d.dimensions == () for d in explanation.lines)
    mapping = resolve(conn, doc)
    assert mapping == Mapping(line_accounts=("1", "1"), tax_codes={}, refs={})
    # The engine hashes repr(mapping): the new fields stay out of it while empty.
    assert repr(mapping) == ("Mapping(line_accounts=('1', '1'), tax_codes={}, item_account=None, "
                             "deposit_account=None, refs={})")
    assert "location='2'" in repr(Mapping(location="2"))


def test_tracking_remote_id_is_category_slash_option():
    assert tracking_pair("Region/North") == ("Region", "North")
    assert tracking_pair(" Region / North/East ") == ("Region", "North/East")  # split at the first "/"
    assert tracking_pair("Region") is None and tracking_pair("/North") is None and tracking_pair("Region/") is None


def test_editor_kinds_per_platform_and_line_kinds_include_discount(rules):
    assert kinds_for("qbo")[-2:] == [CLASS, LOCATION] and TRACKING not in kinds_for("qbo")
    assert kinds_for("xero")[-1] == TRACKING and CLASS not in kinds_for("xero")
    _, org, *_ = rules
    assert [group for group, _ in local_options(LOCATION, [org.pk])] == ["Default"]
    line_kinds = dict(local_options(TRACKING, [org.pk]))["Line kind"]
    assert "line_kind:discount" in [value for value, _ in line_kinds]


def test_csv_import_takes_typed_in_targets_and_checks_the_tracking_format(rules):
    from connectors.base import ReferenceData

    conn, *_ = rules
    text = ("organization,kind,scope,local_value,remote_id,remote_name\n"
            ",class,category,Pharmacy,2,Wholesale\n"
            ",location,default,,1,Downtown\n"
            ",tracking,line_kind,fee,Region,\n"
            ",location,line_kind,fee,1,\n")
    _, errors = read_rows(conn, text, ReferenceData(accounts={"1": "Sales"}, tax_codes={}))
    assert len(errors) == 2
    assert errors[0].startswith("line 4:") and "category/option" in errors[0]
    assert errors[1].startswith("line 5:") and "never used" in errors[1]

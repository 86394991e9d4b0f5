"""Resolution and its explanation: which rule wins for each line, and why; one precedence for both."""

import pytest

from connectors.documents import ItemSnapshot, PaymentSnapshot
from connectors.errors import ConfigurationError
from mappings.models import MappingKind, Scope
from mappings.resolve import explain, resolve, rules_held
from tests.mappings.rules_kit import connection_with_rules, invoice, line

pytestmark = pytest.mark.django_db

INCOME, TAX = MappingKind.INCOME_ACCOUNT, MappingKind.TAX_CODE


@pytest.fixture
def rules():
    conn, org, other, rule = connection_with_rules()
    return conn, org, other, rule


def test_most_specific_rule_wins_and_the_explanation_says_which_and_what_was_tried(rules):
    conn, org, _, rule = rules
    rule(INCOME, remote="default")
    rule(INCOME, Scope.LINE_KIND, "product", "by-kind")
    rule(INCOME, Scope.CATEGORY, "Pharmacy", "by-category")
    rule(INCOME, Scope.ITEM, "Rabies vaccine", "by-item")
    doc = invoice(org,
                  line(item_key="ledger.item:1", item_name="Rabies vaccine", category="Pharmacy"),
                  line(item_key="ledger.item:2", item_name="Food", category="Pharmacy"),
                  line(item_key="ledger.item:3", item_name="Collar", category="Shop"),
                  line("service"))
    explained = explain(conn, doc)
    assert [d.account.remote_id for d in explained.lines] == ["by-item", "by-category", "by-kind", "default"]
    food = explained.lines[1].account
    assert food.why == "item category “Pharmacy” (connection-wide rule)"
    assert food.tried == ((Scope.ITEM, "ledger.item:2"), (Scope.ITEM, "Food"), (Scope.CATEGORY, "Pharmacy"),
                          (Scope.LINE_KIND, "product"), (Scope.DEFAULT, ""))
    assert resolve(conn, doc).line_accounts == ("by-item", "by-category", "by-kind", "default")


def test_an_organizations_own_rule_wins_for_the_same_candidate_only(rules):
    conn, org, other, rule = rules
    rule(INCOME, remote="wide-default")
    rule(INCOME, remote="own-default", organization=org)
    rule(INCOME, Scope.LINE_KIND, "shipping", "wide-shipping")
    explained = explain(conn, invoice(org, line("service"), line("shipping")))
    assert [d.account.remote_id for d in explained.lines] == ["own-default", "wide-shipping"]
    assert explained.lines[0].account.why == "default (this organization's rule)"
    assert [d.account.remote_id for d in explain(conn, invoice(other, line("service"))).lines] == ["wide-default"]


def test_missing_pieces_are_named_per_line_and_resolve_raises_them_all(rules):
    conn, org, _, rule = rules
    rule(TAX, Scope.TAX_RATE, "GST 10%", "TAX-GST")
    doc = invoice(org, line("service", tax_rate_key="ledger.taxrate:7", tax_rate_name="GST 10%"),
                  line("fee", description="Call-out", tax_rate_key="ledger.taxrate:8", tax_rate_name="VAT 20%"),
                  line("discount"))
    explained = explain(conn, doc)
    assert explained.lines[0].tax.remote_id == "TAX-GST" and explained.lines[0].tax.why.startswith("tax rate “GST 10%”")
    assert explained.problems == [
        "line 1 (service): no income account mapped for line kind “service” or as the default",
        "line 2 (Call-out): no income account mapped for line kind “fee” or as the default",
        "line 2 (Call-out): tax rate “VAT 20%” has no platform tax code mapped",
        "line 3 (discount): no discount account mapped for line kind “discount” or as the default",
    ]
    with pytest.raises(ConfigurationError) as info:
        resolve(conn, doc)
    assert info.value.message == "invoice INV-1: " + "; ".join(explained.problems)
    assert "mapping editor" in info.value.hint


def test_a_line_with_an_item_may_go_without_an_account(rules):
    conn, org, _, _ = rules
    explained = explain(conn, invoice(org, line(item_key="ledger.item:1", item_name="Vaccine")))
    assert explained.problems == [] and explained.lines[0].account.rule is None
    assert resolve(conn, invoice(org, line(item_key="ledger.item:1"))).line_accounts == (None,)


def test_payments_and_items_explain_their_one_account(rules):
    conn, org, _, rule = rules
    rule(MappingKind.DEPOSIT_ACCOUNT, Scope.PAYMENT_METHOD, "card", "card-clearing")
    rule(MappingKind.DEPOSIT_ACCOUNT, remote="bank")
    card = PaymentSnapshot(key="ledger.payment:1", organization_id=org.pk, number="P1", method="card")
    cash = PaymentSnapshot(key="ledger.payment:2", organization_id=org.pk, number="P2", method="cash")
    assert explain(conn, card).account.why == "payment method “card” (connection-wide rule)"
    assert resolve(conn, cash).deposit_account == "bank"
    item = ItemSnapshot(key="ledger.item:1", organization_id=org.pk, name="Vaccine", kind="product")
    assert explain(conn, item).problems == [
        "item “Vaccine”: no income account mapped for its category “-”, its kind “product”, or as the default"]


def test_rules_are_read_once_per_block_and_an_edit_applies_from_the_next_block(rules, django_assert_num_queries):
    conn, org, other, rule = rules
    default = rule(INCOME, remote="default")
    doc = invoice(org, line("service"), line("shipping"))
    with rules_held():
        with django_assert_num_queries(1):  # the preflight's explanation and the resolution of many documents
            for _ in range(3):
                explain(conn, doc)
                resolve(conn, doc)
            with rules_held():  # nested: the outer block's rules serve
                resolve(conn, doc)
        with django_assert_num_queries(1):  # another organization's rules are its own
            resolve(conn, invoice(other, line("service")))
        default.remote_id = "edited"
        default.save()
        assert resolve(conn, doc).line_accounts == ("default", "default")  # read before the edit
    assert resolve(conn, doc).line_accounts == ("edited", "edited")
    with django_assert_num_queries(2):  # outside a block each resolution reads them
        resolve(conn, doc)
        resolve(conn, doc)

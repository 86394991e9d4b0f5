"""Checks and journal entries changed in NetSuite's UI, back by polling through SOAP (issue 23): the same checks as
the REST connector's (``tests/connectors/netsuite/test_inbound_costs.py``), through ``TransactionSearchBasic`` on
``lastModifiedDate`` (a voided check's ``status``) and ``getDeleted``."""
import pytest

from tests.connectors.netsuite.test_inbound_costs import (check_typed_over_is_flagged,
                                                          check_voided_and_journal_deleted_are_told_apart, two_way)

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(request, org):
    return two_way(request, org, "netsuitesoap")


def test_a_check_typed_over_in_netsuite_is_reported_as_an_update_and_flagged(books, org):
    check_typed_over_is_flagged(books, org)


def test_a_check_voided_and_a_journal_entry_deleted_in_netsuite_are_reported_as_such(books, org):
    check_voided_and_journal_deleted_are_told_apart(books, org)

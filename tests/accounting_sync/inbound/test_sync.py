"""Scheduled polling (``sync.due_connections``, ``sync.claim``, ``tasks.pull_due``): with many pulling companies a pass
outlasts the minute between passes, and each company is still polled once per interval. What a poll applies is in
test_platform_inbound.py."""
import pytest

from accounting_sync import tasks
from accounting_sync.inbound import sync as inbound
from accounting_sync.models import PullCursor
from tests.locks import held_elsewhere, needs_row_locks

pytestmark = pytest.mark.django_db


@pytest.fixture
def pulling(make_connection, org):
    return make_connection(org, direction="both")


def test_two_passes_at_once_poll_a_connection_once(pulling, monkeypatch):
    polls = []
    monkeypatch.setattr(inbound, "pull", lambda conn, since=None: polls.append(conn.pk))
    first_pass = inbound.due_connections()  # its list, made before the second pass starts
    assert first_pass == [pulling]
    assert tasks.pull_due() == 1  # the second pass gets there first
    assert [inbound.claim(conn) for conn in first_pass] == [False]
    assert polls == [pulling.pk]
    assert tasks.pull_due() == 0 and inbound.due_connections() == []


def test_the_claim_makes_a_first_polls_cursors_so_the_next_pass_sees_it_polled(pulling):
    assert not PullCursor.objects.exists()
    assert inbound.claim(pulling)
    cursors = PullCursor.objects.filter(connection=pulling)
    assert cursors.exists() and not cursors.filter(last_pull_at__isnull=True).exists()
    assert set(cursors.values_list("entity", flat=True)) == set(inbound._entities(pulling, pulling.connector()))
    assert not inbound.claim(pulling)  # polled just now


@pytest.mark.django_db(transaction=True)
def test_a_connection_another_pass_is_claiming_is_skipped_not_waited_for(pulling):
    needs_row_locks()
    with held_elsewhere(type(pulling).objects.filter(pk=pulling.pk)):  # another pass is claiming it
        assert not inbound.claim(pulling)
    assert not PullCursor.objects.exists()
    assert inbound.claim(pulling)  # free again: claimed

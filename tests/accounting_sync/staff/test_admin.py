"""The dashboard: health at a glance, attention list with message and hint, logs linked to documents, actions."""
import pytest

from accounting_sync.models import EntryStatus, OutboxEntry
from mappings.models import Mapping, MappingKind
from tests.conftest import drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced_and_broken(connection, make_invoice, org):
    Mapping.objects.filter(connection=connection, kind=MappingKind.TAX_CODE).delete()
    from tests import factories as f

    ok = make_invoice()
    broken = make_invoice(("service", "1", "10.00", f.TaxRateFactory(organization=org)))
    drain()
    return ok, broken


def test_pages_show_health_attention_and_logs(admin_client, connection, synced_and_broken):
    ok, broken = synced_and_broken
    html = admin_client.get("/admin/connectors/connection/").content.decode()
    assert connection.name in html and "Active" in html
    assert "status__exact=needs_attention" in html  # the needs-attention count links to the list
    attention = admin_client.get("/admin/accounting_sync/attentionentry/").content.decode()
    assert broken.number in attention and "no platform tax code mapped" in attention and "Add the missing" in attention
    assert ok.number not in attention
    logs = admin_client.get("/admin/accounting_sync/synclog/").content.decode()
    assert f"/admin/ledger/invoice/{ok.pk}/change/" in logs
    for page in ("outboxentry", "externalreference"):
        assert admin_client.get(f"/admin/accounting_sync/{page}/").status_code == 200
    assert admin_client.get(f"/admin/connectors/connection/{connection.pk}/change/").status_code == 200


def test_retry_action_requeues_needs_attention(admin_client, connection, synced_and_broken):
    _, broken = synced_and_broken
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{broken.pk}")
    response = admin_client.post("/admin/accounting_sync/outboxentry/",
                                 {"action": "retry", "_selected_action": [entry.pk]})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PENDING and entry.attempts == 0


def test_status_command_and_api(admin_client, connection, synced_and_broken, capsys):
    from django.core.management import call_command
    import json

    call_command("accounting_sync_status", "--json")
    [row] = json.loads(capsys.readouterr().out)
    assert row["needs_attention"] == 1 and row["synced"] >= 2
    api = admin_client.get("/accounting-sync/api/attention/").json()
    assert api["entries"][0]["hint"]
    call_command("accounting_sync_resync", "--connection", connection.name, "--dry-run")
    assert "nothing was sent" in capsys.readouterr().out


def test_changes_no_dispatcher_took_in_count_as_pending_and_warn_when_old(admin_client, connection, make_invoice,
                                                                          clock, capsys):
    from django.core.management import call_command

    make_invoice()  # saved; no cluster is running to take the change in
    html = admin_client.get("/admin/connectors/connection/").content.decode()
    assert '<td class="field-pending">2</td>' in html and "qcluster" not in html  # fresh: normal
    clock.advance(180)
    html = admin_client.get("/admin/connectors/connection/").content.decode()
    assert "2 saved changes not picked up since" in html and "manage.py qcluster" in html
    call_command("accounting_sync_status")
    assert "is the task queue (manage.py qcluster) running?" in capsys.readouterr().out
    drain()  # a dispatcher ran
    assert "not picked up" not in admin_client.get("/admin/connectors/connection/").content.decode()

"""Migration 0007: secret settings stored in clear by earlier versions are encrypted; the others stay as they were.
Run for real (migrate back, write a row as 0006 left it, migrate forward), on SQLite and PostgreSQL alike."""
import pytest
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor

from connectors.models import Connection

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("connectors", "0006_entities_returns_and_costs")]


def migrate(targets):
    executor = MigrationExecutor(db)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_a_sender_password_stored_in_clear_is_encrypted_and_still_read():
    latest = MigrationExecutor(db).loader.graph.leaf_nodes()
    old = migrate(BEFORE).get_model("connectors", "Connection")
    try:
        old.objects.create(name="Old books", platform="intacct", entities=["invoice"],
                           settings={"sender_id": "acme-sender", "sender_password": "s3nder-pa55"})
    finally:
        migrate(latest)
    conn = Connection.objects.get(name="Old books")
    assert conn.settings["sender_id"] == "acme-sender"
    assert conn.settings["sender_password"].startswith("fernet:")
    assert conn.connector_class()(conn.config(), lambda: "").setting("sender_password") == "s3nder-pa55"

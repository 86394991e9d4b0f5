"""Encrypt the settings each platform declares secret (a sender password, a subscription key) in connections saved
before ``Connection.save`` encrypted them; the connector reads them decrypted (``BaseConnector.setting``)."""
from django.db import migrations


def encrypt_secret_settings(apps, schema_editor):
    from connectors import registry  # the platforms' declarations: code, not schema
    from connectors.crypto import seal

    Connection = apps.get_model("connectors", "Connection")
    for conn in Connection.objects.exclude(settings={}).only("pk", "platform", "settings"):
        try:
            secret = {s.key for s in registry.get(conn.platform).settings_fields if s.secret}
        except Exception:  # a platform no longer installed: nothing declares its settings
            continue
        sealed = {k: seal(v) if k in secret else v for k, v in (conn.settings or {}).items()}
        if sealed != conn.settings:
            Connection.objects.filter(pk=conn.pk).update(settings=sealed)


class Migration(migrations.Migration):
    dependencies = [("connectors", "0006_entities_returns_and_costs")]
    operations = [migrations.RunPython(encrypt_secret_settings, migrations.RunPython.noop)]

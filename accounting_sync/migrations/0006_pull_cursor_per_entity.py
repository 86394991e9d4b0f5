"""Poll cursors per connection and entity. Existing cursors are dropped: the next poll of each connection looks
one day back again, and applying a change twice changes nothing (the stored remote version is compared)."""
import django.db.models.deletion
from django.db import migrations, models


def drop_cursors(apps, schema_editor):
    apps.get_model("accounting_sync", "PullCursor").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accounting_sync", "0005_pull_schedule"), ("connectors", "0003_sliding_window_budget")]

    operations = [
        migrations.RunPython(drop_cursors, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="pullcursor", name="connection",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="pull_cursors",
                                    to="connectors.connection")),
        migrations.AddField(model_name="pullcursor", name="entity", field=models.CharField(default="invoice",
                                                                                          max_length=30),
                            preserve_default=False),
        migrations.AddConstraint(model_name="pullcursor", constraint=models.UniqueConstraint(
            fields=("connection", "entity"), name="one_cursor_per_entity")),
    ]

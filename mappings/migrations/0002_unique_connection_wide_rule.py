"""One connection-wide rule per (connection, kind, scope, local value).

The first constraint includes ``organization``, and NULLs are distinct in a unique index, so two connection-wide
rules for the same thing could coexist and resolution picked one of them arbitrarily. If an installation has
such duplicates, the migration stops and lists them: which one is right is for staff to say, not for a
migration to guess.
"""
from django.db import migrations, models


def refuse_duplicate_connection_wide_rules(apps, schema_editor):
    Mapping = apps.get_model("mappings", "Mapping")
    seen, duplicates = {}, []
    for rule in Mapping.objects.filter(organization__isnull=True).order_by("pk"):
        key = (rule.connection_id, rule.kind, rule.scope, rule.local_value)
        if key in seen:
            duplicates.append(f"connection {rule.connection_id}: {rule.kind} / {rule.scope} "
                              f"“{rule.local_value}” (rules {seen[key]} and {rule.pk})")
        seen.setdefault(key, rule.pk)
    if duplicates:
        raise RuntimeError("Two connection-wide mapping rules say different things about the same thing; keep "
                           "one of each pair (Admin → Mappings), then run migrate again:\n  "
                           + "\n  ".join(duplicates))


class Migration(migrations.Migration):

    dependencies = [
        ("mappings", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mapping",
            name="local_value",
            field=models.CharField(blank=True, help_text="Line kind, category name, item name or key, tax-rate name or "
                                                         "key, payment method; empty for the default",
                                   max_length=200),
        ),
        migrations.RunPython(refuse_duplicate_connection_wide_rules, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="mapping",
            constraint=models.UniqueConstraint(condition=models.Q(("organization__isnull", True)),
                                               fields=("connection", "kind", "scope", "local_value"),
                                               name="mappings_unique_connection_wide_rule"),
        ),
    ]

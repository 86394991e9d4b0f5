"""Bank-feed matching every hour for every connection whose platform has a bank feed (staff can change the
interval on the Schedule in the admin, or delete it and run ``accounting_sync_reconcile --bank`` from cron)."""
from django.db import migrations

BANK = "accounting_sync.reconcile.bank.match_all"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        func=BANK, defaults={"name": "accounting_sync bank matching", "schedule_type": "H", "repeats": -1})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=BANK).delete()


class Migration(migrations.Migration):
    dependencies = [("accounting_sync", "0018_bank_matches"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]

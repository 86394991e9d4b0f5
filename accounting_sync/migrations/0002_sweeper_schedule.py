"""Create the sweeper Schedule: every minute, re-enqueue outbox entries that are due."""
from django.db import migrations

SWEEP = "accounting_sync.tasks.sweep"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        func=SWEEP, defaults={"name": "accounting_sync sweeper", "schedule_type": "I", "minutes": 1,
                              "repeats": -1})


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=SWEEP).delete()


class Migration(migrations.Migration):
    dependencies = [("accounting_sync", "0001_initial"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(create, remove)]

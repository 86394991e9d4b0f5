"""Create the polling Schedule: every minute, poll the connections whose pull interval has passed."""
from django.db import migrations

PULL = "accounting_sync.tasks.pull_due"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        func=PULL, defaults={"name": "accounting_sync platform changes", "schedule_type": "I", "minutes": 1,
                             "repeats": -1})


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=PULL).delete()


class Migration(migrations.Migration):
    dependencies = [("accounting_sync", "0004_inbound"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(create, remove)]

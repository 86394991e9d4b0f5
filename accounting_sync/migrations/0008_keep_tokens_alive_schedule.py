"""Create the daily Schedule that refreshes idle connections' tokens before they expire unused."""
from django.db import migrations

KEEP_ALIVE = "accounting_sync.tasks.keep_tokens_alive"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        func=KEEP_ALIVE, defaults={"name": "accounting_sync token keep-alive", "schedule_type": "D", "repeats": -1})


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=KEEP_ALIVE).delete()


class Migration(migrations.Migration):
    dependencies = [("accounting_sync", "0007_externalreference_home_total"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(create, remove)]

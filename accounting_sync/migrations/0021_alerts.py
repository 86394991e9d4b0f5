"""Alerts: incidents and their recipients, and two Schedules: the evaluation every minute and the daily digest
(at 07:00 UTC; staff can change either in the admin, or delete them and run ``accounting_sync_alerts`` from cron).
"""
import datetime as dt

import django.db.models.deletion
import django.db.models.functions.comparison
import django.utils.timezone
from django.db import migrations, models

EVALUATE = "accounting_sync.alerts.tasks.evaluate"
DIGEST = "accounting_sync.alerts.tasks.digest"


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        func=EVALUATE, defaults={"name": "accounting_sync alerts", "schedule_type": "I", "minutes": 1, "repeats": -1})
    now = django.utils.timezone.now()
    first = now.replace(hour=7, minute=0, second=0, microsecond=0)
    if first <= now:
        first += dt.timedelta(days=1)
    Schedule.objects.update_or_create(
        func=DIGEST, defaults={"name": "accounting_sync alerts digest", "schedule_type": "D", "repeats": -1,
                               "next_run": first})


def remove_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func__in=[EVALUATE, DIGEST]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounting_sync', '0020_file_delivery'),
        ('connectors', '0004_platform_export'),
        ('django_q', '0018_task_success_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='AlertRecipient',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.EmailField(max_length=254)),
                ('incidents', models.BooleanField(default=True, help_text='An email when an incident opens and when it clears')),
                ('digest', models.BooleanField(default=True, help_text='The daily digest of open incidents')),
                ('connection', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alert_recipients', to='connectors.connection')),
            ],
            options={
                'ordering': ['connection', 'email'],
                'constraints': [models.UniqueConstraint(fields=('connection', 'email'), name='one_alert_recipient')],
            },
        ),
        migrations.CreateModel(
            name='Incident',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('reauth', 'Connection needs reconnecting'), ('attention', 'Entries need attention'), ('failures', 'Entries keep failing'), ('queue_stopped', 'Task queue stopped'), ('rate_budget', 'Rate budget exhausted'), ('variance', 'Reconciliation found variances')], max_length=20)),
                ('key', models.CharField(blank=True, help_text='Tells apart incidents of one kind and connection (empty for the built-in kinds)', max_length=200)),
                ('title', models.CharField(max_length=300)),
                ('detail', models.TextField(blank=True, help_text='What the last evaluation found')),
                ('hint', models.CharField(blank=True, help_text='What to do about it', max_length=500)),
                ('value', models.PositiveIntegerField(default=0, help_text='How many (entries, variances, changes) at the last look')),
                ('peak', models.PositiveIntegerField(default=0, help_text='The most it was while open')),
                ('seen', models.PositiveIntegerField(default=1, help_text='Evaluations that found it')),
                ('opened_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('last_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('resolved_at', models.DateTimeField(blank=True, null=True)),
                ('notices_due', models.BooleanField(default=True, help_text='A notice is still to be delivered')),
                ('opened_signal_at', models.DateTimeField(blank=True, null=True)),
                ('opened_email_at', models.DateTimeField(blank=True, null=True)),
                ('opened_webhook_at', models.DateTimeField(blank=True, null=True)),
                ('resolved_signal_at', models.DateTimeField(blank=True, null=True)),
                ('resolved_email_at', models.DateTimeField(blank=True, null=True)),
                ('resolved_webhook_at', models.DateTimeField(blank=True, null=True)),
                ('delivery_attempts', models.PositiveIntegerField(default=0, help_text='Evaluations at which a channel failed')),
                ('delivery_error', models.TextField(blank=True, help_text='Why the last delivery failed')),
                ('claimed_until', models.DateTimeField(blank=True, editable=False, help_text='A worker is delivering its notices until then', null=True)),
                ('connection', models.ForeignKey(blank=True, help_text='Empty: it concerns every connection (the task queue)', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='incidents', to='connectors.connection')),
            ],
            options={
                'ordering': ['-opened_at', '-id'],
                'indexes': [models.Index(condition=models.Q(('notices_due', True)), fields=['notices_due'], name='incident_notices_due')],
                'constraints': [models.UniqueConstraint(django.db.models.functions.comparison.Coalesce('connection', models.Value(0), output_field=models.BigIntegerField()), models.F('kind'), models.F('key'), condition=models.Q(('resolved_at__isnull', True)), name='one_open_incident')],
            },
        ),
        migrations.RunPython(create_schedules, remove_schedules),
    ]

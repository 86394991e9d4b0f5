# Bank-feed payment matching: one row per bank-side record (or unmatched payment) and staff decisions.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounting_sync', '0017_trigger_send_drafts'),
        ('connectors', '0003_sliding_window_budget'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BankMatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('ident', models.CharField(help_text='deposit:<platform id> or payment:<source key>', max_length=250)),
                ('deposit_id', models.CharField(blank=True, help_text="The platform's id of the bank record",
                                                max_length=100)),
                ('deposit_date', models.DateField(blank=True, null=True)),
                ('deposit_amount', models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True)),
                ('currency', models.CharField(blank=True, max_length=3)),
                ('reference', models.CharField(blank=True, max_length=200)),
                ('deposit_kind', models.CharField(blank=True, help_text='deposit, payment, bank_transaction',
                                                  max_length=20)),
                ('payment_keys', models.JSONField(blank=True, default=list,
                                                  help_text='Source keys of our payments in it')),
                ('payment_ids', models.JSONField(blank=True, default=list,
                                                 help_text="The platform's ids of those payments")),
                ('payment_labels', models.CharField(blank=True, max_length=500)),
                ('payments_total', models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True)),
                ('fee', models.DecimalField(blank=True, decimal_places=2,
                                            help_text="Payments total minus the deposit: the processor's fee",
                                            max_digits=18, null=True)),
                ('bucket', models.CharField(choices=[('matched', 'Matched'), ('probable', 'Probable (staff confirm)'),
                                                     ('unmatched', 'Unmatched')], max_length=10)),
                ('reason', models.CharField(blank=True, max_length=300)),
                ('decision', models.CharField(blank=True, choices=[('confirmed', 'Confirmed'),
                                                                   ('rejected', 'Rejected')], max_length=10)),
                ('rejected', models.JSONField(blank=True, default=list,
                                              help_text='Payment-key sets staff rejected for it')),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('first_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('last_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('connection', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                 related_name='bank_matches', to='connectors.connection')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                 related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'bank match',
                'verbose_name_plural': 'bank matches',
                'ordering': ['-deposit_date', '-id'],
                'indexes': [models.Index(fields=['connection', 'bucket'], name='bank_match_bucket')],
                'constraints': [models.UniqueConstraint(fields=('connection', 'ident'),
                                                        name='one_bank_match_per_record')],
            },
        ),
    ]

"""A tiny host system (a repair shop's jobs) with its own billing models, synced through adapters."""
from decimal import Decimal

from django.db import models


class Client(models.Model):
    organization = models.ForeignKey("ledger.Organization", on_delete=models.PROTECT)
    full_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return self.full_name


class Job(models.Model):
    STATUSES = (("open", "Open"), ("in_repair", "In repair"), ("completed", "Completed"))

    client = models.ForeignKey(Client, on_delete=models.PROTECT)
    description = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=STATUSES, default="open")

    def __str__(self) -> str:
        return self.description


class JobInvoice(models.Model):
    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="invoices")
    reference = models.CharField(max_length=21)
    issued_on = models.DateField()
    labour_hours = models.DecimalField(max_digits=10, decimal_places=2)
    hourly_rate = models.DecimalField(max_digits=10, decimal_places=2)
    parts_total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    cancelled = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.reference


class JobPayment(models.Model):
    invoice = models.ForeignKey(JobInvoice, on_delete=models.PROTECT, related_name="payments")
    reference = models.CharField(max_length=21)
    paid_on = models.DateField()
    amount = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return self.reference

"""Test settings: the standalone project plus the example host app with its own billing models."""
from config.settings import *  # noqa: F401,F403
from cryptography.fernet import Fernet

from config.settings import INSTALLED_APPS, Q_CLUSTER

INSTALLED_APPS = [*INSTALLED_APPS, "tests.hostapp"]
Q_CLUSTER = {**Q_CLUSTER, "sync": False}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ACCOUNTING_SYNC = {
    "ENCRYPTION_KEYS": [Fernet.generate_key().decode()],  # fresh per test run
    "SOURCES": [
        {"model": "tests_hostapp.JobInvoice", "adapter": "tests.hostapp.adapters.JobInvoiceAdapter"},
        {"model": "tests_hostapp.JobPayment", "adapter": "tests.hostapp.adapters.JobPaymentAdapter"},
        {"model": "tests_hostapp.Client", "adapter": "tests.hostapp.adapters.ClientAdapter"},
    ],
}

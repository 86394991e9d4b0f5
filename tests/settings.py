"""Test settings: the standalone project plus the example host app with its own billing models."""
from config.settings import *  # noqa: F401,F403
from cryptography.fernet import Fernet

from config.settings import INSTALLED_APPS, Q_CLUSTER, env

INSTALLED_APPS = [*INSTALLED_APPS, "tests.hostapp"]
Q_CLUSTER = {**Q_CLUSTER, "sync": False}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ACCOUNTING_SYNC = {
    # Fresh per test run; a subprocess started by a test (qcluster) is handed the same key via the environment.
    "ENCRYPTION_KEYS": env.list("ACCOUNTING_SYNC_ENCRYPTION_KEYS", default=[]) or [Fernet.generate_key().decode()],
    "SOURCES": [
        {"model": "tests_hostapp.JobInvoice", "adapter": "tests.hostapp.adapters.JobInvoiceAdapter"},
        {"model": "tests_hostapp.JobPayment", "adapter": "tests.hostapp.adapters.JobPaymentAdapter"},
        {"model": "tests_hostapp.Client", "adapter": "tests.hostapp.adapters.ClientAdapter"},
    ],
}
# Conf overrides handed to a qcluster subprocess by a test (short leases and backoff for the cluster chaos test).
ACCOUNTING_SYNC.update(env.json("ACCOUNTING_SYNC_TEST_OVERRIDES", default={}))

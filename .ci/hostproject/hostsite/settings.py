"""A minimal host project's settings, written the way docs/configuration.md tells a host to.

Only what a host has: Django's own apps, the four apps and their two dependencies (with DRF's token app for the
API's token authentication), SQLite next to this file, django-q2's ORM broker with the settings the system checks
ask for. Nothing here imports from the repository; the host check runs it against the installed wheel.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ["HOST_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",  # the API's token authentication (optional: session authentication works without)
    "django_q",
    "ledger",
    "connectors",
    "mappings",
    "accounting_sync",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "hostsite.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],  # no project templates: every template the apps use must come from the installed package
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "host.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "static"

Q_CLUSTER = {
    "name": "host",
    "workers": 1,
    "timeout": 120,
    "retry": 300,
    "catch_up": False,
    "orm": "default",
    "broker_class": "accounting_sync.broker.OutboxBroker",
}
ACCOUNTING_SYNC = {
    "ENCRYPTION_KEYS": os.environ["ACCOUNTING_SYNC_ENCRYPTION_KEYS"].split(","),
}

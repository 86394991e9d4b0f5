"""Settings of the standalone project (demo, tests, benchmarks).

Everything comes from the environment through django-environ. Defaults give a working SQLite + django-q2
ORM-broker set-up with no services installed; ``DATABASE_URL`` switches to PostgreSQL and ``REDIS_URL`` to the
Redis broker. Secrets missing from the environment are generated once into ``var/dev-secrets.json`` (ignored
by git) so a fresh clone runs; production must set them in the environment.
"""
import json
import secrets
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _dev_secret(name: str, make) -> str:
    """Return a development secret, created once per checkout and kept out of git."""
    VAR_DIR.mkdir(exist_ok=True)
    path = VAR_DIR / "dev-secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    if name not in values:
        values[name] = make()
        path.write_text(json.dumps(values, indent=2))
        path.chmod(0o600)
    return values[name]


DEBUG = env.bool("DEBUG", default=True)
if not DEBUG and not env("SECRET_KEY", default=None):
    raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY in the environment (a development key is not used)")
SECRET_KEY = env("SECRET_KEY", default=None) or _dev_secret("SECRET_KEY", lambda: secrets.token_urlsafe(50))
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

# Production switches. With DEBUG off every one defaults to the safe value; each can be set from the environment
# (for example SECURE_SSL_REDIRECT=0 where the proxy in front already redirects to HTTPS).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Preloading commits the whole domain to HTTPS in browsers' built-in lists: a decision for the site's owner,
# so it is off unless asked for, and Django's reminder about it (security.W021) is silenced while it is off.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Behind a TLS-terminating proxy: SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https (only if the proxy always
# sets or strips that header).
if env("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = tuple(env.list("SECURE_PROXY_SSL_HEADER"))
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",  # token authentication for the API (docs/api.md)
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
ROOT_URLCONF = "config.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    VAR_DIR.mkdir(exist_ok=True)
    # Several processes (web, qcluster, demo) share the file: wait for locks instead of failing at once. The
    # write-ahead log lets them read while one writes (a rollback journal makes a commit wait for every reader),
    # and a commit appends to the log instead of copying pages to a journal first. In-memory test databases keep
    # their own journal ("memory"); the setting is a no-op there.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE",
                                                           "init_command": "PRAGMA journal_mode=WAL"})
else:
    # A worker runs one task after another: it keeps its database connection between them (checked before reuse)
    # instead of opening one per task, which cost a busy cluster about a twentieth of its CPU in handshakes and
    # the server a new process each time (docs/performance.md, "Tenants"). ``?conn_max_age=`` in the URL wins.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

REDIS_URL = env("REDIS_URL", default="")
Q_CLUSTER = {
    "name": env("QUEUE_NAME", default="accounting_sync"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 120,
    "retry": 300,  # > 2 x timeout: a slow task is never redelivered while it still runs
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    # No row per successful task: the sync log is the record of what was sent. With a positive limit django-q2
    # locks and reads every stored success at each task's end to prune them, a tenth of a busy cluster's CPU
    # (docs/performance.md, "Tenants"). Failures are still stored.
    "save_limit": -1,
    "poll": env.float("Q_POLL", default=0.2),  # ORM broker: how often idle workers look for tasks
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    # Tasks a cluster takes from Redis ahead of its workers (django-q2's default: workers squared). Taken, they wait
    # for that cluster's workers even while another cluster's are free; with as many as its workers the rest stay in
    # Redis for whichever cluster frees a worker first (docs/operations.md, "Scale-out").
    Q_CLUSTER["queue_limit"] = env.int("Q_QUEUE_LIMIT", default=Q_CLUSTER["workers"])
else:
    Q_CLUSTER["orm"] = "default"
    # The queue table lives in the host's database: the pusher dispatches the outbox itself (each poll), so a
    # save writes no task row. See accounting_sync/broker.py.
    Q_CLUSTER["broker_class"] = "accounting_sync.broker.OutboxBroker"

if not DEBUG and not env.list("ACCOUNTING_SYNC_ENCRYPTION_KEYS", default=[]):
    raise ImproperlyConfigured("DEBUG is off: set ACCOUNTING_SYNC_ENCRYPTION_KEYS in the environment "
                               "(a development key is not used)")
ACCOUNTING_SYNC = {
    "ENCRYPTION_KEYS": env.list("ACCOUNTING_SYNC_ENCRYPTION_KEYS", default=[])
    or [_dev_secret("ACCOUNTING_SYNC_ENCRYPTION_KEY", lambda: Fernet.generate_key().decode())],
    # "qbo=<verifier token>,xero=<webhook key>": the apps' webhook secrets (webhooks are refused without one).
    "WEBHOOK_SECRETS": env.dict("ACCOUNTING_SYNC_WEBHOOK_SECRETS", default={}),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "connectors.redaction.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

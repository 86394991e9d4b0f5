"""The standalone project's settings are production-safe with DEBUG off: ``check --deploy`` is clean, and missing
secrets stop the start instead of falling back to development ones."""
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "test-only-" + "Vq3-pX9_zL2mN8rT5wY1bC4dF7gH0jK6sA" * 2,
              "ALLOWED_HOSTS": "books.example.com",
              "ACCOUNTING_SYNC_ENCRYPTION_KEYS": Fernet.generate_key().decode()}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "ACCOUNTING_SYNC_ENCRYPTION_KEYS")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_debug_off():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_switches_can_be_turned_from_the_environment():
    result = manage("shell", "-c", "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
                    "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)",
                    **PRODUCTION, SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="600",
                    SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https")
    printed = result.stdout.strip().splitlines()[-1].split() if result.stdout.strip() else result.stderr
    assert printed == ["False", "600", "True", "True", "('HTTP_X_FORWARDED_PROTO',", "'https')"]


def test_debug_off_without_secrets_refuses_to_start():
    for missing in ("SECRET_KEY", "ACCOUNTING_SYNC_ENCRYPTION_KEYS"):
        env = {k: v for k, v in PRODUCTION.items() if k != missing}
        result = manage("check", **env)
        assert result.returncode != 0 and f"set {missing} in the environment" in result.stderr

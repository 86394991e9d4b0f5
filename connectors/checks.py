from django.conf import settings
from django.core.checks import Error, register


@register()
def encryption_keys(app_configs, **kwargs):
    from cryptography.fernet import Fernet

    keys = getattr(settings, "ACCOUNTING_SYNC", {}).get("ENCRYPTION_KEYS") or []
    if not keys:
        return [Error("ACCOUNTING_SYNC['ENCRYPTION_KEYS'] is empty.", hint="Set one Fernet key (first encrypts).",
                      id="connectors.E001")]
    errors = []
    for i, key in enumerate(keys):
        try:
            Fernet(key.encode() if isinstance(key, str) else key)
        except ValueError:
            errors.append(Error(f"ENCRYPTION_KEYS[{i}] is not a valid Fernet key.",
                                hint="Generate one with cryptography.fernet.Fernet.generate_key().",
                                id="connectors.E002"))
    return errors

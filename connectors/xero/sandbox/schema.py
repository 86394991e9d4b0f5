"""Request-body validation against Xero's official OpenAPI document (``xero_accounting.yaml``).

The document ships with the package, in ``connectors/xero/spec/`` (vendored from Xero's published OpenAPI
repository with its licence; see the README there). ``XERO_OPENAPI_SPEC`` or a sandbox's ``spec_path`` can point
at another copy, for instance a newer release. It is ~900 KB of YAML, so it is parsed and compiled once per
process and shared by every sandbox. The whole document does not validate as OpenAPI (a boolean ``default`` is
the string ``'false'``), so each body is checked against one component schema with
``Draft4Validator({"$ref": "#/components/schemas/Invoices", "components": ...})``.

The spec types and enumerates fields but marks almost nothing required; the required-field rules Xero
documents are business rules in :mod:`.store`, so they can fail one element of a batch at a time.

``jsonschema`` and ``PyYAML`` are optional at run time (the test extra installs them): without them, or when a
path given explicitly names no file, validation is skipped and :func:`status` says why. The tests require both
and the vendored file, and fail when either is missing.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import uuid
from pathlib import Path
from typing import Any

from .wire import XeroError, post_data_invalid

log = logging.getLogger(__name__)

ENV_VAR = "XERO_OPENAPI_SPEC"
#: The vendored copies of Xero's OpenAPI documents (accounting, webhooks, identity) and their licence.
SPEC_DIR = Path(__file__).resolve().parents[1] / "spec"
DEFAULT_SPEC = SPEC_DIR / "xero_accounting.yaml"

_lock = threading.Lock()
_cache: dict[str, _Spec] = {}


def spec_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_SPEC)


class _Spec:
    """One parsed spec with lazily built, cached validators per component schema."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        self.components: dict | None = None
        self._validators: dict[str, Any] = {}
        try:
            import jsonschema
            import yaml
        except ImportError as exc:
            self.error = f"validation skipped: {exc.name} is not installed"
            return
        if not path.is_file():
            self.error = f"validation skipped: OpenAPI spec not found at {path.name} (set {ENV_VAR})"
            return
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with path.open("rb") as handle:
            document = yaml.load(handle, Loader=loader)  # nosec B506
        self.components = document["components"]
        self.version = document.get("info", {}).get("version")
        self._jsonschema = jsonschema
        self._formats = jsonschema.FormatChecker(formats=())
        self._formats.checks("uuid", raises=ValueError)(_is_uuid)

    def validator(self, schema: str) -> Any:
        found = self._validators.get(schema)
        if found is None:
            if schema not in self.components["schemas"]:
                raise KeyError(f"no component schema {schema!r} in {self.path.name}")
            found = self._jsonschema.Draft4Validator(
                {"$ref": f"#/components/schemas/{schema}", "components": self.components},
                format_checker=self._formats)
            self._validators[schema] = found
        return found


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    uuid.UUID(value)
    return True


def load(path: Path | None = None) -> _Spec:
    """The process-wide parsed spec for ``path`` (default: :func:`spec_path`)."""
    path = path or spec_path()
    key = str(path)
    with _lock:
        spec = _cache.get(key)
        if spec is None:
            spec = _Spec(path)
            if spec.error:
                log.warning("Xero sandbox: %s", spec.error)
            _cache[key] = spec
        return spec


def status(path: Path | None = None) -> dict:
    """For ``/_sandbox/state``: whether bodies are validated, and against what."""
    spec = load(path)
    if spec.error:
        return {"enabled": False, "reason": spec.error}
    return {"enabled": True, "file": spec.path.name, "version": spec.version}


def check(schema: str, body: Any, path: Path | None = None) -> XeroError | None:
    """Validate ``body`` against component ``schema``; a PostDataInvalidException (14) on the first error."""
    spec = load(path)
    if spec.error:
        return None
    error = spec._jsonschema.exceptions.best_match(spec.validator(schema).iter_errors(body))
    if error is None:
        return None
    return post_data_invalid(f"{error.message}. Path '{_dotted(error.absolute_path)}'.")


def _dotted(parts: Any) -> str:
    """``['Invoices', 0, 'Type']`` -> ``Invoices[0].Type`` (how Xero's deserializer names a location)."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return re.sub(r"^\.", "", text)

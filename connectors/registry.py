"""Connector registry in the style of django-allauth's providers.

Each platform is a sub-package of ``connectors`` whose ``connector`` module calls ``register``. Sub-packages
are discovered when the app is ready; ``ACCOUNTING_SYNC["CONNECTORS"]`` (platform id -> dotted class path)
adds or overrides connectors without touching this package.
"""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from .base import BaseConnector

_registry: dict[str, type[BaseConnector]] = {}
_loaded = False


def register(cls: type[BaseConnector]) -> type[BaseConnector]:
    _registry[cls.id] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.ispkg and info.name != "migrations":
            try:
                importlib.import_module(f"connectors.{info.name}.connector")
            except ModuleNotFoundError as exc:
                if exc.name != f"connectors.{info.name}.connector":
                    raise
    _loaded = True


def connectors() -> dict[str, type[BaseConnector]]:
    """All connector classes by platform id, overrides from settings applied (read at call time)."""
    _load()
    found = dict(_registry)
    for platform, path in getattr(settings, "ACCOUNTING_SYNC", {}).get("CONNECTORS", {}).items():
        found[platform] = import_string(path)
    return found


def get(platform: str) -> type[BaseConnector]:
    try:
        return connectors()[platform]
    except KeyError:
        raise LookupError(f"no connector registered for platform {platform!r}") from None


def choices() -> list[tuple[str, str]]:
    return sorted((pid, cls.name) for pid, cls in connectors().items())

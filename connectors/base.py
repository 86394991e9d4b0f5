"""The connector base class: what every platform implements, and what it declares it can do.

A connector is a translation layer. It gets a ``ConnectionConfig`` (plain values, no Django model) and a
``token_getter`` that returns a valid access token (the pipeline owns refresh and its locking). It receives
snapshots and mappings and returns ``RemoteResult``s or raises a ``connectors.errors.SyncError`` subclass.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, ClassVar

from .documents import Mapping, RemoteRef, RemoteResult, Snapshot


@dataclass(frozen=True)
class ConnectionConfig:
    """The parts of a ``Connection`` a connector may see."""

    platform: str
    name: str
    remote_company_id: str  # QBO realm id, Xero tenant id
    settings: dict = field(default_factory=dict)
    client_id: str = ""
    client_secret: str = ""


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime | None = None
    remote_company_id: str = ""


@dataclass(frozen=True)
class Capabilities:
    entities: frozenset[str]
    void: frozenset[str] = frozenset()  # entities the platform voids
    delete: frozenset[str] = frozenset()  # entities the platform deletes
    currencies: frozenset[str] | None = None  # None = ask the platform (reference data)
    batch_size: int = 1


@dataclass(frozen=True)
class ReferenceData:
    """The platform's lists staff map to: accounts, tax codes, currencies (active ones only)."""

    accounts: dict[str, str] = field(default_factory=dict)  # id -> name
    tax_codes: dict[str, str] = field(default_factory=dict)  # id -> name
    currencies: frozenset[str] = frozenset()
    home_currency: str = ""


class BaseConnector:
    """Subclass per platform; register it with ``connectors.registry.register``."""

    id: ClassVar[str] = ""
    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities]
    default_settings: ClassVar[dict] = {}

    def __init__(self, config: ConnectionConfig, token_getter: Callable[[bool], str] | None = None) -> None:
        self.config = config
        self._token_getter = token_getter

    def setting(self, key: str):
        return self.config.settings.get(key, self.default_settings.get(key))

    def access_token(self, force_refresh: bool = False) -> str:
        if self._token_getter is None:
            raise RuntimeError("this connector was built without a token getter")
        return self._token_getter(force_refresh)

    # -- OAuth -------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        raise NotImplementedError

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        raise NotImplementedError

    def refresh(self, refresh_token: str) -> TokenSet:
        raise NotImplementedError

    # -- documents ---------------------------------------------------------------------------------------
    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        """Search-before-create: the remote object this document already became, if any."""
        raise NotImplementedError

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        raise NotImplementedError

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        raise NotImplementedError

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        raise NotImplementedError

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        raise NotImplementedError

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        raise NotImplementedError

    def reference_data(self) -> ReferenceData:
        raise NotImplementedError

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        """Platform-specific checks; return plain-language problems (empty list = fine)."""
        return []

"""``FileConnector``: the connector base class of platforms reached through import files, not an API.

The pipeline never calls ``create`` / ``update`` on such a connector (``delivery = "file"`` sends its entries down
the file path, ``accounting_sync/files``). What a file platform codes is only its own:

- ``formats``: its import files (``FileFormat``), in the order staff import them;
- ``render(doc, mapping)``: one document as rows of those files, ``{kind: [rows]}`` (one record per kind), with
  the platform's column names, date and number formats; raises ``DataError`` / ``ConfigurationError`` for what its
  import would refuse, so a bad document never reaches a file;
- ``parse_export(name, content)``: the platform's own export file (what staff download from it) as
  ``DocumentTotals``, which closes the exported documents and feeds reconciliation.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from ..base import BaseConnector, ConnectionConfig, DocumentTotals, ReferenceData, Setting, TokenSet
from ..documents import Mapping, RemoteRef, RemoteResult, Snapshot
from ..errors import ConfigurationError, DataError, PermanentError, RemoteNotFound
from . import writer
from .formats import FileFormat

#: ``[(file name, content)]``: the platform's export files staff uploaded, newest first.
ReadbackLoader = Callable[[], list[tuple[str, bytes]]]
NO_API = "delivers documents as import files: there is no API to call"


class FileConnector(BaseConnector):
    delivery: ClassVar[str] = "file"
    #: The platform's import files, in the order staff import them (customers before invoices before payments).
    formats: ClassVar[tuple[FileFormat, ...]] = ()
    #: File-name stem of the batch's files: "<prefix>-batch-<n>-<kind>[-<part>].<ext>".
    file_prefix: ClassVar[str] = ""
    default_settings: ClassVar[dict] = {"home_currency": "USD"}

    #: The chart staff copy from the platform (it cannot be asked), and where its export files are read back.
    settings_fields: ClassVar[tuple[Setting, ...]] = (
        Setting("accounts", "Accounts", "The platform's chart of accounts as a JSON object: account number (or name) "
                "-> name, e.g. {\"4000\": \"Sales\"}. Mappings point at these.", "json", default={}),
        Setting("account_kinds", "Account kinds", "Each account's kind as a JSON object: account -> income, expense, "
                "deposit, receivable, tax_payable or other. Accounts not listed may be used for anything.", "json",
                default={}),
        Setting("tax_codes", "Tax codes", "The platform's tax codes as a JSON object: code -> name.", "json",
                default={}),
        Setting("home_currency", "Home currency", "The company's currency, a three-letter code."),
        Setting("currencies", "Currencies", "The currencies the company keeps, as a JSON list (e.g. [\"USD\"]). "
                "Empty: the home currency alone.", "json", default=[]),
        Setting("readback_folder", "Read-back folder", "A folder on the server the platform's export files are "
                "read from, besides the files uploaded on the connection's page. Empty: uploads only."),
    )

    def __init__(self, config: ConnectionConfig, token_getter=None, throttle=None, *,
                 readback: ReadbackLoader | None = None) -> None:
        super().__init__(config, token_getter, throttle)
        self._readback = readback
        self._documents: dict[tuple[str, str], DocumentTotals] | None = None

    # -- what a file platform codes ----------------------------------------------------------------------------
    def render(self, doc: Snapshot, mapping: Mapping) -> dict[str, list[dict[str, str]]]:
        """``doc`` as rows of the platform's import files: ``{format kind: [rows of this document]}``."""
        raise NotImplementedError

    def render_dependency(self, doc: Snapshot) -> dict[str, list[dict[str, str]]] | None:
        """Rows for a dependency (a customer) the platform's import needs before the document that names it, or
        None when the platform matches it by name to what staff keep there. Sent once, with the first document."""
        return None

    def dependency_name(self, doc: Snapshot) -> str:
        """How the document's rows name a dependency: a customer or item by name, an invoice by number."""
        return getattr(doc, "number", "") or getattr(doc, "name", "")

    def parse_export(self, name: str, content: bytes) -> list[DocumentTotals]:
        """The platform's export file (or an import file it produced) as the documents it holds."""
        raise NotImplementedError

    # -- provided ----------------------------------------------------------------------------------------------
    def format(self, kind: str) -> FileFormat:
        for fmt in self.formats:
            if fmt.kind == kind:
                return fmt
        raise KeyError(kind)

    def check_rows(self, rows: dict[str, list[dict[str, str]]]) -> None:
        """Refuse a rendered document the platform's import would refuse (``DataError`` naming every problem)."""
        problems = []
        for kind, record in rows.items():
            fmt = self.format(kind)
            for n, row in enumerate(record, 1):
                problems += [f"{fmt.title}, row {n}: {p}" for p in fmt.problems(row)]
        if problems:
            raise DataError("; ".join(problems), hint=f"Change the document so {self.name}'s import accepts it, "
                                                      "then retry the entry.")

    def write_files(self, records: dict[str, list[writer.Record]],
                    batch_number: int) -> list[tuple[str, writer.RenderedFile]]:
        """The batch's files, ``[(name, file)]``, in import order; a kind over its row limit becomes several."""
        out = []
        for fmt in self.formats:
            rendered = writer.render(fmt, records.get(fmt.kind, [])) if records.get(fmt.kind) else []
            for f in rendered:
                suffix = f"-{f.part}" if len(rendered) > 1 else ""
                out.append((f"{self.file_prefix or self.id}-batch-{batch_number}-{fmt.kind}{suffix}.{fmt.extension}",
                            f))
        return out

    def use_readback(self, loader: ReadbackLoader) -> None:
        self._readback, self._documents = loader, None

    def readback_files(self) -> list[tuple[str, bytes]]:
        """The platform's export files: those uploaded (newest first), then the newest in ``readback_folder``."""
        files = list(self._readback() if self._readback else [])
        folder = self.setting("readback_folder")
        if folder:
            found = sorted((p for p in Path(folder).glob("*") if p.is_file()), key=lambda p: p.stat().st_mtime,
                           reverse=True)
            files += [(p.name, p.read_bytes()) for p in found]
        return files

    def documents(self) -> dict[tuple[str, str], DocumentTotals]:
        """Every document the export files hold, by (entity, remote id); a newer file wins."""
        if self._documents is None:
            found: dict[tuple[str, str], DocumentTotals] = {}
            for name, content in reversed(self.readback_files()):  # oldest first: newer files overwrite
                for doc in self.parse_export(name, content):
                    found[(doc.entity, doc.remote_id)] = doc
            self._documents = found
        return self._documents

    def read_documents(self, entity: str, remote_ids: Sequence[str]) -> list[DocumentTotals]:
        held = self.documents()
        return [held.get((entity, rid)) or DocumentTotals(rid, entity, "", "deleted") for rid in remote_ids]

    def list_documents(self, entity: str, since: dt.datetime | None = None) -> Iterator[DocumentTotals]:
        yield from (d for (e, _), d in sorted(self.documents().items()) if e == entity)

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        doc = self.documents().get((entity, remote_id))
        if doc is None:
            raise RemoteNotFound(f"{self.name}'s export files hold no {entity.replace('_', ' ')} {remote_id}",
                                 hint=f"Upload {self.name}'s latest export file.")
        status = {"voided": "voided", "deleted": "deleted"}.get(doc.status, "active")
        return RemoteResult(remote_id=doc.remote_id, version=doc.version, number=doc.number, total=doc.total,
                            balance=doc.balance, status=status)

    def reference_data(self) -> ReferenceData:
        """The chart staff copied into the connection's settings (``accounts``: number or name -> name,
        ``tax_codes``: code -> name): a file platform cannot be asked."""
        accounts = dict(self.setting("accounts") or {})
        kinds = dict(self.setting("account_kinds") or {})
        home = self.setting("home_currency") or "USD"
        return ReferenceData(accounts=accounts, tax_codes=dict(self.setting("tax_codes") or {}),
                             currencies=frozenset(self.setting("currencies") or [home]), home_currency=home,
                             account_kinds=kinds)

    @staticmethod
    def digest(content: bytes) -> str:
        return hashlib.sha256(content).hexdigest()

    # -- what a file platform does not have ------------------------------------------------------------------
    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {}

    def _no_api(self, what: str):
        raise PermanentError(f"{self.name} {NO_API} ({what})", code="file_delivery",
                             hint="Its documents go out in export batches: see the export batches in the admin.")

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        raise ConfigurationError(f"{self.name} {NO_API}: nothing to connect",
                                 hint="Save the connection; its documents go out in export batches.")

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        self._no_api("exchange_code")

    def refresh(self, refresh_token: str) -> TokenSet:
        self._no_api("refresh")

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        return None

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        self._no_api("create")

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        self._no_api("update")


def records_by_kind(rendered: Iterable[dict[str, list[dict[str, str]]]]) -> dict[str, list[writer.Record]]:
    """Documents' rendered rows (``render`` results, in order) grouped per file kind: one record per document."""
    out: dict[str, list[writer.Record]] = {}
    for rows in rendered:
        for kind, record in rows.items():
            out.setdefault(kind, []).append(record)
    return out

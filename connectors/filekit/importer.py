"""``ImporterEmulator``: an in-process stand-in for a file platform's import screen and export report.

What the sandbox is to an API platform, this is to a file platform: the tests and the demo hand it the files a
batch produced; it reads them with the csv module the way the platform's import does (the header names its
template documents, required columns, lengths, dates, amounts, rows per file, encoding, the empty line between
records), refuses a whole file on any problem (nothing half-imported), keeps what it imported under the
platform's own numbering, and writes the platform's export file, which staff would download there and upload
here to close the documents and reconcile. Subclasses code only the platform's rules (``accept``) and its export
file (``export_file``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from ..base import DocumentTotals
from ..errors import DataError
from . import parser
from .delivery import FileConnector
from .formats import FileFormat


@dataclass
class ImportResult:
    kind: str
    imported: list[str] = field(default_factory=list)  # document numbers, in file order
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImporterEmulator:
    platform: ClassVar[str] = ""
    title: ClassVar[str] = ""
    connector: ClassVar[type[FileConnector]]

    def __init__(self, **_ignored) -> None:
        self.reset()

    def reset(self) -> None:
        #: (entity, number) -> what the platform holds.
        self.documents: dict[tuple[str, str], DocumentTotals] = {}
        self.imports: list[ImportResult] = []

    # -- the sandbox interface the registry check and the demo use --------------------------------------------------
    def start(self) -> ImporterEmulator:
        return self

    def stop(self) -> None:
        pass

    # -- importing ---------------------------------------------------------------------------------------------
    def kind_of(self, name: str, content: bytes) -> FileFormat:
        """Which of the platform's import files this is: by its name (what staff pick on the import screen)."""
        for fmt in self.connector.formats:
            if f"-{fmt.kind}" in name:
                return fmt
        raise DataError(f"{name}: not one of {self.title}'s import files "
                        f"({', '.join(f.title for f in self.connector.formats)})")

    def import_file(self, name: str, content: bytes) -> ImportResult:
        fmt = self.kind_of(name, content)
        result = ImportResult(fmt.kind)
        try:
            if fmt.header:
                header = parser.header_of(fmt, content)
                unknown = [h for h in header if h not in fmt.names]
                missing = [c for c in fmt.required if c not in header]
                if unknown or missing:
                    result.errors.append(f"the header does not match the template: unknown {unknown}, "
                                         f"missing {missing}")
                    return self._done(result)
            records = self.group(fmt, parser.read(fmt, content))
        except DataError as exc:
            result.errors.append(exc.message)
            return self._done(result)
        rows = sum(len(r) for r in records)
        if fmt.max_rows and rows > fmt.max_rows:
            result.errors.append(f"{rows} rows: {self.title} imports at most {fmt.max_rows} at a time")
            return self._done(result)
        staged = []
        for n, record in enumerate(records, 1):
            problems = [p for row in record for p in fmt.problems(row)]
            try:
                doc = self.accept(fmt, record) if not problems else None
            except DataError as exc:
                problems.append(exc.message)
                doc = None
            if problems:
                result.errors += [f"record {n}: {p}" for p in problems]
            elif doc is not None:
                staged.append(doc)
        if not result.errors:  # all or nothing
            self.commit(staged)
            result.imported += [doc.number for doc in staged]
        return self._done(result)

    def commit(self, staged: list[DocumentTotals]) -> None:
        """Book a file whose every record was accepted."""
        for doc in staged:
            self.documents[(doc.entity, doc.remote_id)] = doc

    def _done(self, result: ImportResult) -> ImportResult:
        self.imports.append(result)
        return result

    def group(self, fmt: FileFormat, records: list[list[dict[str, str]]]) -> list[list[dict[str, str]]]:
        """Records as the platform reads them: a platform whose file has one row per line item groups the rows of
        one document here (default: the file's own records)."""
        return records

    def accept(self, fmt: FileFormat, record: list[dict[str, str]]) -> DocumentTotals | None:
        """One record as the platform books it (None for a record that creates no document, a customer);
        ``DataError`` for what the platform refuses (an unknown invoice for a payment, a duplicate number)."""
        raise NotImplementedError

    def pay(self, entity: str, number: str, amount: Decimal) -> None:
        """A payment applied on the platform lowers the document's balance."""
        doc = self.documents.get((entity, number))
        if doc is None:
            raise DataError(f"no {entity.replace('_', ' ')} {number} in {self.title}")
        balance = (doc.balance if doc.balance is not None else doc.total or Decimal("0")) - amount
        if balance < 0:
            raise DataError(f"{amount} is more than the {doc.balance} still due on {number}")
        self.documents[(entity, number)] = DocumentTotals(
            doc.remote_id, doc.entity, doc.number, "paid" if balance == 0 else "open", doc.currency, doc.total,
            doc.tax_total, balance, doc.home_total, doc.modified, doc.date, doc.version)

    def edit_total_as_user(self, entity: str, number: str, total: Decimal) -> None:
        """A bookkeeper changes the document's total on the platform (a line's amount); its next export file shows
        it. The difference lands on the balance still due."""
        doc = self.documents.get((entity, number))
        if doc is None:
            raise DataError(f"no {entity.replace('_', ' ')} {number} in {self.title}")
        balance = (doc.balance if doc.balance is not None else doc.total or Decimal("0")) + total - (doc.total or 0)
        self.documents[(entity, number)] = DocumentTotals(
            doc.remote_id, doc.entity, doc.number, "paid" if balance == 0 else "open", doc.currency, total,
            doc.tax_total, balance, doc.home_total, doc.modified, doc.date, doc.version)

    # -- exporting -----------------------------------------------------------------------------------------------
    def export_file(self) -> tuple[str, bytes]:
        """The platform's export file of what it holds: ``(file name, content)``."""
        raise NotImplementedError

"""What every file-delivery platform passes: its files read back with the csv module match the platform's documented
import template (``tests/connectors/<id>/fixtures/<kind>.<ext>``: the template's header row), carry Decimal money
exactly, honour the encoding, line endings, record separators and row limits, are accepted by the platform's
importer emulator, and a bad document is refused before any file is written.

A platform's ``tests/connectors/<id>/test_contract.py`` subclasses ``FileContract`` and sets ``platform``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from connectors import registry
from connectors.base import ConnectionConfig
from connectors.documents import (Allocation, CustomerSnapshot, InvoiceSnapshot, LineSnapshot, Mapping,
                                  PaymentSnapshot)
from connectors.errors import ConfigurationError, DataError
from connectors.filekit import parser
from connectors.filekit.delivery import records_by_kind
from ledger.money import line_net

HERE = Path(__file__).resolve().parent


def _lines(*prices: str) -> tuple[LineSnapshot, ...]:
    return tuple(LineSnapshot(kind="service", description=f"Visit {i}", quantity=Decimal("2"),
                              unit_price=Decimal(p), net_amount=line_net(Decimal("2"), Decimal(p)),
                              tax_amount=Decimal("0.00")) for i, p in enumerate(prices))


class FileContract:
    platform = ""

    @pytest.fixture
    def cls(self):
        return registry.get(self.platform)

    @pytest.fixture
    def connector(self, cls):
        return cls(ConnectionConfig(self.platform, "files", "", cls.sandbox_settings("")))

    @pytest.fixture
    def importer(self, cls):
        return import_string(cls.sandbox_class)()

    def mapping(self, connector, lines: int, refs: dict | None = None) -> Mapping:
        chart = connector.demo_chart
        ids = {name: pk for pk, name in connector.reference_data().accounts.items()}
        return Mapping(line_accounts=(ids[chart.default_income],) * lines, deposit_account=ids[chart.deposit],
                       refs=dict(refs or {}))

    def invoice(self, number="C-100", prices=("12.25",)) -> InvoiceSnapshot:
        lines = _lines(*prices)
        total = sum((line.net_amount for line in lines), Decimal("0.00"))
        return InvoiceSnapshot(key=f"t.invoice:{number}", organization_id=1, number=number, customer_key="t.c:1",
                               issue_date=dt.date(2026, 3, 4), due_date=dt.date(2026, 4, 3), lines=lines,
                               subtotal=total, total=total)

    def rendered(self, connector, *docs) -> dict:
        out = []
        for doc in docs:
            refs = {"t.c:1": "Greenfield Farm", **{f"t.invoice:{d.number}": d.number for d in docs}}
            rows = connector.render(doc, self.mapping(connector, len(getattr(doc, "lines", ())), refs))
            connector.check_rows(rows)
            dep = connector.render_dependency(CustomerSnapshot(key="t.c:1", organization_id=1,
                                                               name="Greenfield Farm"))
            out.append({**(dep or {}), **rows})
        return records_by_kind(out)

    # -- the template -----------------------------------------------------------------------------------------
    def test_every_format_has_the_documented_template_as_a_fixture(self, connector):
        for fmt in connector.formats:
            fixture = HERE / self.platform / "fixtures" / f"{fmt.kind}.{fmt.extension}"
            assert fixture.is_file(), f"{fixture.relative_to(HERE.parent.parent)} missing"
            header = next(csv.reader(io.StringIO(fixture.read_text(encoding=fmt.encoding), newline=""),
                                     delimiter=fmt.delimiter))
            assert tuple(header) == fmt.names, f"{fmt.kind}: the format's columns are not the template's"

    def test_files_read_back_with_csv_match_the_template_and_the_amounts(self, connector):
        files = connector.write_files(self.rendered(connector, self.invoice(prices=("12.25", "0.10"))), 1)
        assert files
        for name, f in files:
            fmt = connector.format(f.kind)
            fixture = HERE / self.platform / "fixtures" / f"{fmt.kind}.{fmt.extension}"
            template = next(csv.reader(io.StringIO(fixture.read_text(encoding=fmt.encoding), newline=""),
                                       delimiter=fmt.delimiter))
            text = f.content.decode(fmt.encoding)
            assert fmt.line_ending in text and text.endswith(fmt.line_ending)
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter))
            assert rows[0] == template
            data = [dict(zip(rows[0], r, strict=False)) for r in rows[1:] if r]
            assert len(data) == f.rows and name.endswith(f".{fmt.extension}")
            if "invoice" in fmt.entities:
                amounts = [Decimal(r[next(c for c in fmt.names if c == "Amount")]) for r in data]
                assert amounts == [Decimal("24.50"), Decimal("0.20")]  # exact Decimal, two places

    def test_records_are_separated_as_the_platform_reads_them(self, connector):
        records = self.rendered(connector, self.invoice("C-1", ("1.00", "2.00")), self.invoice("C-2", ("3.00",)))
        kind = next(f.kind for f in connector.formats if "invoice" in f.entities)
        (_, f), = [(n, f) for n, f in connector.write_files(records, 1) if f.kind == kind]
        fmt = connector.format(kind)
        read = parser.read(fmt, f.content)
        numbers = [[r[c] for r in rec for c in fmt.names if "Invoice" in c and ("#" in c or "Number" in c)]
                   for rec in read]
        if fmt.record_separator:
            assert numbers == [["C-1", "C-1"], ["C-2"]]
            assert (fmt.line_ending * 2) in f.content.decode(fmt.encoding)
        else:
            assert [n for rec in numbers for n in rec] == ["C-1", "C-1", "C-2"]

    def test_a_row_limit_starts_a_new_file_without_splitting_a_document(self, connector):
        kind = next(f.kind for f in connector.formats if "invoice" in f.entities)
        fmt = connector.format(kind)
        limit = fmt.max_rows or 3
        if not fmt.max_rows:
            from dataclasses import replace
            fmt = replace(fmt, max_rows=limit)
        docs = [self.invoice(f"R-{i}", ("1.00", "1.00")) for i in range(limit)]
        from connectors.filekit import writer
        files = writer.render(fmt, self.rendered(connector, *docs)[kind])
        assert len(files) >= 2 and all(f.rows <= limit for f in files)
        assert sum(f.records for f in files) == limit

    def test_the_importer_accepts_the_files_and_exports_what_it_holds(self, connector, importer):
        inv = self.invoice("C-7", ("10.00",))
        pay = PaymentSnapshot(key="t.payment:P-7", organization_id=1, number="P-7", customer_key="t.c:1",
                              date=dt.date(2026, 3, 5), amount=Decimal("5.00"),
                              allocations=(Allocation(inv.key, Decimal("5.00")),))
        for name, f in connector.write_files(self.rendered(connector, inv, pay), 1):
            result = importer.import_file(name, f.content)
            assert result.ok, result.errors
        name, content = importer.export_file()
        (doc,) = [d for d in connector.parse_export(name, content) if d.number == "C-7"]
        assert doc.total == Decimal("20.00") and doc.balance == Decimal("15.00") and doc.status == "open"

    def test_the_importer_refuses_a_whole_file_with_one_bad_record(self, connector, importer):
        kind = next(f.kind for f in connector.formats if "invoice" in f.entities)
        (name, f), = [(n, f) for n, f in connector.write_files(
            self.rendered(connector, self.invoice("OK-1"), self.invoice("OK-2")), 1) if f.kind == kind]
        fmt = connector.format(kind)
        text = f.content.decode(fmt.encoding).replace("OK-2", "OK-2-MUCH-TOO-LONG-FOR-ANY-NUMBER-FIELD")
        result = importer.import_file(name, text.encode(fmt.encoding))
        assert not result.ok and not result.imported
        assert not importer.documents

    def test_a_bad_document_is_refused_before_any_file(self, connector):
        too_long = self.invoice("X" * 40)
        with pytest.raises(DataError, match="longer than"):
            self.rendered(connector, too_long)
        with pytest.raises(ConfigurationError):
            connector.render(self.invoice(), Mapping(line_accounts=(None,), refs={"t.c:1": "Greenfield Farm"}))

    def test_money_is_decimal_never_float(self, connector):
        from connectors.filekit import formats
        with pytest.raises(TypeError):
            formats.money(1.5)

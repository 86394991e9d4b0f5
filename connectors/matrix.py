"""The capability matrix: what each registered platform can do, rendered as Markdown from the connectors' own
declarations (``capabilities``, ``rate_limits``, ``concurrent_limit``), so the docs cannot drift from the code.

    python -m connectors.matrix            print the tables
    python -m connectors.matrix --write    rewrite them in docs/connectors/README.md, between the markers

``tests/connectors/test_matrix.py`` fails when the checked-in tables differ from the generated ones. Pure: no
Django model is touched; the registry reads ``settings.ACCOUNTING_SYNC`` at call time, so run standalone the
command configures empty settings (the package's own connectors) unless ``DJANGO_SETTINGS_MODULE`` is set.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from .base import BaseConnector, Setting
from .documents import Entity

START = "<!-- capability-matrix:start -->"
END = "<!-- capability-matrix:end -->"
#: The checked-in copy (in a source checkout; an installed package has no docs).
DOC = Path(__file__).resolve().parents[1] / "docs" / "connectors" / "README.md"
WRITE_HINT = "python -m connectors.matrix --write"

YES, NO = "yes", "—"
OPERATIONS = ("create", "update", "void", "delete")
_WINDOWS = {1.0: "second", 60.0: "minute", 3600.0: "hour", 86400.0: "day"}


def operations(cls: type[BaseConnector], entity: str) -> dict[str, bool]:
    """What the platform does with ``entity`` outbound. Every synced entity is created, and updated unless the
    platform is reached by import files (they only create); void and delete are declared per entity."""
    caps = cls.capabilities
    synced = entity in caps.entities
    return {"create": synced, "update": synced and cls.delivery == "api", "void": entity in caps.void,
            "delete": entity in caps.delete}


def rate_limits(limits: Mapping[str, tuple[int, float]]) -> str:
    """``{"request": (60, 60.0), "day": (5000, 86400.0)}`` -> ``request: 60 per minute; day: 5,000 per day``."""
    parts = []
    for kind, (count, window) in limits.items():
        per = _WINDOWS.get(float(window), f"{float(window):g} s")
        parts.append(f"{kind}: {count:,} per {per}")
    return "; ".join(parts) or "none declared"


def _label(cls: type[BaseConnector]) -> str:
    return f"{cls.name} (`{cls.id}`)"


def _row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def render(connectors: Mapping[str, type[BaseConnector]] | None = None) -> str:
    """The matrix as Markdown (two tables), platforms by id, entities in dependency order."""
    if connectors is None:
        from . import registry

        connectors = registry.connectors()
    platforms = [connectors[pid] for pid in sorted(connectors)]
    lines = [
        "Generated from each connector's `capabilities`, `rate_limits` and `concurrent_limit` by",
        f"`{WRITE_HINT}`; a test fails when this copy is stale.",
        "",
        "**Per entity.** Create and update: the entity syncs outward. Void / delete: how the platform takes a",
        "document back (`capabilities.void` / `.delete`). Inbound: changes made on the platform are polled",
        "(`capabilities.inbound`). Created there: a record made on the platform comes in as a local one where the",
        "connection's sync table takes that creation in (`capabilities.inbound_creates`; elsewhere it is logged and",
        "left out). Drafts: a connection may send local drafts as drafts there, finalised when they become final",
        "(`capabilities.drafts`; elsewhere drafts wait).",
        "",
        _row(["Platform", "Entity", *(op.capitalize() for op in OPERATIONS), "Inbound (polling)", "Created there",
              "Drafts"]),
        _row(["---"] * (len(OPERATIONS) + 5)),
    ]
    for cls in platforms:
        caps = cls.capabilities
        for entity in Entity.EVERY:
            ops = operations(cls, entity)
            lines.append(_row([_label(cls), entity, *(YES if ops[op] else NO for op in OPERATIONS),
                               YES if entity in caps.inbound else NO, YES if entity in caps.inbound_creates else NO,
                               YES if entity in caps.drafts else NO]))
    lines += [
        "",
        "**Per platform.** Webhooks: the platform pushes signed change notifications. Deletions polled: polling",
        "reports documents deleted on the platform (`capabilities.inbound_deletes`; otherwise only",
        "reconciliation finds them). Idempotency keys: a create sent again with our key returns the first",
        "document (otherwise search-before-create alone prevents duplicates). Batch size: writes per request (1:",
        "no batch endpoint). Rate limits: per company, shared by every worker of a connection. In flight:",
        "concurrent requests per company. Bank feed: the platform's deposits and bank transactions can be read",
        "for bank-feed payment matching (`capabilities.bank_feed`; otherwise matching says there is none).",
        "Delivery: API calls, or import files (`delivery = \"file\"`: the platform has no API; documents go out in",
        "export batches of its own import files, see docs/operations.md, \"File-based delivery\").",
        "",
        _row(["Platform", "Webhooks", "Deletions polled", "Idempotency keys", "Batch size", "Rate limits",
              "In flight", "Bank feed", "Delivery"]),
        _row(["---"] * 9),
    ]
    for cls in platforms:
        caps = cls.capabilities
        deletes = caps.inbound_deletes and bool(caps.inbound)
        lines.append(_row([_label(cls), YES if caps.webhooks else NO, YES if deletes else NO,
                           YES if caps.idempotency_keys else NO,
                           cls.capabilities.batch_size,
                           rate_limits(cls.rate_limits), cls.concurrent_limit or "not limited",
                           YES if caps.bank_feed else NO,
                           "import files" if cls.delivery == "file" else "API"]))
    return "\n".join(lines) + "\n"


def checked_in(text: str) -> str:
    """The part of ``text`` between the markers (what ``render`` produced last time)."""
    try:
        head, rest = text.split(START, 1)
        body, _ = rest.split(END, 1)
    except ValueError:
        raise ValueError(f"the markers {START} / {END} are missing") from None
    return body.strip("\n") + "\n"


def replace(text: str, matrix: str) -> str:
    """``text`` with the part between the markers replaced by ``matrix``."""
    checked_in(text)  # both markers present
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{matrix.strip(chr(10))}\n{END}{tail}"


SETTINGS_START, SETTINGS_END = "<!-- settings:start -->", "<!-- settings:end -->"
DOCS = DOC.parent  # docs/connectors/<platform>.md


def _setting_type(setting: Setting) -> str:
    """How the connection form asks for a setting (``connectors.forms.setting_field`` builds the field)."""
    if setting.secret:
        return "secret text (never shown)"
    if setting.kind == "number":
        bounds = [f"at least {setting.min_value}" if setting.min_value is not None else "",
                  f"at most {setting.max_value}" if setting.max_value is not None else ""]
        return f"whole number ({', '.join(b for b in bounds if b)})" if any(bounds) else "whole number"
    if setting.kind == "choice":
        return "one of " + ", ".join(f"`{value}`" for value, _ in setting.choices)
    if setting.kind == "json":
        return "JSON list" if isinstance(setting.default, list) else "JSON object"
    return {"url": "http(s) address", "flag": "yes / no"}.get(setting.kind, "text")


def _setting_default(cls: type[BaseConnector], setting: Setting) -> str:
    default = cls.setting_default(setting)
    if default in ("", None, {}, []) or setting.secret:
        return "—"
    if isinstance(default, bool):
        return "yes" if default else "no"
    return f"`{json.dumps(default) if isinstance(default, (dict, list)) else default}`"


def settings_table(cls: type[BaseConnector]) -> str:
    """The platform's settings as the connection form asks for them (its ``settings_fields``)."""
    lines = ["The connection form's fields for this platform, generated from the connector's `settings_fields`. "
             "Empty means the default; keys a connection holds that are not listed here stay in the form's "
             "\"Other settings\" (JSON).", "",
             "| setting | field | type | required | default | what it is |", "|---|---|---|---|---|---|"]
    for setting in cls.settings_fields:
        lines.append(_row([f"`{setting.key}`", setting.label, _setting_type(setting),
                           "yes" if setting.required else "no", _setting_default(cls, setting),
                           setting.help.replace("|", "\\|")]))
    if not cls.settings_fields:
        lines.append("| — | — | — | — | — | — |")
    return "\n".join(lines) + "\n"


def with_settings(text: str, table: str) -> str:
    """A platform page with its settings table between the settings markers (appended when it has none)."""
    if SETTINGS_START not in text:
        return (f"{text.rstrip(chr(10))}\n\n## Settings in the connection form\n\n"
                f"{SETTINGS_START}\n{table}{SETTINGS_END}\n")
    head, rest = text.split(SETTINGS_START, 1)
    _, tail = rest.split(SETTINGS_END, 1)
    return f"{head}{SETTINGS_START}\n{table}{SETTINGS_END}{tail}"


def _settings() -> None:
    from django.conf import settings

    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        settings.configure()  # no ACCOUNTING_SYNC: the package's own connectors, no overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.matrix", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=f"examples:\n  python -m connectors.matrix\n  {WRITE_HINT}")
    parser.add_argument("--write", action="store_true", help="rewrite the tables in the docs file between the markers")
    parser.add_argument("--file", type=Path, default=DOC, help="the docs file (default: docs/connectors/README.md)")
    args = parser.parse_args(argv)
    _settings()
    matrix = render()
    if not args.write:
        sys.stdout.write(matrix)
        return 0
    if not args.file.is_file():
        parser.error(f"{args.file.name} not found: --write works in a source checkout (or give --file)")
    before = args.file.read_text(encoding="utf-8")
    after = replace(before, matrix)
    if after != before:
        args.file.write_text(after, encoding="utf-8")
    print(f"{args.file.name}: {'rewritten' if after != before else 'already current'}")
    if args.file == DOC:  # the platforms' own pages: their settings tables
        from . import registry

        for platform, cls in sorted(registry.connectors().items()):
            page = DOCS / f"{platform}.md"
            if page.is_file():
                text = page.read_text(encoding="utf-8")
                updated = with_settings(text, settings_table(cls))
                if updated != text:
                    page.write_text(updated, encoding="utf-8")
                    print(f"{page.name}: settings table rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

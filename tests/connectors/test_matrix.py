"""The capability matrix in docs/connectors/README.md is the one the connectors' declarations generate."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from dataclasses import replace

import pytest

from connectors import matrix, registry
from connectors.base import BaseConnector, Capabilities
from connectors.documents import Entity

REPO = Path(__file__).resolve().parents[2]


def test_the_checked_in_matrix_is_current():
    assert matrix.DOC == REPO / "docs" / "connectors" / "README.md"
    assert matrix.DOC.is_file(), "docs/connectors/README.md is missing (it holds the capability matrix)"
    checked_in = matrix.checked_in(matrix.DOC.read_text(encoding="utf-8"))
    assert checked_in == matrix.render(), (
        "the capability matrix in docs/connectors/README.md is stale: run `python -m connectors.matrix --write` "
        "and commit the result")


def test_every_registered_platform_and_entity_has_rows():
    text = matrix.render()
    for pid, cls in registry.connectors().items():
        label = f"| {cls.name} (`{pid}`) |"
        assert sum(line.startswith(label) for line in text.splitlines()) == len(Entity.EVERY) + 1


def test_declarations_become_cells():
    class Fake(BaseConnector):
        id, name = "fake", "Fake Books"
        capabilities = Capabilities(entities=frozenset({Entity.CUSTOMER, Entity.INVOICE}),
                                    void=frozenset({Entity.INVOICE}), batch_size=1,
                                    inbound=frozenset({Entity.INVOICE, Entity.PAYMENT}),
                                    inbound_creates=frozenset({Entity.PAYMENT}), webhooks=False)
        rate_limits = {"request": (100, 60.0), "day": (1000, 86400.0), "burst": (3, 2.5)}

    text = matrix.render({"fake": Fake})
    assert "| Fake Books (`fake`) | customer | yes | yes | — | — | — |" in text
    assert "| Fake Books (`fake`) | invoice | yes | yes | yes | — | yes | — | — |" in text
    assert "| Fake Books (`fake`) | payment | — | — | — | — | yes | yes | — |" in text
    assert ("| Fake Books (`fake`) | — | yes | yes | 1 | request: 100 per minute; day: 1,000 per day; "
            "burst: 3 per 2.5 s | not limited |") in text
    blind = type("Blind", (Fake,), {"capabilities": replace(Fake.capabilities, inbound_deletes=False)})
    assert "| Fake Books (`fake`) | — | — | yes | 1 |" in matrix.render({"fake": blind})


def test_write_replaces_only_between_the_markers(tmp_path):
    doc = tmp_path / "README.md"
    doc.write_text(f"# Title\n\nBefore.\n\n{matrix.START}\nold table\n{matrix.END}\n\nAfter.\n", encoding="utf-8")
    assert matrix.main(["--write", "--file", str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nBefore.\n\n") and text.endswith(f"{matrix.END}\n\nAfter.\n")
    assert matrix.checked_in(text) == matrix.render() and "old table" not in text
    assert matrix.replace(text, matrix.render()) == text  # idempotent
    with pytest.raises(ValueError, match="markers"):
        matrix.checked_in("no markers here")


def test_the_command_runs_without_a_django_project():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run([sys.executable, "-m", "connectors.matrix"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "| Platform | Entity | Create | Update | Void | Delete | Inbound (polling) |" in out.stdout
    assert "(`qbo`)" in out.stdout and "(`xero`)" in out.stdout


def test_each_platform_page_lists_the_settings_its_form_asks_for():
    from connectors import registry

    for platform, cls in registry.connectors().items():
        page = matrix.DOCS / f"{platform}.md"
        text = page.read_text(encoding="utf-8")
        assert matrix.with_settings(text, matrix.settings_table(cls)) == text, \
            f"{page.name}: the settings table is stale; run `{matrix.WRITE_HINT}`"
        for setting in cls.settings_fields:
            assert f"| `{setting.key}` | {setting.label} |" in text


def test_the_settings_table_says_how_the_form_asks():
    table = matrix.settings_table(registry.get("qbo"))
    assert "| `timeout` | Timeout (seconds) | whole number (at least 1, at most 600) | no | `30` |" in table
    assert "| `api_base` | API address | http(s) address | no | `https://quickbooks.api.intuit.com/v3` |" in table
    table = matrix.settings_table(registry.get("xero"))
    assert ("| `invoice_status` | Invoice status | one of `AUTHORISED`, `SUBMITTED`, `DRAFT` | no | `AUTHORISED` |"
            in table)
    assert "| `rate_source` | Exchange rates | one of `document`, `table`, `platform` | no | `document` |" in table
    assert matrix.with_settings("# Page\n", table).endswith(f"{matrix.SETTINGS_END}\n")

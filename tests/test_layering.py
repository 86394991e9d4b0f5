"""The import rules of docs/architecture.md, checked with import-linter on every run.

- The apps import one way: ``accounting_sync`` -> ``mappings`` -> ``connectors``, with ``ledger`` below all.
- Each platform folder under ``connectors/`` stands alone: no platform imports another (shared plumbing lives in
  ``connectors`` itself, ``connectors.sandboxkit`` and ``connectors.filekit``). A new platform folder is covered
  without editing this file.
"""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = {"sandboxkit", "filekit", "migrations"}


def platform_packages() -> list[str]:
    return sorted(f"connectors.{p.name}" for p in (ROOT / "connectors").iterdir()
                  if (p / "__init__.py").exists() and p.name not in SHARED)


def contracts() -> str:
    platforms = "\n".join(f"    {name}" for name in platform_packages())
    return f"""[importlinter]
root_packages =
    accounting_sync
    mappings
    connectors
    ledger
include_external_packages = False

[importlinter:contract:apps]
name = The apps import one way: accounting_sync -> mappings -> connectors; ledger below all
type = layers
layers =
    accounting_sync
    mappings
    connectors
    ledger

[importlinter:contract:platforms]
name = Each platform folder stands alone: no platform imports another
type = independence
modules =
{platforms}
"""


def test_there_are_platform_folders_to_check():
    assert {"connectors.qbo", "connectors.xero"} <= set(platform_packages())


def test_imports_keep_the_layers(tmp_path, monkeypatch, capsys):
    cli = pytest.importorskip("importlinter.cli")
    config = tmp_path / "importlinter.ini"
    config.write_text(contracts())
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    code = cli.lint_imports(config_filename=str(config), no_cache=True)
    assert code == 0, capsys.readouterr().out

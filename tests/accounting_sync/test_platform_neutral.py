"""The shared apps name no platform: what a platform is and does lives in its connector's folder (issue 11).

Every registered platform's id and name, and the brand words of the platforms we ship, are looked for as whole
words in the code of ``accounting_sync`` and ``mappings`` (migrations aside: they record history).
"""
import re
from pathlib import Path

import pytest

from connectors import registry

ROOT = Path(__file__).resolve().parents[2]
SHARED_APPS = ("accounting_sync", "mappings")
#: Brand words that are not a registered platform's id or full name.
BRAND_WORDS = ("quickbooks", "intuit", "zoho")


def code_files():
    for app in SHARED_APPS:
        for path in sorted((ROOT / app).rglob("*")):
            if path.suffix in (".py", ".html", ".txt", ".js", ".css") and "migrations" not in path.parts:
                yield path


def test_shared_apps_name_no_platform():
    words = {w.lower() for pid, cls in registry.connectors().items() for w in (pid, cls.name)} | set(BRAND_WORDS)
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(words)) + r")\b", re.IGNORECASE)
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in code_files() for n, line in enumerate(path.read_text().splitlines(), 1)
             if pattern.search(line)]
    assert not found, "platform knowledge outside its connector's folder:\n" + "\n".join(found)


@pytest.mark.parametrize("app", SHARED_APPS)
def test_the_check_reads_code(app):
    assert any(path.parent.name == app for path in code_files())

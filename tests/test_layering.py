"""The import rules of docs/architecture.md, checked on every run.

- The contracts in pyproject.toml (``[tool.importlinter]``, also run by ``make lint``) hold: the apps import one
  way (``accounting_sync`` -> ``mappings`` -> ``connectors``, ``ledger`` below all), ``accounting_sync``'s own
  layers (entry points, staff, features and inbound, policies, core), and each platform folder stands alone. The
  platform contract lists every platform folder: a new one missing from it fails here.
- No import cycle among our modules, counting the imports inside functions (which import-linter does too, but a
  cycle inside one layer is not a layering violation, so it is checked here on its own).
"""
import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("accounting_sync", "mappings", "connectors", "ledger")
SHARED = {"sandboxkit", "filekit", "migrations"}


def platform_packages() -> list[str]:
    return sorted(f"connectors.{p.name}" for p in (ROOT / "connectors").iterdir()
                  if (p / "__init__.py").exists() and p.name not in SHARED)


def importlinter_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


# -- import-linter ---------------------------------------------------------------------------------------------------
def test_there_are_platform_folders_to_check():
    assert {"connectors.qbo", "connectors.xero"} <= set(platform_packages())


def test_the_platform_contract_names_every_platform_folder():
    contract = next(c for c in importlinter_config()["contracts"] if c["id"] == "platforms")
    assert sorted(contract["modules"]) == platform_packages()


def test_imports_keep_the_layers(monkeypatch, capsys):
    cli = pytest.importorskip("importlinter.cli")
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    code = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    assert code == 0, capsys.readouterr().out


# -- cycles ----------------------------------------------------------------------------------------------------------
def modules(root: Path, packages=APPS) -> dict[str, Path]:
    """Every module of ours (migrations aside: they import nothing of ours that imports them), by dotted name."""
    found = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(name: str, path: Path, node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> set[str]:
    """The modules of ours ``node`` imports (the nearest known module for ``package.name``)."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            package = package[:len(package) - node.level + 1]
            base = ".".join(package + ([node.module] if node.module else []))
        targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    found = set()
    for target in targets:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)
    return found


def import_graph(known: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports, anywhere in it (inside functions and ``if`` blocks too)."""
    graph = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[name] = set().union(*(_imported(name, path, node, known) for node in ast.walk(tree)
                                    if isinstance(node, (ast.Import, ast.ImportFrom))))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_cycle_check_sees_imports_inside_functions(tmp_path):
    package = tmp_path / "accounting_sync"
    (package / "core").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "core" / "__init__.py").write_text("")
    (package / "core" / "engine.py").write_text("from . import outbox\n")
    (package / "core" / "outbox.py").write_text("def later():\n    from .engine import run\n")
    (package / "staff.py").write_text("from accounting_sync.core import engine\n")
    graph = import_graph(modules(tmp_path, packages=("accounting_sync",)))
    assert graph["accounting_sync.staff"] == {"accounting_sync.core.engine"}
    assert cycles(graph) == [{"accounting_sync.core.engine", "accounting_sync.core.outbox"}]


def test_no_import_cycle_among_our_modules():
    found = [sorted(c) for c in cycles(import_graph(modules(ROOT)))]
    assert not found, "import cycles (counting imports inside functions):\n" + "\n".join(map(str, found))

"""Every platform is complete: its connector (registered), its sandbox, its contract subclass and its docs.

A platform is any id the registry knows or any ``connectors/<id>/`` folder with a ``connector.py``; each one
needs ``connectors/<id>/connector.py`` registering its class, a ``sandbox_class`` naming a class whose
``platform`` is the id, the contract of its delivery family in ``tests/connectors/<id>/test_contract.py`` (a
``ConnectorContract`` subclass for an API platform, a ``FileContract`` one for a file-delivery platform),
and ``docs/connectors/<id>.md`` plus ``docs/sandbox-<id>.md``. See docs/connectors/README.md, "Adding a platform".
"""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from connectors import registry
from tests.connectors.contract import ConnectorContract
from tests.connectors.filecontract import FileContract

REPO = Path(__file__).resolve().parents[2]
FOLDERS = {p.parent.name for p in (REPO / "connectors").glob("*/connector.py")}
PLATFORMS = sorted(set(registry.connectors()) | FOLDERS)


def test_the_registry_knows_the_platforms():
    assert {"qbo", "xero"} <= set(PLATFORMS)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_connector_module_registers_its_class(platform):
    assert (REPO / "connectors" / platform / "connector.py").is_file(), f"connectors/{platform}/connector.py missing"
    module = importlib.import_module(f"connectors.{platform}.connector")
    assert platform in registry.connectors(), f"connectors/{platform}/connector.py registers no connector"
    cls = registry.get(platform)
    assert cls.id == platform and cls.name
    assert getattr(module, cls.__name__, None) is cls, f"{cls.__name__} is not the class in connectors.{platform}"
    assert cls.capabilities.entities, f"{platform} declares no entities in its capabilities"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_it_declares_its_sandbox(platform):
    path = getattr(registry.get(platform), "sandbox_class", "")
    assert path, f"{platform}'s connector declares no sandbox_class (the dotted path of its sandbox)"
    try:
        sandbox = import_string(path)
    except ImportError as exc:
        pytest.fail(f"{platform}'s sandbox_class {path} does not import: {exc}")
    assert inspect.isclass(sandbox), f"{path} is not a class"
    assert getattr(sandbox, "platform", None) == platform, f"{path}.platform is not {platform!r}"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_it_runs_the_contract(platform):
    path = REPO / "tests" / "connectors" / platform / "test_contract.py"
    assert path.is_file(), f"tests/connectors/{platform}/test_contract.py missing"
    module = importlib.import_module(f"tests.connectors.{platform}.test_contract")
    contract = FileContract if registry.get(platform).delivery == "file" else ConnectorContract
    found = [obj for obj in vars(module).values()
             if inspect.isclass(obj) and issubclass(obj, contract) and obj is not contract
             and obj.platform == platform]
    assert found, f"tests/connectors/{platform}/test_contract.py has no {contract.__name__} subclass for {platform!r}"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_it_is_documented(platform):
    for doc in (f"docs/connectors/{platform}.md", f"docs/sandbox-{platform}.md"):
        assert (REPO / doc).is_file(), f"{doc} missing"

"""The QBO sandbox's declarations against Intuit's own schemas, vendored in ``connectors/qbo/spec/``.

Every top-level property the sandbox accepts for an entity must be an element or attribute Finance.xsd declares
for that entity (its base types included); the schemas declare more than the sandbox accepts, never less. A
missing schema fails these tests: they never skip.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

import connectors.qbo
from connectors.qbo.sandbox import batch, schema

SPEC = Path(connectors.qbo.__file__).resolve().parent / "spec"
XS = "{http://www.w3.org/2001/XMLSchema}"


def root(name: str) -> ET.Element:
    path = SPEC / name
    assert path.is_file(), (f"{name} is missing from connectors/qbo/spec/: the sandbox checks need the vendored "
                            "schemas (restore the folder from version control)")
    return ET.parse(path).getroot()


@cache
def complex_types() -> dict[str, ET.Element]:
    found = {}
    for name in ("Finance.xsd", "IntuitBaseTypes.xsd", "IntuitNamesTypes.xsd", "IntuitRestServiceDef.xsd"):
        found.update({t.get("name"): t for t in root(name).iter(XS + "complexType") if t.get("name")})
    return found


def declared(type_name: str) -> set[str]:
    """Element and attribute names of a complex type, those of the type it extends included."""
    node = complex_types()[type_name]
    names: set[str] = set()
    extension = next(node.iter(XS + "extension"), None)
    if extension is not None and extension.get("base", "").split(":")[-1] in complex_types():
        names |= declared(extension.get("base").split(":")[-1])
    for element in node.iter(XS + "element"):
        names.add(element.get("name") or element.get("ref", "").split(":")[-1])
    names |= {attribute.get("name") for attribute in node.iter(XS + "attribute") if attribute.get("name")}
    return names - {""}


def enumeration(file: str, type_name: str) -> set[str]:
    node = next(t for t in root(file).iter(XS + "simpleType") if t.get("name") == type_name)
    return {value.get("value") for value in node.iter(XS + "enumeration")}


def test_the_schemas_ship_with_the_package_and_their_licence():
    for name in ("Finance.xsd", "IntuitBaseTypes.xsd", "IntuitNamesTypes.xsd", "IntuitRestServiceDef.xsd",
                 "LICENSE.txt", "README.md"):
        assert (SPEC / name).is_file(), f"connectors/qbo/spec/{name} is missing"
    assert "Apache License" in (SPEC / "LICENSE.txt").read_text(encoding="utf-8")


def test_every_entity_the_sandbox_serves_is_a_finance_type():
    assert set(schema.ENTITIES) <= set(complex_types())
    assert {"Id", "SyncToken", "DocNumber", "CustomerRef", "Line"} <= declared("Invoice")  # base types followed
    assert "NotAField" not in declared("Invoice")


@pytest.mark.parametrize("entity", sorted(schema.ALLOWED_FIELDS))
def test_accepted_properties_are_declared_by_finance_xsd(entity):
    undeclared = schema.ALLOWED_FIELDS[entity] - declared(entity)
    assert not undeclared, f"the sandbox accepts {sorted(undeclared)} on {entity}; Finance.xsd does not declare them"
    assert schema.COMPUTED[entity] <= schema.ALLOWED_FIELDS[entity]


def test_line_detail_types_are_the_schemas():
    assert set(schema.LINE_TYPES) <= enumeration("Finance.xsd", "LineDetailTypeEnum")


def test_batch_items_follow_the_rest_service_definition():
    attributes = {a.get("name") for a in complex_types()["BatchItemRequest"].iter(XS + "attribute")}
    assert set(batch._ATTRIBUTES) == attributes
    assert set(batch._OPERATIONS) <= enumeration("IntuitRestServiceDef.xsd", "OperationEnum")

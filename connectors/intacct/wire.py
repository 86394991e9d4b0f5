"""Sage Intacct's XML gateway messages, built with the standard library's ElementTree and parsed with
defusedxml's (no DTDs, entities or external references: an answer, or a request reaching the sandbox, is
untrusted). Used by the connector's client and by the sandbox.

A request is ``<request><control>`` (sender id and password, ``controlid``, ``uniqueid``, ``dtdversion`` 3.0)
then ``<operation><authentication>`` (a ``<login>`` or a ``<sessionid>``) and ``<content>`` with one or more
``<function controlid="...">``. Values are written from plain Python: a dict is a set of child elements (a key
``@name`` an attribute), a list repeats its element, a ``Decimal`` keeps its digits, a ``date`` is ISO
(``MM/DD/YYYY`` is what Intacct's UI shows; the 3.0 objects take ISO too), None is left out. Money never passes
through float: a float is refused.
"""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET  # nosec B405: building only; parsing is defusedxml's (parse)
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from defusedxml.ElementTree import fromstring

DTD_VERSION = "3.0"
GATEWAY_PATH = "ia/xml/xmlgw.phtml"


def text(value: Any) -> str:
    if isinstance(value, float):
        raise TypeError(f"a float ({value!r}) in an Intacct request: send a Decimal")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def build(tag: str, value: Any) -> ET.Element:
    """One element from a plain value (see the module docstring)."""
    element = ET.Element(tag)
    fill(element, value)
    return element


def fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, ET.Element):
        element.append(value)
    elif isinstance(value, dict):
        for key, child in value.items():
            if child is None:
                continue
            if key.startswith("@"):
                element.set(key[1:], text(child))
            elif isinstance(child, list):
                for each in child:
                    element.append(build(key, each))
            else:
                element.append(build(key, child))
    elif value is not None:
        element.text = text(value)


def split_date(day: dt.date | None) -> dict | None:
    """A date as the legacy functions (``create_invoice``, ``create_arpayment``) take it."""
    return {"year": day.year, "month": f"{day.month:02d}", "day": f"{day.day:02d}"} if day else None


@dataclass(frozen=True)
class Function:
    """One ``<function>``: its control id and the call inside it (``create``, ``read``, ``create_invoice``...)."""

    controlid: str
    call: str
    body: Any

    def element(self) -> ET.Element:
        element = ET.Element("function", {"controlid": self.controlid})
        element.append(build(self.call, self.body))
        return element


def request(sender_id: str, sender_password: str, control_id: str, unique: bool, authentication: dict,
            functions: list[Function]) -> bytes:
    root = ET.Element("request")
    root.append(build("control", {"senderid": sender_id, "password": sender_password, "controlid": control_id,
                                  "uniqueid": unique, "dtdversion": DTD_VERSION, "includewhitespace": False}))
    operation = build("operation", {"authentication": authentication})
    content = ET.SubElement(operation, "content")
    for function in functions:
        content.append(function.element())
    root.append(operation)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def dump(element: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8")


def parse(raw: bytes) -> ET.Element:
    """The root element of an XML message; ``ValueError`` when it is not XML (or carries a DTD or entities)."""
    try:
        return fromstring(raw)
    except Exception as exc:  # ParseError, or defusedxml's refusals of DTDs and entities
        raise ValueError(f"not an XML message: {type(exc).__name__}: {exc}") from None


def record(element: ET.Element) -> dict:
    """An object as Intacct answers it (``<arinvoice><RECORDNO>7</RECORDNO>...``): leaf elements as text, nested
    ones as dicts, a repeated element as a list."""
    found: dict[str, Any] = {}
    for child in element:
        value: Any = record(child) if len(child) else (child.text or "").strip()
        if child.tag in found:
            previous = found[child.tag]
            found[child.tag] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            found[child.tag] = value
    return found


def child_text(element: ET.Element | None, path: str, default: str = "") -> str:
    found = element.find(path) if element is not None else None
    return (found.text or "").strip() if found is not None and found.text is not None else default


def as_list(value: Any) -> list:
    """A field that may hold one record or several (``record`` gives a dict for one): always a list."""
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]

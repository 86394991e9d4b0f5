"""XML-RPC with exact money, on the standard library's own marshaller and parser (``xmlrpc.client``).

Odoo's float fields travel as XML-RPC ``<double>``. Read with ``xmlrpc.client`` as it is, they would become
Python floats; here ``<double>`` is read as ``Decimal`` (digit for digit as sent) and a ``Decimal`` is written as
``<double>`` with its digits, so no amount passes through a float on either side. Everything else (structs,
arrays, ``<nil/>``, faults, method calls and responses) is the standard library's. Used by the connector's client
and by the sandbox; standard library only.
"""
from __future__ import annotations

import xmlrpc.client  # nosec B411: its marshaller only; XML is parsed with defusedxml's parser (loads)
from decimal import Decimal
from typing import Any

from defusedxml.xmlrpc import DefusedExpatParser


class Unmarshaller(xmlrpc.client.Unmarshaller):
    """``xmlrpc.client.Unmarshaller`` that reads ``<double>`` as ``Decimal``."""

    dispatch = dict(xmlrpc.client.Unmarshaller.dispatch)

    def end_double(self, data: str) -> None:
        self.append(Decimal(data.strip()))
        self._value = 0

    dispatch["double"] = end_double


class Marshaller(xmlrpc.client.Marshaller):
    """``xmlrpc.client.Marshaller`` that writes a ``Decimal`` as ``<double>`` (its exact digits) and refuses a
    float: money never passes through float here."""

    dispatch = dict(xmlrpc.client.Marshaller.dispatch)

    def dump_decimal(self, value: Decimal, write) -> None:
        write(f"<value><double>{format(value, 'f')}</double></value>\n")

    def dump_float(self, value: float, write) -> None:
        raise TypeError(f"a float ({value!r}) in an XML-RPC message: send a Decimal")

    dispatch[Decimal] = dump_decimal
    dispatch[float] = dump_float


def loads(data: bytes) -> tuple[tuple, str | None]:
    """``xmlrpc.client.loads`` with ``Decimal`` doubles: (params, method name); raises ``xmlrpc.client.Fault``."""
    unmarshaller = Unmarshaller(use_builtin_types=True)
    parser = DefusedExpatParser(unmarshaller)  # no DTDs, entities or external references: an answer is untrusted
    parser.feed(data)
    parser.close()
    return unmarshaller.close(), unmarshaller.getmethodname()


def dumps(params: tuple | xmlrpc.client.Fault, methodname: str | None = None, methodresponse: bool = False) -> bytes:
    """``xmlrpc.client.dumps`` with ``Decimal`` doubles (None allowed, as ``<nil/>``)."""
    if isinstance(params, xmlrpc.client.Fault):
        methodresponse = True
    body = Marshaller("utf-8", allow_none=True).dumps(params)
    head = "<?xml version='1.0'?>\n"
    if methodname:
        text = f"{head}<methodCall>\n<methodName>{methodname}</methodName>\n{body}</methodCall>\n"
    elif methodresponse:
        text = f"{head}<methodResponse>\n{body}</methodResponse>\n"
    else:
        text = body
    return text.encode("utf-8")


def fault(code: int, message: str) -> bytes:
    return dumps(xmlrpc.client.Fault(code, message))


def plain(value: Any) -> Any:
    """A value for ``dumps``: tuples as lists (Odoo's command tuples are arrays on the wire)."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value

"""What a platform's sandbox tests share: the sandbox fixtures, and a tiny API caller over loopback HTTP (the
platform's token header and the query parameters its docs put on every call, a JSON body, and the answer parsed
with exact Decimals)."""
import json
from decimal import Decimal

import pytest
import requests
from django.utils.module_loading import import_string


def sandbox_fixtures(sandbox_class: str, session_name: str, test_name: str):
    """Two fixtures for a conftest: the sandbox (a dotted path) on a free loopback port once per session
    (``session_name``), and the same sandbox reset before each test, its faults cleared after (``test_name``)."""
    @pytest.fixture(scope="session", name=session_name)
    def session():
        sandbox = import_string(sandbox_class)(port=0).start()
        yield sandbox
        sandbox.stop()

    @pytest.fixture(name=test_name)
    def each(request):
        sandbox = request.getfixturevalue(session_name)
        sandbox.reset()
        yield sandbox
        sandbox.faults.clear()
    return session, each


class WireClient:
    """Calls ``sb.api_base``/path with ``Authorization: <scheme> <token>`` and ``params`` on every call
    (``defaults=False`` leaves them off). ``response.body`` is the JSON answer with Decimals, or None."""

    def __init__(self, sb, scheme="Bearer", params=None, token=None):
        self.sb, self.scheme, self.params = sb, scheme, dict(params or {})
        self.token = token or sb.issue_tokens()["access_token"]

    def call(self, method, path, params=None, body=None, defaults=True, token=None):
        query = {**(self.params if defaults else {}), **(params or {})}
        headers = {"Authorization": f"{self.scheme} {token or self.token}"}
        data = json.dumps(body, default=str) if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        response = requests.request(method, f"{self.sb.api_base}/{path}", params=query, data=data, headers=headers,
                                    timeout=5)
        response.body = json.loads(response.content, parse_float=Decimal) if response.content else None
        return response


def inline_schema(spec: dict, ref: str, fix=None) -> dict:
    """The OpenAPI schema behind ``ref`` with every ``$ref`` inlined (a ref names its schema by its last path part,
    under ``components/schemas``). ``fix(schema)`` may adjust each object schema in place: a partial copy's known
    slips, for instance."""
    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
            out = {k: resolve(v) for k, v in node.items()}
            if fix is not None:
                fix(out)
            return out
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node
    return resolve({"$ref": ref})

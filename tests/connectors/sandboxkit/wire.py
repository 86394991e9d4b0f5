"""A tiny API caller for a platform's sandbox tests over loopback HTTP: the platform's token header and the
query parameters its docs put on every call, a JSON body, and the answer parsed with exact Decimals."""
import json
from decimal import Decimal

import requests


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

"""The NetSuite REST sandbox on loopback: one per test session (``netsuite_sandbox``), reset for each test
(``nsandbox``), and ``ns``: a plain ``requests`` caller that signs every request with TBA."""
import json

import pytest
import requests

from connectors.netsuite import tba
from tests.connectors.sandboxkit.wire import sandbox_fixtures

netsuite_sandbox, nsandbox = sandbox_fixtures("connectors.netsuite.sandbox.NetSuiteSandbox", "netsuite_sandbox",
                                              "nsandbox")


class NetSuite:
    """Calls as NetSuite's help shows them: record/v1 paths, JSON bodies, TBA ``Authorization``."""

    def __init__(self, sb, bearer=None):
        self.sb, self.bearer = sb, bearer
        self.consumer, (self.token, self.secret) = sb.consumer, next(iter(sb.tokens.items()))

    def call(self, method, path, body=None, params=None, headers=None):
        url = self.sb.base_url + "/services/rest/" + path.lstrip("/")
        prepared = requests.Request(method, url, params=params).prepare()
        auth = (f"Bearer {self.bearer}" if self.bearer else
                tba.authorization(method, prepared.url, self.sb.account_id, self.consumer[0], self.consumer[1],
                                  self.token, self.secret, timestamp=int(self.sb.clock())))
        head = {"Authorization": auth, "Content-Type": "application/json", **(headers or {})}
        return requests.request(method, prepared.url, data=None if body is None else json.dumps(body),
                                headers=head, timeout=10)

    def create(self, kind, body, **headers):
        response = self.call("POST", f"record/v1/{kind}", body, headers=headers)
        assert response.status_code == 204, response.text
        return response.headers["Location"].rsplit("/", 1)[1]

    def get(self, kind, rid, expand=True):
        response = self.call("GET", f"record/v1/{kind}/{rid}",
                             params={"expandSubResources": "true"} if expand else None)
        assert response.status_code == 200, response.text
        return response.json()

    def suiteql(self, q, limit=1000, offset=0):
        return self.call("POST", "query/v1/suiteql", {"q": q}, params={"limit": limit, "offset": offset},
                         headers={"Prefer": "transient"})


@pytest.fixture
def ns(nsandbox):
    return NetSuite(nsandbox)

"""The NetSuite sandbox checked with an independent client: the PyPI package ``netsuite`` (jmagnusson), whose REST
API client signs with authlib's OAuth1 (HMAC-SHA256, ``realm`` = account) over httpx. It creates an invoice
(204 + Location), reads it back, and pages SuiteQL, against the sandbox over loopback HTTP. Its only change here
is the host: it builds ``https://<account>.suitetalk.api.netsuite.com`` URLs, the test points them at the
sandbox."""
import asyncio

import pytest

netsuite = pytest.importorskip("netsuite")
from netsuite.config import Config, TokenAuth  # noqa: E402
from netsuite.exceptions import NetsuiteAPIRequestError  # noqa: E402
from netsuite.rest_api import NetSuiteRestApi  # noqa: E402


class LoopbackRestApi(NetSuiteRestApi):
    def __init__(self, base_url, config):
        super().__init__(config)
        self.base_url = base_url

    def _make_url(self, subpath):
        return f"{self.base_url}/services/rest{subpath}"


def client(sb, token_secret=None):
    token_id, secret = next(iter(sb.tokens.items()))
    auth = TokenAuth(consumer_key=sb.consumer[0], consumer_secret=sb.consumer[1], token_id=token_id,
                     token_secret=token_secret or secret)
    return LoopbackRestApi(sb.base_url, Config(account=sb.account_id, auth=auth))


def test_the_netsuite_package_creates_and_reads_an_invoice(nsandbox):
    api = client(nsandbox)

    async def run():
        raw = await api.request("POST", "/record/v1/customer", json={"companyName": "Independent Ltd"})
        assert raw.status_code == 204
        cust = raw.headers["Location"].rsplit("/", 1)[1]
        raw = await api.request("POST", "/record/v1/invoice", json={
            "entity": {"id": cust}, "tranId": "IND-1", "externalId": "ind-1",
            "item": {"items": [{"item": {"id": "202"}, "quantity": 3, "rate": 25}]}})
        assert raw.status_code == 204, raw.text
        inv = raw.headers["Location"].rsplit("/", 1)[1]
        got = await api.get(f"/record/v1/invoice/{inv}", params={"expandSubResources": "true"})
        by_eid = await api.get("/record/v1/invoice/eid:ind-1")
        rows = await api.suiteql("SELECT id, tranid FROM transaction WHERE type = 'CustInvc'", limit=5)
        return cust, inv, got, by_eid, rows

    cust, inv, got, by_eid, rows = asyncio.run(run())
    assert got["tranId"] == "IND-1" and got["entity"]["id"] == cust
    assert got["total"] == 75 and got["item"]["items"][0]["item"]["refName"] == "Widget"
    assert by_eid["id"] == inv
    assert rows["items"][0]["id"] == inv and rows["hasMore"] is False


def test_the_netsuite_package_sees_a_bad_token_secret_refused(nsandbox):
    api = client(nsandbox, token_secret="not-the-secret")
    with pytest.raises(NetsuiteAPIRequestError) as caught:
        asyncio.run(api.get("/record/v1/account/54"))
    assert caught.value.status_code == 401
    assert "INVALID_LOGIN" in caught.value.response_text

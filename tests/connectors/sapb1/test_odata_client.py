"""An independent OData v4 reader against the Service Layer sandbox: plain ``requests`` and the OData v4 JSON
format rules alone (``value``, ``@odata.context``, ``Prefer: odata.maxpagesize``, ``@odata.nextLink`` resolved
against the service root, ``$filter`` / ``$select`` / ``$orderby``), none of our client's code. What the connector
wrote is read back this way, page by page: the sandbox speaks OData as the Service Layer does, not just as our
client expects. (SAP's ``pyodata`` reads OData V2 only, so it cannot read a ``/b1s/v2`` service: see
docs/sandbox-sapb1.md.)"""
import uuid
from decimal import Decimal
from urllib.parse import urljoin

import requests

from connectors.sapb1.connector import ServiceLayerConnector
from connectors.sapb1.sandbox import COMPANY_DB, PASSWORD, USER
from tests.connectors.contract import customer, invoice
from tests.connectors.sapb1.test_connector import connect, mapping


def odata_session(root: str) -> requests.Session:
    http = requests.Session()
    answer = http.post(f"{root}/Login", json={"CompanyDB": COMPANY_DB, "UserName": USER, "Password": PASSWORD},
                       timeout=3)
    assert answer.status_code == 200 and http.cookies.get("B1SESSION")
    return http


def read_all(http: requests.Session, root: str, entity_set: str, page: int, **options) -> tuple[list, int]:
    """Every entity of ``entity_set`` and how many pages it took, following ``@odata.nextLink`` (OData v4 JSON
    format, section 4.5.5: a relative URL is relative to the service root here)."""
    url, params, rows, pages = f"{root}/{entity_set}", {f"${k}": v for k, v in options.items()}, [], 0
    while url:
        answer = http.get(url, params=params, headers={"Prefer": f"odata.maxpagesize={page}",
                                                       "Accept": "application/json"}, timeout=3)
        assert answer.status_code == 200, answer.text
        body = answer.json(parse_float=Decimal)
        assert body["@odata.context"].endswith(f"$metadata#{entity_set}")
        assert len(body["value"]) <= page and answer.headers.get("Preference-Applied") == f"odata.maxpagesize={page}"
        rows += body["value"]
        pages += 1
        link = body.get("@odata.nextLink")
        url, params = (urljoin(root + "/", link), None) if link else (None, None)
    return rows, pages


def test_what_the_connector_wrote_is_read_back_by_a_plain_odata_reader_page_by_page(slsandbox):
    conn = connect(slsandbox)
    cust = customer()
    made = conn.create(cust, mapping(conn), "c")
    tag = uuid.uuid4().hex[:6]
    for n in range(5):
        doc = invoice(cust.key, f"OD-{tag}-{n}", (f"{10 + n}.00",))
        conn.create(doc, mapping(conn, {cust.key: made.remote_id}), f"i{n}")
    root = ServiceLayerConnector.sandbox_settings(slsandbox.base_url)["api_base"]
    http = odata_session(root)
    rows, pages = read_all(http, root, "Invoices", 2, filter=f"CardCode eq '{made.remote_id}'",
                           select="DocEntry,NumAtCard,DocTotal", orderby="DocEntry")
    assert pages == 3
    assert [r["NumAtCard"] for r in rows] == [f"OD-{tag}-{n}" for n in range(5)]
    assert [r["DocTotal"] for r in rows] == [Decimal(f"{10 + n}.00") for n in range(5)]
    assert all(set(r) == {"DocEntry", "NumAtCard", "DocTotal"} for r in rows)
    one = http.get(f"{root}/Invoices({rows[0]['DocEntry']})", timeout=3).json()
    assert one["@odata.context"].endswith("$metadata#Invoices/$entity") and one["NumAtCard"] == f"OD-{tag}-0"
    partners, _ = read_all(http, root, "BusinessPartners", 50, filter=f"CardCode eq '{made.remote_id}'")
    assert [p["CardName"] for p in partners] == [cust.name]
    assert http.post(f"{root}/Logout", timeout=3).status_code == 204
    assert http.get(f"{root}/Invoices", timeout=3).status_code == 401

"""The REST API (issue 17, item 5): every endpoint needs its permission (403 otherwise, for a staff user without
permissions too), token and session authentication, filters and pages, the actions, mapping CRUD with field
errors, and an OpenAPI schema that is valid and documents every endpoint."""
from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, reverse
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token

from accounting_sync import urls as app_urls
from accounting_sync.audit.models import AuditRecord
from accounting_sync.models import EntryStatus, OutboxEntry
from accounting_sync.permissions import (ADD_MAPPINGS, CONNECT, DELETE_MAPPINGS, EDIT_MAPPINGS, EXPORT, RECONCILE,
                                         SYNC, VIEW_AUDIT, VIEW_DASHBOARD, VIEW_MAPPINGS)
from accounting_sync.reconcile.models import ReconciliationRun
from connectors.models import ConnectionStatus
from mappings.models import Mapping, MappingKind, Scope
from tests.accounting_sync.test_permissions import ALL, staff, world  # noqa: F401 - the shared world fixture
from tests.conftest import account_id

pytestmark = pytest.mark.django_db

API = "/accounting-sync/api"
DASHBOARD = (VIEW_DASHBOARD,)
READ_RECONCILIATION = (VIEW_DASHBOARD, RECONCILE)
READ_MAPPINGS = (VIEW_MAPPINGS, EDIT_MAPPINGS)

#: (method, path, the permissions any one of which allows it, body). Order matters where an action changes the
#: world: deleting the mapping and disconnecting come last.
ENDPOINTS = [
    ("get", "/status/", DASHBOARD, None),
    ("get", "/attention/", DASHBOARD, None),
    ("get", "/metrics/", DASHBOARD, None),
    ("get", "/connections/", DASHBOARD, None),
    ("get", "/connections/{conn}/", DASHBOARD, None),
    ("post", "/connections/{conn}/sync/", (SYNC,), {}),
    ("post", "/connections/{conn}/retry/", (SYNC,), {}),
    ("post", "/connections/{conn}/resync/", (SYNC,), {"entities": ["invoice"]}),
    ("post", "/connections/{files}/export/", (EXPORT,), {}),
    ("post", "/connections/{conn}/reconcile/", (RECONCILE,), {"kind": "full"}),
    ("get", "/connections/{conn}/triggers/", DASHBOARD, None),
    ("put", "/connections/{conn}/triggers/", (CONNECT,), [{"entity": "payment", "kind": "manual"}]),
    ("get", "/outbox/", DASHBOARD, None),
    ("get", "/outbox/{broken}/", DASHBOARD, None),
    ("post", "/outbox/{broken}/retry/", (SYNC,), {}),
    ("get", "/sync-logs/", DASHBOARD, None),
    ("get", "/sync-logs/{log}/", DASHBOARD, None),
    ("get", "/mappings/", READ_MAPPINGS, None),
    ("get", "/mappings/{mapping}/", READ_MAPPINGS, None),
    ("post", "/mappings/", (ADD_MAPPINGS,), "new_rule"),
    ("patch", "/mappings/{mapping}/", (EDIT_MAPPINGS,), {"remote_name": "Renamed here"}),
    ("get", "/reconciliation-runs/", READ_RECONCILIATION, None),
    ("get", "/reconciliation-runs/{run}/", READ_RECONCILIATION, None),
    ("get", "/variances/", READ_RECONCILIATION, None),
    ("get", "/variances/{variance}/", READ_RECONCILIATION, None),
    ("get", "/audit-records/", (VIEW_AUDIT,), None),
    ("get", "/audit-records/{audit}/", (VIEW_AUDIT,), None),
    ("get", "/schema/", ALL, None),
    ("delete", "/mappings/{mapping}/", (DELETE_MAPPINGS,), None),
    ("post", "/connections/{conn}/disconnect/", (CONNECT,), {}),
]


def new_rule(world) -> dict:
    """A valid rule the world's connection does not have yet: an item-category income rule."""
    return {"connection": world["conn"].pk, "kind": MappingKind.INCOME_ACCOUNT, "scope": Scope.CATEGORY,
            "local_value": "Consultations", "remote_id": world["sales"]}


def call(client, world, method: str, path: str, body, **headers):
    url = API + path.format(**{k: getattr(v, "pk", v) for k, v in world.items()})
    if body == "new_rule":
        body = new_rule(world)
    if method == "get":
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, body, content_type="application/json", **headers)


@pytest.fixture
def api_world(world, sandbox):
    return {**world, "sales": account_id(sandbox, "Sales")}


@pytest.mark.parametrize("method, path, perms, body", ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS])
def test_staff_without_permissions_get_403_from_every_endpoint(client, api_world, method, path, perms, body):
    client.force_login(staff())
    assert call(client, api_world, method, path, body).status_code == 403
    client.logout()
    assert call(client, api_world, method, path, body).status_code in (401, 403)  # and so does nobody


@pytest.mark.parametrize("perm", ALL)
def test_each_permission_allows_exactly_its_endpoints(client, api_world, perm):
    client.force_login(staff(perm))
    for method, path, perms, body in ENDPOINTS:
        response = call(client, api_world, method, path, body)
        if perm in perms:
            assert response.status_code < 300, f"{perm}: {method} {path} refused: {response.content[:300]}"
        else:
            assert response.status_code == 403, f"{perm}: {method} {path} allowed ({response.status_code})"


def test_token_authentication(client, api_world):
    user = staff(VIEW_DASHBOARD)
    token = Token.objects.create(user=user)
    answer = client.get(f"{API}/connections/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert answer.status_code == 200 and answer.json()["count"] == 2
    assert client.get(f"{API}/connections/", HTTP_AUTHORIZATION="Token not-a-token").status_code in (401, 403)
    assert client.get(f"{API}/audit-records/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 403


def test_no_secret_in_a_connection(client, api_world):
    client.force_login(staff(VIEW_DASHBOARD))
    conn = api_world["conn"]
    data = client.get(f"{API}/connections/{conn.pk}/").json()
    text = str(data)
    assert conn.access_token not in text and conn.refresh_token not in text
    assert not {"access_token", "refresh_token", "client_secret", "settings"} & set(data)
    waiting = OutboxEntry.objects.filter(connection=conn, status=EntryStatus.NEEDS_ATTENTION).count()
    assert data["needs_attention"] == waiting >= 1 and data["platform"] == conn.platform


def test_outbox_filters_and_pages(client, api_world):
    client.force_login(staff(VIEW_DASHBOARD))
    conn = api_world["conn"]
    attention = client.get(f"{API}/outbox/", {"status": "needs_attention", "connection": conn.pk}).json()
    assert {e["id"] for e in attention["results"]} == set(OutboxEntry.objects.filter(
        connection=conn, status=EntryStatus.NEEDS_ATTENTION).values_list("pk", flat=True))
    everything = OutboxEntry.objects.count()
    first = client.get(f"{API}/outbox/", {"page_size": 2}).json()
    assert first["count"] == everything and len(first["results"]) == 2 and first["next"]
    assert client.get(f"{API}/outbox/", {"connection": "x"}).status_code == 400
    invoices = client.get(f"{API}/outbox/", {"entity": "invoice", "connection": conn.pk}).json()["results"]
    assert invoices and {e["entity"] for e in invoices} == {"invoice"}
    logs = client.get(f"{API}/sync-logs/", {"connection": conn.pk, "outcome": "success"}).json()["results"]
    assert logs and {entry["outcome"] for entry in logs} == {"success"}


def test_actions_do_their_work_and_are_audited(client, api_world):
    user = staff(SYNC, RECONCILE, CONNECT)
    client.force_login(user)
    conn, broken = api_world["conn"], api_world["broken"]
    retried = client.post(f"{API}/outbox/{broken.pk}/retry/").json()
    assert retried["status"] == EntryStatus.PENDING and retried["attempts"] == 0
    queued = client.post(f"{API}/connections/{conn.pk}/resync/", {"entities": ["invoice"], "force": True},
                         content_type="application/json").json()
    assert queued == {"queued": OutboxEntry.objects.filter(connection=conn, entity="invoice").count()}
    assert client.post(f"{API}/connections/{conn.pk}/resync/", {"entities": ["nonsense"]},
                       content_type="application/json").status_code == 400
    run = client.post(f"{API}/connections/{conn.pk}/reconcile/", {"kind": "full"},
                      content_type="application/json").json()
    assert ReconciliationRun.objects.get(pk=run["id"]).connection == conn
    gone = client.post(f"{API}/connections/{conn.pk}/disconnect/").json()
    assert gone["status"] == ConnectionStatus.NEEDS_REAUTH
    conn.refresh_from_db()
    assert not conn.access_token and not conn.refresh_token
    actors = set(AuditRecord.objects.filter(operation__in=["retry", "resync", "reconcile", "disconnect"])
                 .values_list("actor", flat=True))
    assert actors == {f"{user.username} (api)"}


def test_export_for_manual_entry(client, api_world):
    client.force_login(staff(EXPORT))
    made = client.post(f"{API}/connections/{api_world['files'].pk}/export/").json()
    assert made["batch"]["number"] == 2 and made["batch"]["documents"] >= 1
    assert client.post(f"{API}/connections/{api_world['files'].pk}/export/").json()["batch"] is None
    assert client.post(f"{API}/connections/{api_world['conn'].pk}/export/").status_code == 400  # an API platform


def test_mapping_crud_and_field_errors(client, api_world):
    client.force_login(staff(VIEW_MAPPINGS, ADD_MAPPINGS, EDIT_MAPPINGS, DELETE_MAPPINGS))
    conn = api_world["conn"]
    created = client.post(f"{API}/mappings/", new_rule(api_world), content_type="application/json")
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["remote_name"] == "Sales"  # filled in from the platform's list
    again = client.post(f"{API}/mappings/", new_rule(api_world), content_type="application/json")
    assert again.status_code == 400 and "local_value" in again.json()
    wrong = {**new_rule(api_world), "local_value": "Other", "remote_id": "no-such-account"}
    answer = client.post(f"{API}/mappings/", wrong, content_type="application/json")
    assert answer.status_code == 400 and "not an active income account" in answer.json()["remote_id"][0]
    answer = client.post(f"{API}/mappings/", {**new_rule(api_world), "kind": "nonsense"},
                         content_type="application/json")
    assert answer.status_code == 400 and "Unknown kind" in answer.json()["kind"][0]
    answer = client.post(f"{API}/mappings/", {**new_rule(api_world), "local_value": ""},
                         content_type="application/json")
    assert answer.status_code == 400 and "needs a local value" in answer.json()["local_value"][0]
    changed = client.patch(f"{API}/mappings/{rule['id']}/", {"local_value": "Lab work"},
                           content_type="application/json")
    assert changed.status_code == 200 and Mapping.objects.get(pk=rule["id"]).local_value == "Lab work"
    listed = client.get(f"{API}/mappings/", {"connection": conn.pk, "kind": MappingKind.INCOME_ACCOUNT}).json()
    assert {r["id"] for r in listed["results"]} >= {rule["id"]}
    assert client.delete(f"{API}/mappings/{rule['id']}/").status_code == 204
    assert not Mapping.objects.filter(pk=rule["id"]).exists()


def test_trigger_rules_keep_their_url_and_need_connect_to_change(client, api_world):
    url = f"{API}/connections/{api_world['conn'].pk}/triggers/"
    assert reverse("accounting_sync:api-trigger-rules", args=[api_world["conn"].pk]) == url
    client.force_login(staff(VIEW_DASHBOARD))
    assert client.get(url).status_code == 200
    assert client.put(url, [], content_type="application/json").status_code == 403
    client.force_login(staff(CONNECT))
    saved = client.put(url, [{"entity": "payment", "kind": "manual"}], content_type="application/json")
    assert saved.status_code == 200 and saved.json()["rules"][0]["kind"] == "manual"


def api_routes() -> list[tuple[str, set[str]]]:
    """Every route of the API: (path with {id}, HTTP methods), from the app's URL patterns."""
    routes = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            assert isinstance(pattern, URLPattern)
            text = prefix + str(pattern.pattern)
            if not text.startswith("api/") or text.startswith("api/schema/"):
                continue
            text = (text.replace("^", "").replace("$", "").replace("(?P<pk>\\d+)", "{id}")
                    .replace("<int:pk>", "{id}"))
            cls = pattern.callback.cls
            actions = getattr(pattern.callback, "actions", None)
            methods = set(actions) if actions else {m for m in ("get", "post", "put", "patch", "delete")
                                                    if hasattr(cls, m)}
            routes.append((f"/accounting-sync/{text}", methods - {"head"}))

    walk(app_urls.urlpatterns, "")
    return routes


def test_the_openapi_schema_is_valid_and_documents_every_endpoint(client, db):
    client.force_login(staff(VIEW_AUDIT))  # any of the API's permissions reads it
    GENERATOR_STATS.reset()
    response = client.get(f"{API}/schema/", {"format": "json"})
    assert response.status_code == 200
    assert not GENERATOR_STATS, f"the generator warned: {dict(GENERATOR_STATS._warn_cache)} " \
                                f"{dict(GENERATOR_STATS._error_cache)}"
    schema = response.json()
    validate_schema(schema)
    routes = api_routes()
    assert len(routes) >= 20
    for path, methods in routes:
        assert path in schema["paths"], f"{path} is not documented"
        assert methods == set(schema["paths"][path]), f"{path}: {methods} vs {set(schema['paths'][path])}"
    assert set(schema["paths"]) == {path for path, _ in routes}  # and nothing else (no host views)
    assert {"cookieAuth", "tokenAuth"} <= set(schema["components"]["securitySchemes"])
    outbox = {p["name"] for p in schema["paths"]["/accounting-sync/api/outbox/"]["get"]["parameters"]}
    assert {"status", "connection", "entity", "page", "page_size"} <= outbox
    assert client.get(f"{API}/schema/").content.startswith(b"openapi: 3")  # YAML by default

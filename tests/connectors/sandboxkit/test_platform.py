"""PlatformSandbox: the /_sandbox control endpoints, faults around the platform's work, act_as_user, settings.

A toy platform (one resource, bearer tokens, one limit) over real loopback HTTP keeps these tests platform-neutral.
"""
from decimal import Decimal

import pytest
import requests

from connectors.sandboxkit.limits import Limiter
from connectors.sandboxkit.oauth import AuthServer
from connectors.sandboxkit.platform import PlatformError, PlatformSandbox, dumps, json_response, loads
from connectors.sandboxkit.resources import ResourceStore


class ToySandbox(PlatformSandbox):
    platform, title, default_port, api_path = "toy", "Toy Books", 0, "/api"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.auth = AuthServer(clock=self.clock, access_ttl=100)
        self.limits = Limiter(self.clock, minute=(3, 60.0))
        self.store = ResourceStore(self.clock)
        self.store.declare("things")
        self.reset()

    @property
    def company_id(self):
        return "c1"

    def seed(self):
        self.store.create("things", {"name": "seeded", "amount": Decimal("1.10")})

    def route(self, req):
        if (oauth := self.oauth_route(req)) is not None:
            return oauth
        if self.auth.check(req.header("Authorization")):
            return json_response(401, {"error": "unauthorized"})
        if self.limits.hit(("minute", "c1")):
            return json_response(429, {"error": "slow down"})
        if req.method == "GET" and req.path.startswith("/api/things/"):
            return json_response(200, self.store.get("things", req.path.rsplit("/", 1)[1]).data)
        if req.method == "PUT":
            body = req.json_object(PlatformError(400, {"error": "not an object"}), form_field="JSONString")
            raise PlatformError(418, {"error": "teapot", "got": body}, [("X-Why", "tested")])
        if req.method == "POST":
            key = req.header("Idempotency-Key") or None
            row_id = self.store.once(key, lambda: self.store.create("things", req.json()).id)
            return json_response(201, {"id": row_id})
        return json_response(200, {"things": [r.data for r in self.store.rows("things")]})

    def rename_thing_as_user(self, thing_id, name):
        return self.store.update("things", thing_id, {"name": name}).data


@pytest.fixture(scope="module")
def toy():
    sandbox = ToySandbox().start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sb(toy):
    toy.reset()
    toy.headers = {"Authorization": "Bearer " + toy.issue_tokens()["access_token"]}
    return toy


def control(sb, method, action, body=None):
    return requests.request(method, f"{sb.base_url}/_sandbox/{action}", json=body, timeout=5)


def test_wire_keeps_decimals_exact():
    assert dumps({"a": Decimal("12.50"), "b": [Decimal("0.1")]}) == b'{"a": 12.50, "b": [0.1]}'
    assert loads(b'{"a": 12.50}')["a"] == Decimal("12.50")
    with pytest.raises(TypeError):
        dumps({"a": 1.5})


def test_state_and_urls(sb):
    state = control(sb, "GET", "state").json()
    assert state["platform"] == "toy" and state["company_id"] == "c1" and state["counts"] == {"things": 1}
    assert state["actions"] == ["rename_thing"]
    assert sb.api_base == sb.base_url + "/api" and sb.token_url.endswith("/oauth/token")
    assert requests.get(sb.base_url + sb.ready_path, timeout=5).status_code == 200


def test_reset_reseeds_and_clears(sb):
    requests.post(sb.api_base, json={"name": "x"}, headers=sb.headers, timeout=5)
    control(sb, "POST", "faults", {"kind": "http_500", "count": 3})
    assert control(sb, "POST", "reset").json() == {"ok": True}
    state = control(sb, "GET", "state").json()
    assert state["counts"] == {"things": 1} and state["faults_pending"] == [] and state["api_calls"] == 0


def test_faults_added_matched_and_deleted(sb):
    assert control(sb, "POST", "faults", {"kind": "http_503", "count": 1, "match": "POST /api"}).status_code == 200
    assert requests.get(sb.api_base, headers=sb.headers, timeout=5).status_code == 200  # not matched
    assert requests.post(sb.api_base, json={}, headers=sb.headers, timeout=5).status_code == 503
    control(sb, "POST", "faults", {"kind": "http_500", "count": 5})
    assert control(sb, "DELETE", "faults").json() == {"pending": []}
    assert requests.get(sb.api_base, headers=sb.headers, timeout=5).status_code == 200
    assert control(sb, "POST", "faults", {"kind": "bogus"}).status_code == 400


def test_lost_response_applies_the_write_and_reset_drops(sb):
    control(sb, "POST", "faults", {"kind": "lost_response", "match": "POST"})
    with pytest.raises(requests.ConnectionError):
        requests.post(sb.api_base, json={"name": "lost"}, headers=sb.headers, timeout=5)
    assert sb.store.counts()["things"] == 2  # written, answer lost
    control(sb, "POST", "faults", {"kind": "reset"})
    with pytest.raises(requests.ConnectionError):
        requests.post(sb.api_base, json={"name": "never"}, headers=sb.headers, timeout=5)
    assert sb.store.counts()["things"] == 2


def test_clock_expires_tokens_and_frees_limits(sb):
    for _ in range(3):
        assert requests.get(sb.api_base, headers=sb.headers, timeout=5).status_code == 200
    assert requests.get(sb.api_base, headers=sb.headers, timeout=5).status_code == 429
    assert control(sb, "POST", "clock", {"advance": 61}).json()["offset"] == 61
    assert requests.get(sb.api_base, headers=sb.headers, timeout=5).status_code == 200
    control(sb, "POST", "clock", {"advance": 100})
    assert requests.get(sb.api_base, headers=sb.headers, timeout=5).status_code == 401


def test_settings(sb):
    out = control(sb, "POST", "settings", {"access_token_ttl": 5, "limits": {"minute": [None, 60]}}).json()
    assert out["access_token_ttl"] == 5 and out["limits"]["minute"][0] is None
    assert sb.issue_tokens()["expires_in"] == 5
    assert control(sb, "POST", "settings", {"nonsense": 1}).status_code == 400
    sb.reset()
    assert sb.limits.rules["minute"] == (3, 60.0)


def test_forget_idempotency(sb):
    headers = {**sb.headers, "Idempotency-Key": "k1"}
    first = requests.post(sb.api_base, json={"name": "a"}, headers=headers, timeout=5).json()
    assert requests.post(sb.api_base, json={"name": "a"}, headers=headers, timeout=5).json() == first
    assert control(sb, "POST", "forget-idempotency").status_code == 200
    assert requests.post(sb.api_base, json={"name": "a"}, headers=headers, timeout=5).json() != first


def test_as_user(sb):
    thing = sb.store.rows("things")[0].id
    out = control(sb, "POST", "as-user", {"action": "rename_thing", "thing_id": thing, "name": "renamed"})
    assert out.status_code == 200 and out.json()["result"]["name"] == "renamed"
    unknown = control(sb, "POST", "as-user", {"action": "launch_rocket"})
    assert unknown.status_code == 400 and "rename_thing" in unknown.json()["error"]
    with pytest.raises(ValueError, match="unknown action"):
        sb.act_as_user("__class__")
    assert control(sb, "POST", "as-user", {"action": "rename_thing", "thing_id": "999", "name": "x"}).status_code == 404


def test_unknown_control_endpoint_and_method(sb):
    assert control(sb, "POST", "nothing").status_code == 404
    assert control(sb, "GET", "reset").status_code == 405
    assert control(sb, "POST", "tokens").json()["access_token"]


def test_request_numbers_and_times():
    from connectors.sandboxkit.platform import decimal_value, parse_timestamp

    assert decimal_value("12.50") == Decimal("12.50") and decimal_value(3) == Decimal(3)
    assert decimal_value(None, Decimal("1")) == 1
    for bad in (1.5, True, "abc", "NaN", None):
        with pytest.raises(ValueError):
            decimal_value(bad)
    assert parse_timestamp("1970-01-01T01:00:00+0100") == 0 == parse_timestamp("1970-01-01T00:00:00Z")
    assert parse_timestamp("1970-01-02") == 86400 == parse_timestamp("1970-01-02T08:00:00 0800")  # "+" read as " "
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")


def test_raised_platform_errors_and_store_refusals_are_answered(sb):
    sb.limits.off()
    missing = requests.get(f"{sb.api_base}/things/999", headers=sb.headers, timeout=5)
    assert missing.status_code == 404 and missing.json() == {"error": "things 999 does not exist"}
    for bad in (b"[1]", b"{nope"):
        refused = requests.put(f"{sb.api_base}/things", data=bad, headers=sb.headers, timeout=5)
        assert refused.status_code == 400 and refused.json() == {"error": "not an object"}
    form = requests.put(f"{sb.api_base}/things", data={"JSONString": '{"a": 1.50}'}, headers=sb.headers, timeout=5)
    assert form.status_code == 418 and form.headers["X-Why"] == "tested" and form.text.endswith('{"a": 1.50}}')


def test_oauth_route_serves_the_declared_paths(sb):
    consent = requests.get(sb.authorize_url, params={"client_id": "sandbox-client", "state": "s",
                                                     "redirect_uri": "https://app.example/cb",
                                                     "response_type": "code"}, allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    code = consent.headers["Location"].split("code=")[1].split("&")[0]
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example/cb",
             "client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    assert requests.post(sb.token_url, params=grant, timeout=5).json()["access_token"]  # the grant in the query

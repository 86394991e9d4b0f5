"""QBO sandbox platform limits: 500/min, 10 in flight, 40 batches/min per realm, over real loopback HTTP.

The clock is injected, so windows are crossed by moving it instead of sleeping. The ``api`` fixture puts the
published rules back after every test (the module's sandbox is shared by its tests).
"""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
import requests

from connectors.qbo.sandbox import QBOSandbox
from connectors.qbo.sandbox.server import QBO_LIMITS
from connectors.sandboxkit.limits import Limiter

from tests.connectors.sandbox_clock import Clock

from .test_sandbox import Api


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def sandbox(clock):
    sb = QBOSandbox(clock=clock).start()
    yield sb
    sb.stop()


@pytest.fixture
def api(sandbox):
    sandbox.reset()
    sandbox.limits.restore()
    yield Api(sandbox)
    sandbox.limits.restore()
    sandbox.faults.clear()


def batch(api: Api, items: list) -> requests.Response:
    return requests.post(f"{api.base}/batch", json={"BatchItemRequest": items}, headers=api.headers(), timeout=5)


def query(api: Api) -> requests.Response:
    return api.query("select * from Account")


def assert_throttled(response: requests.Response) -> None:
    assert response.status_code == 429, response.text
    error = response.json()["fault"]["error"][0]
    assert error["message"] == "message=ThrottleExceeded; errorCode=003001; statusCode=429"
    assert error["code"] == "3001" and error["detail"] == "The request limit was reached.  Try again later"
    assert response.json()["fault"]["type"] == "SERVICE"
    assert "Retry-After" not in response.headers  # QBO documents "wait 60 seconds", not a header


def test_defaults_are_qbos_published_limits(sandbox):
    assert sandbox.limits.rules == {"per_minute": (500, 60.0), "concurrent": (10, 0.0), "batch_per_minute": (40, 60.0)}
    assert QBOSandbox(limits=False).limits.rules == {name: (None, window) for name, (_, window) in QBO_LIMITS.items()}


def test_per_minute_limit_and_sliding_window(api, sandbox, clock):
    sandbox.limits.set("per_minute", 5)
    assert [query(api).status_code for _ in range(5)] == [200] * 5
    assert_throttled(query(api))
    assert sandbox.throttled[-1][0] == "per_minute"
    clock.advance(30)
    assert_throttled(query(api))  # refused requests are not counted, but the first five still are
    clock.advance(31)
    assert query(api).status_code == 200
    assert requests.get(f"{sandbox.base_url}/_sandbox/state", timeout=5).json()["throttled"] == 2


def test_batches_count_against_both_limits(api, sandbox, clock):
    sandbox.limits.set("batch_per_minute", 2)
    item = [{"bId": "1", "Query": "select * from Account"}]
    assert [batch(api, item).status_code for _ in range(2)] == [200, 200]
    assert_throttled(batch(api, item))
    assert sandbox.throttled[-1][0] == "batch_per_minute"
    assert query(api).status_code == 200  # only batches are out of budget
    clock.advance(61)
    sandbox.limits.set("per_minute", 2)
    assert batch(api, item).status_code == 200
    assert query(api).status_code == 200
    assert_throttled(batch(api, item))
    assert sandbox.throttled[-1][0] == "per_minute"


def test_concurrency_limit(api, sandbox):
    sandbox.limits.set("concurrent", 3)
    with ExitStack() as stack:
        for _ in range(3):  # three requests "in flight" for this realm
            assert stack.enter_context(sandbox.limits.concurrent("concurrent", sandbox.realm_id)) is None
        assert_throttled(query(api))
        assert sandbox.throttled[-1][0] == "concurrent"
    assert query(api).status_code == 200


def test_slow_responses_hold_their_slot(api, sandbox):
    """A response stalled by the ``timeout`` fault is still in flight and keeps its concurrency slot."""
    sandbox.limits.set("concurrent", 1)
    sandbox.faults.timeout_seconds = 0.4
    sandbox.faults.add("timeout", match="GET /query")
    try:
        with pytest.raises(requests.Timeout):
            requests.get(f"{api.base}/query", params={"query": "select * from Account"}, headers=api.headers(),
                         timeout=0.1)
        assert_throttled(requests.get(f"{api.base}/companyinfo/{sandbox.realm_id}", headers=api.headers(),
                                      timeout=5))
    finally:
        sandbox.faults.timeout_seconds = 5
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # let the stalled request finish before the next test
            with sandbox.limits.concurrent("concurrent", sandbox.realm_id) as busy:
                if busy is None:
                    break
            time.sleep(0.02)


def test_oauth_control_and_rejected_calls_are_not_limited(api, sandbox):
    for name in QBO_LIMITS:
        sandbox.limits.set(name, 0)  # nothing may pass
    tokens = sandbox.issue_tokens()
    refreshed = requests.post(sandbox.token_url, auth=(sandbox.client_id, sandbox.client_secret), timeout=5,
                              data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert requests.get(sandbox.discovery_url, timeout=5).status_code == 200
    assert requests.get(f"{sandbox.base_url}/_sandbox/state", timeout=5).status_code == 200
    assert requests.get(f"{api.base}/companyinfo/{sandbox.realm_id}", timeout=5).status_code == 401
    other = requests.get(f"{sandbox.api_base}/company/123/companyinfo/123", headers=api.headers(), timeout=5)
    assert other.status_code == 403
    assert_throttled(query(api))


def test_off_reset_and_restore(api, sandbox):
    sandbox.limits.set("per_minute", 2)
    assert [query(api).status_code for _ in range(3)] == [200, 200, 429]
    sandbox.reset()  # a fresh company starts with empty windows but keeps the configured rules
    assert sandbox.limits.rules["per_minute"] == (2, 60.0)
    assert [query(api).status_code for _ in range(3)] == [200, 200, 429]
    sandbox.limits.off()
    sandbox.reset()
    assert all(limit is None for limit, _ in sandbox.limits.rules.values())  # reset never re-enables limits
    assert [query(api).status_code for _ in range(5)] == [200] * 5
    sandbox.limits.restore()
    assert sandbox.limits.rules == dict(QBO_LIMITS)


def test_control_endpoint(api, sandbox):
    control = f"{sandbox.base_url}/_sandbox/limits"
    answer = requests.post(control, json={"name": "per_minute", "limit": 1, "window": 10}, timeout=5)
    assert answer.status_code == 200 and answer.json()["limits"]["per_minute"] == {"limit": 1, "window": 10.0}
    assert [query(api).status_code for _ in range(2)] == [200, 429]
    assert requests.post(control, json={"off": True}, timeout=5).json()["limits"]["per_minute"]["limit"] is None
    assert query(api).status_code == 200
    assert requests.post(control, json={"restore": True}, timeout=5).json()["limits"]["per_minute"]["limit"] == 500
    assert requests.get(control, timeout=5).json()["limits"]["batch_per_minute"] == {"limit": 40, "window": 60.0}
    state = requests.get(f"{sandbox.base_url}/_sandbox/state", timeout=5).json()
    assert state["limits"]["concurrent"] == {"limit": 10, "window": 0.0} and state["throttled"] == 1
    for bad in ({"name": "nope", "limit": 1}, {"name": "per_minute"}, {"limits": 3},
                {"name": "per_minute", "limit": "5"}, {"name": "per_minute", "limit": -1}):
        assert requests.post(control, json=bad, timeout=5).status_code == 400, bad
    assert sandbox.limits.rules == dict(QBO_LIMITS)


def test_rate_limit_fault_uses_the_same_body(api, sandbox):
    sandbox.faults.add("rate_limit")
    assert_throttled(query(api))
    sandbox.faults.add("rate_limit", retry_after=30)
    assert query(api).headers["Retry-After"] == "30"


def test_limiter_restore_keeps_requests_in_flight():
    limiter = Limiter(lambda: 0.0, concurrent=(2, 0))
    with limiter.concurrent("concurrent", "r") as first:
        assert first is None
        limiter.restore()  # must not forget the request still running
    with limiter.concurrent("concurrent", "r"), limiter.concurrent("concurrent", "r"), \
            limiter.concurrent("concurrent", "r") as third:
        assert third is not None  # two slots, not three


def test_limit_zero_blocks_with_an_empty_window():
    limiter = Limiter(lambda: 100.0, per_minute=(0, 60))
    exceeded = limiter.hit(("per_minute", "r"))
    assert exceeded is not None and exceeded.retry_after == 60

"""Simulated network latency in the sandboxes (``connectors.sandboxkit.latency``), over real loopback HTTP.

The delay is counted, never waited: every sandbox here gets a ``Latency`` whose sleep function records what it
was asked to sleep (and, for the lock test, blocks until released). No assertion reads the wall clock.
"""
import os
import random
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from accounting_sync.staff import demo
from connectors.qbo.sandbox import QBOSandbox
from connectors.sandboxkit.latency import KINDS, Delay, Latency, kind_of, parse
from connectors.sandboxkit.platform import PlatformSandbox
from connectors.xero.sandbox import XeroSandbox

ROOT = Path(__file__).resolve().parents[3]
#: A different delay per kind, so each recorded sleep says which kind the sandbox took the request for.
PER_KIND = {"read": 0.011, "write": 0.022, "batch": 0.033, "auth": 0.044}
KIND_OF = {seconds: kind for kind, seconds in PER_KIND.items()}


class Recorder:
    """A sleep function that records instead of sleeping."""

    def __init__(self):
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, seconds):
        with self.lock:
            self.slept.append(seconds)

    def kinds(self) -> list[str]:
        return [KIND_OF[s] for s in self.slept]

    def clear(self):
        self.slept.clear()


def recording(spec=PER_KIND):
    recorder = Recorder()
    return Latency(spec, sleep=recorder), recorder


# -- the spec ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, expected", [
    (None, {k: Delay() for k in KINDS}),
    ("off", {k: Delay() for k in KINDS}),
    (0.15, {k: Delay(0.15) for k in KINDS}),
    ("150ms", {k: Delay(0.15) for k in KINDS}),
    ("0.15+0.05", {k: Delay(0.15, 0.05) for k in KINDS}),
    ("read=150ms+50ms, write=0.2,batch=0.4s", {"read": Delay(0.15, 0.05), "write": Delay(0.2),
                                               "batch": Delay(0.4), "auth": Delay()}),
    ({"all": Decimal("0.1"), "batch": [0.4, 0.1], "auth": {"fixed": 0.05}},
     {"read": Delay(0.1), "write": Delay(0.1), "batch": Delay(0.4, 0.1), "auth": Delay(0.05)}),
])
def test_a_spec_gives_every_kind_its_delay(spec, expected):
    assert parse(spec) == expected


@pytest.mark.parametrize("spec, message", [
    ({"reads": 0.1}, "unknown endpoint kinds ['reads']"),
    ("read=-1", "outside 0..300"),
    ("write=fast", "not a number of seconds: 'fast'"),
    ({"batch": [0.1]}, "expected [fixed, jitter]"),
    ({"auth": True}, "expected seconds"),
    ("read", "not a number of seconds"),
    ({"all": "nan"}, "outside"),
])
def test_a_bad_spec_says_what_is_wrong(spec, message):
    with pytest.raises(ValueError) as excinfo:
        parse(spec)
    assert message in str(excinfo.value)


def test_a_bad_spec_changes_nothing():
    latency = Latency({"read": 0.2})
    with pytest.raises(ValueError):
        latency.set({"read": 0.1, "wrong": 1})
    assert latency.delays["read"] == Delay(0.2)


def test_jitter_draws_within_fixed_plus_jitter_and_varies():
    latency, recorder = recording({"write": [0.1, 0.05]})
    latency._rng = random.Random(7)
    for _ in range(50):
        latency.wait("write")
    assert all(0.1 <= s <= 0.15 for s in recorder.slept)
    assert len(set(recorder.slept)) > 40  # drawn, not fixed
    assert latency.waited["write"][0] == 50 and latency.waited["read"] == [0, 0.0]


def test_no_delay_no_sleep():
    latency, recorder = recording(None)
    assert latency.wait("read") == 0 and recorder.slept == []


@pytest.mark.parametrize("method, path, kind", [
    ("GET", "/v3/company/1/invoice/5", "read"), ("POST", "/v3/company/1/invoice", "write"),
    ("POST", "/v3/company/1/batch", "batch"), ("POST", "/api/v2.0/$batch", "batch"),
    ("POST", "/oauth/token", "auth"), ("POST", "/v3/company/1/query", "read"), ("DELETE", "/x/1", "write"),
])
def test_endpoint_kinds(method, path, kind):
    assert kind_of(method, path, auth_paths=("/oauth/token", None), read_paths=("/query",)) == kind


# -- QuickBooks Online -----------------------------------------------------------------------------------------------
@pytest.fixture
def qbo():
    latency, recorder = recording()
    sandbox = QBOSandbox(port=0, latency=latency).start()
    sandbox.recorder = recorder
    yield sandbox
    sandbox.stop()


def qbo_headers(sb):
    return {"Authorization": f"Bearer {sb.issue_tokens()['access_token']}", "Accept": "application/json"}


def qbo_url(sb, rest):
    return f"{sb.api_base}/company/{sb.realm_id}/{rest}"


def test_qbo_waits_per_endpoint_kind(qbo):
    headers = qbo_headers(qbo)
    assert requests.post(qbo_url(qbo, "customer"), json={"DisplayName": "Acme"}, headers=headers,
                         timeout=5).status_code == 200
    customer = qbo.store.entities("Customer")[0]["Id"]
    assert requests.get(qbo_url(qbo, f"customer/{customer}"), headers=headers, timeout=5).status_code == 200
    assert requests.post(qbo_url(qbo, "query"), data="select * from Customer", headers=headers,
                         timeout=5).status_code == 200
    batch = {"BatchItemRequest": [{"bId": "1", "operation": "create", "Customer": {"DisplayName": "B1"}}]}
    assert requests.post(qbo_url(qbo, "batch"), json=batch, headers=headers, timeout=5).status_code == 200
    token = requests.post(qbo.token_url, data={"grant_type": "refresh_token", "refresh_token": "nope"},
                          auth=(qbo.client_id, qbo.client_secret), timeout=5)
    assert token.status_code == 400
    assert qbo.recorder.kinds() == ["write", "read", "read", "batch", "auth"]
    state = requests.get(f"{qbo.base_url}/_sandbox/state", timeout=5).json()["latency"]
    assert state["waited"]["read"]["requests"] == 2 and state["delays"]["batch"] == [0.033, 0]
    assert len(qbo.recorder.slept) == 5  # control endpoints wait nothing


def test_qbo_gateway_faults_and_throttles_answer_at_once(qbo):
    headers = qbo_headers(qbo)
    qbo.faults.add("http_503")
    assert requests.get(qbo_url(qbo, "companyinfo/1"), headers=headers, timeout=5).status_code == 503
    qbo.limits.set("per_minute", 0)
    assert requests.get(qbo_url(qbo, "companyinfo/1"), headers=headers, timeout=5).status_code == 429
    assert qbo.recorder.slept == []


def test_qbo_control_endpoint_sets_and_reports_latency(qbo):
    answer = requests.post(f"{qbo.base_url}/_sandbox/latency", json={"all": 0.15, "batch": [0.4, 0.1]}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["delays"] == {"read": [0.15, 0], "write": [0.15, 0], "batch": [0.4, 0.1],
                                       "auth": [0.15, 0]}
    assert qbo.latency.delays["batch"] == Delay(0.4, 0.1)
    refused = requests.post(f"{qbo.base_url}/_sandbox/latency", json={"read": -1}, timeout=5)
    assert refused.status_code == 400 and "outside" in refused.json()["error"]
    assert requests.get(f"{qbo.base_url}/_sandbox/latency", timeout=5).json()["delays"]["read"] == [0.15, 0]
    qbo.reset()  # the company is emptied; the network stays as slow as it was
    assert qbo.latency.delays["read"] == Delay(0.15)


def test_a_request_waiting_out_its_latency_holds_no_lock(qbo):
    """The first write blocks inside its latency; meanwhile the store, the limiter and other requests are free,
    and the write has not been applied yet (the wait comes before the platform's work)."""
    headers = qbo_headers(qbo)
    waiting, release = threading.Event(), threading.Event()
    first = threading.Lock()

    def sleep(seconds):
        if first.acquire(blocking=False):  # only the first request blocks
            waiting.set()
            assert release.wait(10)

    qbo.latency.sleep = sleep
    answers = []
    writer = threading.Thread(target=lambda: answers.append(requests.post(
        qbo_url(qbo, "customer"), json={"DisplayName": "Slow Ltd"}, headers=headers, timeout=15)))
    writer.start()
    try:
        assert waiting.wait(10)
        assert qbo.store.lock.acquire(timeout=2), "the store lock is held while a request waits"
        qbo.store.lock.release()
        assert qbo.limits._lock.acquire(timeout=2), "the limiter's lock is held while a request waits"
        qbo.limits._lock.release()
        other = requests.post(qbo_url(qbo, "customer"), json={"DisplayName": "Quick Ltd"}, headers=headers,
                              timeout=5)
        assert other.status_code == 200
        assert [c["DisplayName"] for c in qbo.store.entities("Customer")] == ["Quick Ltd"]
    finally:
        release.set()
        writer.join(15)
    assert answers[0].status_code == 200
    assert sorted(c["DisplayName"] for c in qbo.store.entities("Customer")) == ["Quick Ltd", "Slow Ltd"]


# -- Xero ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def xero():
    latency, recorder = recording()
    sandbox = XeroSandbox(port=0, latency=latency).start()
    sandbox.recorder = recorder
    yield sandbox
    sandbox.stop()


def test_xero_waits_per_endpoint_kind_and_a_write_of_many_is_a_batch(xero):
    headers = {"Authorization": f"Bearer {xero.issue_tokens()['access_token']}", "xero-tenant-id": xero.tenant_id,
               "Accept": "application/json"}
    one = requests.put(f"{xero.api_base}/Contacts", json={"Contacts": [{"Name": "Acme"}]}, headers=headers,
                       timeout=5)
    many = requests.put(f"{xero.api_base}/Contacts", json={"Contacts": [{"Name": "B1"}, {"Name": "B2"}]},
                        headers=headers, timeout=5)
    read = requests.get(f"{xero.api_base}/Contacts", headers=headers, timeout=5)
    unauthorized = requests.get(f"{xero.api_base}/Contacts", headers={"xero-tenant-id": xero.tenant_id}, timeout=5)
    token = requests.post(xero.token_url, data={"grant_type": "refresh_token", "refresh_token": "nope"},
                          auth=(xero.client_id, xero.client_secret), timeout=5)
    assert (one.status_code, many.status_code, read.status_code, unauthorized.status_code) == (200, 200, 200, 401)
    assert token.status_code == 400
    assert {c["Name"] for c in read.json()["Contacts"]} >= {"Acme", "B1", "B2"}  # the body read twice is intact
    assert xero.recorder.kinds() == ["write", "batch", "read", "read", "auth"]


def test_xero_control_endpoint_sets_latency(xero):
    answer = requests.post(f"{xero.base_url}/_sandbox/latency", json={"read": "150ms+50ms"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["delays"]["read"] == [0.15, 0.05]
    assert answer.json()["delays"]["write"] == [0, 0]  # a spec replaces the whole setting
    assert requests.post(f"{xero.base_url}/_sandbox/latency", json={"reed": 1}, timeout=5).status_code == 400
    assert requests.get(f"{xero.base_url}/_sandbox/state", timeout=5).json()["latency"]["delays"]["read"] == \
        [0.15, 0.05]


# -- every sandbox on the kit ----------------------------------------------------------------------------------------
KIT = [p for p in demo.platforms() if issubclass(demo.sandbox_class(p), PlatformSandbox)]


@pytest.mark.parametrize("platform", KIT)
def test_every_kit_sandbox_waits_before_its_work(platform):
    cls = demo.sandbox_class(platform)
    sandbox = cls(port=0).start()
    try:
        latency, recorder = recording()
        sandbox.latency = latency
        requests.get(sandbox.api_base + "/no-such-thing", timeout=5)
        requests.post(sandbox.token_url, data={"grant_type": "refresh_token", "refresh_token": "nope"}, timeout=5)
        requests.post(sandbox.api_base + "/no-such-thing", json={}, timeout=5)
        sandbox.faults.add("http_500")
        assert requests.get(sandbox.api_base + "/no-such-thing", timeout=5).status_code == 500
        assert recorder.kinds() == ["read", "auth", "write"]
        answer = requests.post(f"{sandbox.base_url}/_sandbox/latency", json={"all": 0.1}, timeout=5)
        assert answer.status_code == 200 and sandbox.latency.delays == {k: Delay(0.1) for k in KINDS}
        assert sandbox.settings({"latency": "write=0.3"})["latency"]["write"] == [Decimal("0.3"), 0]
        assert requests.post(f"{sandbox.base_url}/_sandbox/latency", json={"all": -2}, timeout=5).status_code == 400
    finally:
        sandbox.stop()


def test_the_kit_constructor_takes_a_spec():
    sandbox = demo.sandbox_class(KIT[0])(port=0)
    assert sandbox.latency.delays["read"] == Delay()
    base = PlatformSandbox(latency="read=0.2")
    assert base.latency.delays["read"] == Delay(0.2) and base.latency.delays["write"] == Delay()


# -- command line and environment --------------------------------------------------------------------------------------
def test_the_sandbox_command_line_takes_latency_from_the_environment():
    env = {**os.environ, "SANDBOX_LATENCY": "read=0.05,batch=0.4+0.1"}
    proc = subprocess.Popen([sys.executable, "-m", "connectors.qbo.sandbox", "--port", "0"], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env)
    try:
        base = proc.stdout.readline().split(" sandbox on ")[1].split()[0]
        delays = requests.get(f"{base}/_sandbox/latency", timeout=5).json()["delays"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert delays == {"read": [0.05, 0], "write": [0, 0], "batch": [0.4, 0.1], "auth": [0, 0]}


def test_accounting_sync_sandbox_refuses_a_bad_latency_before_serving():
    with pytest.raises(CommandError, match="--latency: latency: unknown endpoint kinds"):
        call_command("accounting_sync_sandbox", platform=demo.platforms()[0], latency="slow=1")


def test_accounting_sync_sandbox_help_names_the_option_and_the_variable():
    out = subprocess.run([sys.executable, "manage.py", "accounting_sync_sandbox", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert "--latency SPEC" in out and "SANDBOX_LATENCY" in out

"""What every registered platform's sandbox does alike, checked once per platform over real loopback HTTP: the
command line, the ``/_sandbox/*`` control endpoints (state, reset, faults, an unknown as-user action).

A platform's own wire (auth codes, envelopes, error bodies, limits) is tested in its own folder. The control
endpoints are checked on the sandboxes built on the kit (``PlatformSandbox`` subclasses); the older QBO and Xero
sandboxes keep their own control tests until they move onto the kit, and share only the command line here.
"""
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from accounting_sync.staff import demo
from connectors.sandboxkit.platform import PlatformSandbox

ROOT = Path(__file__).resolve().parents[3]
PLATFORMS = demo.platforms()


def on_kit(platform):
    return issubclass(demo.sandbox_class(platform), PlatformSandbox)


@pytest.fixture(scope="module", params=PLATFORMS)
def kit_sandbox(request):
    if not on_kit(request.param):
        pytest.skip(f"the {request.param} sandbox is not a PlatformSandbox yet: its own tests cover its control "
                    "endpoints")
    sandbox = demo.sandbox_class(request.param)(port=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sb(kit_sandbox):
    kit_sandbox.reset()
    kit_sandbox.settings({"timeout_seconds": 1})  # a timeout fault stalls the server thread this long
    yield kit_sandbox
    kit_sandbox.faults.clear()


def control(sb, method, action, body=None):
    return requests.request(method, f"{sb.base_url}/_sandbox/{action}", json=body, timeout=5)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_command_line_serves_on_a_free_port_and_stops_cleanly(platform):
    cls = demo.sandbox_class(platform)
    package = cls.__module__.rsplit(".", 1)[0] if cls.__module__.endswith(".server") else cls.__module__
    proc = subprocess.Popen([sys.executable, "-m", package, "--port", "0"], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)
    try:
        first = proc.stdout.readline()
        assert " sandbox on http://127.0.0.1:" in first, first
        if on_kit(platform):
            assert first.startswith(f"{cls.title} sandbox on ")
        base = first.split(" sandbox on ")[1].split()[0]
        assert requests.get(base + cls.ready_path, timeout=5).status_code < 500
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_state_names_the_platform_and_its_settings(sb):
    state = control(sb, "GET", "state").json()
    assert state["platform"] == sb.platform and state["title"] == sb.title
    assert state["company_id"] == sb.company_id and state["counts"] == sb.store.counts()
    limits = sb.limits.rules.items() if sb.limits is not None else ()  # a platform without published limits
    assert state["settings"]["limits"] == {k: list(v) for k, v in limits}
    assert state["actions"] == sb.actions() and state["actions"]
    assert requests.get(sb.base_url + sb.ready_path, timeout=5).status_code == 200


def test_reset_restores_the_seeded_company_and_tokens_survive(sb):
    token = sb.issue_tokens()["access_token"]
    seeded = sb.store.counts()
    resource = next(name for name, count in seeded.items() if count)
    sb.store.delete(resource, sb.store.rows(resource)[0].id)
    control(sb, "POST", "faults", {"kind": "http_500", "count": 3})
    requests.get(f"{sb.api_base}/anything", timeout=5)
    assert control(sb, "POST", "reset").json() == {"ok": True}
    state = control(sb, "GET", "state").json()
    assert state["counts"] == seeded and state["faults_pending"] == [] and state["api_calls"] == 0
    assert sb.token_problem(token) is None  # a connection stays connected across tests


def test_unknown_as_user_action_names_the_known_ones(sb):
    unknown = control(sb, "POST", "as-user", {"action": "fly"})
    assert unknown.status_code == 400
    assert all(action in unknown.json()["error"] for action in sb.actions())


def test_faults_through_the_control_endpoint(sb):
    assert control(sb, "POST", "faults", {"kind": "http_500", "count": 1}).status_code == 200
    assert requests.get(f"{sb.api_base}/anything", timeout=5).status_code == 500  # before auth: any API path
    control(sb, "POST", "faults", {"kind": "lost_response"})
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sb.api_base}/anything", timeout=5)
    control(sb, "POST", "faults", {"kind": "timeout"})
    with pytest.raises(requests.Timeout):
        requests.get(f"{sb.api_base}/anything", timeout=0.2)
    assert control(sb, "GET", "state").json()["faults_fired"] == 3
    control(sb, "POST", "faults", {"kind": "http_503", "count": 5})
    assert control(sb, "DELETE", "faults").json() == {"pending": []}
    assert control(sb, "POST", "faults", {"kind": "bogus"}).status_code == 400

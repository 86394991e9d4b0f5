"""``accounting_sync_sandbox`` serves every registered platform's sandbox, as the demo starts them."""
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from accounting_sync.staff import demo

ROOT = Path(__file__).resolve().parents[2]


def test_list_names_every_platform_with_a_sandbox():
    out = subprocess.run([sys.executable, "manage.py", "accounting_sync_sandbox", "--list"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    for platform in demo.platforms():
        assert f"port {demo.sandbox_class(platform).default_port}" in out and platform in out


@pytest.mark.parametrize("platform", demo.platforms())
def test_serves_the_platform_at_its_ready_path(platform, unused_tcp_port):
    proc = subprocess.Popen([sys.executable, "manage.py", "accounting_sync_sandbox", "--platform", platform,
                             "--port", str(unused_tcp_port)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith(f"{demo.sandbox_class(platform).title} sandbox at http://127.0.0.1:"), first
        url = f"http://127.0.0.1:{unused_tcp_port}{demo.sandbox_class(platform).ready_path}"
        deadline = time.monotonic() + 20
        while True:
            try:
                assert requests.get(url, timeout=2).status_code < 500
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"{url} never answered"
                time.sleep(0.2)
        printed = "".join(proc.stdout.readline() for _ in range(4))
        assert "client id:  sandbox-client" in printed and "company id:" in printed
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def unused_tcp_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

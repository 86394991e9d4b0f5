"""``python -m bench.reconcile``: a full reconciliation of synced invoices against the QBO sandbox, bulk reads.

Prints one ``name: value`` line per figure:

    reconcile_1k_s               full run over 1,000 synced invoices, in a process of its own, end to end
    reconcile_10k_s              ... over 10,000
    reconcile_requests_per_doc   HTTP requests per invoice in the 10k run (bulk reads: about 0.01 + listing)
    reconcile_peak_rss_mb_1k     peak RSS of that process for 1,000 ...
    reconcile_peak_rss_mb_10k    ... and for 10,000 (chunked: it should barely grow)

The invoices are first sent the normal way (``accounting_sync_resync``), so both sides hold what a real
connection holds; that part is not timed. ``BENCH_QUICK=1`` runs 100 and 300 instead (a smoke run).
Everything runs in a throw-away SQLite database in a temporary directory, against a QBO sandbox on loopback.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import QUICK, ROOT, api_requests, connect, make_invoices, setup_environment

SIZES = (100, 300) if QUICK else (1_000, 10_000)


def synced(sandbox, env: dict, count: int):
    """A connection with ``count`` invoices on both sides."""
    sandbox.reset()
    sandbox.limits.off()
    org, conn = connect(sandbox, f"R{count} bench")
    make_invoices(org, count)
    done = subprocess.run([sys.executable, "manage.py", "accounting_sync_resync", "--connection", conn.name],
                          cwd=ROOT, env=env, capture_output=True)
    if done.returncode != 0 or len(sandbox.store.entities("Invoice")) != count:
        raise SystemExit(f"sending {count} invoices failed: {done.stdout.decode()} {done.stderr.decode()[-2000:]}")
    return conn


def reconcile(sandbox, env: dict, conn, count: int) -> dict:
    """``accounting_sync_reconcile`` in a process of its own: seconds, requests, peak RSS; the books must agree."""
    before = api_requests(sandbox)
    started = time.perf_counter()
    worker = subprocess.Popen([sys.executable, "manage.py", "accounting_sync_reconcile", "--connection", conn.name,
                               "--no-progress"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    output = worker.stdout.read().decode()  # before waiting: a long report must not block on a full pipe
    _, status, usage = os.wait4(worker.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0 or f"{count} documents compared" not in output:
        raise SystemExit(f"reconciliation of {count} did not find the books equal (exit {status}): {output[:2000]}")
    return {"seconds": seconds, "requests": api_requests(sandbox) - before, "rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="accounting-sync-bench-reconcile-"))
    try:
        env = setup_environment(workdir)
        from connectors.qbo.sandbox import QBOSandbox

        sandbox = QBOSandbox(port=0).start()
        small_n, large_n = SIZES
        small = reconcile(sandbox, env, synced(sandbox, env, small_n), small_n)
        large = reconcile(sandbox, env, synced(sandbox, env, large_n), large_n)
        sandbox.stop()
        label = {1_000: "1k", 10_000: "10k"}
        figures = {
            f"reconcile_{label.get(small_n, small_n)}_s": small["seconds"],
            f"reconcile_{label.get(large_n, large_n)}_s": large["seconds"],
            "reconcile_requests_per_doc": large["requests"] / large_n,
            f"reconcile_peak_rss_mb_{label.get(small_n, small_n)}": small["rss_mb"],
            f"reconcile_peak_rss_mb_{label.get(large_n, large_n)}": large["rss_mb"],
        }
        for name, value in figures.items():
            print(f"{name}: {value:.3f}", flush=True)
        print(f"# {small_n}: {small['requests']} requests; {large_n}: {large['requests']} requests")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

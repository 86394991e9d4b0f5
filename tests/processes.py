"""Subprocesses the tests start in a process group of their own (``qcluster``: sentinel, pusher, workers, monitor)."""
import contextlib
import os
import signal
import subprocess
import time


def stop_group(process: subprocess.Popen, grace: float = 5.0) -> None:
    """Stop a process and every process of its group, and wait until the group is gone.

    Not only the leader: a pusher or worker that outlived its sentinel (a cluster's main process that exited or
    was killed on its own) would go on leasing the next test's entries in the same database and never finish
    them. ``grace`` seconds for a graceful stop first (0: kill at once)."""
    try:
        os.killpg(process.pid, signal.SIGTERM if grace else signal.SIGKILL)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace or 10)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    process.wait()
    deadline = time.monotonic() + 10  # orphans are reaped by whoever adopted them
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def running(word: str) -> list[str]:
    """``pid pgid command`` of this machine's processes whose command line holds ``word`` (for failure messages:
    a cluster of an earlier test still alive would explain an entry leased by nobody the test started)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmd:
                command = cmd.read().replace(b"\0", b" ").decode(errors="replace").strip()
            pgid = os.getpgid(int(pid))
        except (OSError, ProcessLookupError):
            continue
        if word in command:
            found.append(f"{pid} {pgid} {command}")
    return found

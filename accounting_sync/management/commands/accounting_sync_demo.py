"""Run the demo: a vet clinic's documents synced to a local QuickBooks Online sandbox.

Examples:
    manage.py accounting_sync_demo --once     # headless: sync, read everything back, print a table, exit 0/1
    manage.py accounting_sync_demo            # sandbox + qcluster + web server; watch it sync; Ctrl-C stops all
    manage.py accounting_sync_demo --web-port 8001 --sandbox-port 8766
"""
from accounting_sync.management.base import ExamplesCommand
import os
import secrets
import signal
import subprocess
import sys
import time

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test.utils import override_settings

from connectors.models import Connection

from ... import demo, resync, tasks
from ...models import EntryStatus, OutboxEntry


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Headless run; exit 0 only if every total matches")
        parser.add_argument("--web-port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8765)
        parser.add_argument("--timeout", type=int, default=120, help="Seconds to wait for the sync to finish")

    def handle(self, *args, **opts):
        if opts["once"]:
            sys.exit(self.run_once(opts))
        self.run_interactive(opts)

    # -- headless --------------------------------------------------------------------------------------
    def run_once(self, opts) -> int:
        from connectors.qbo.sandbox import QBOSandbox

        sandbox = QBOSandbox(port=0).start()
        try:
            no_queue = {**settings.ACCOUNTING_SYNC, "QUEUE_TASKS": False}
            with override_settings(ACCOUNTING_SYNC=no_queue):
                conn = self.prepare(sandbox.base_url, fresh=True)
                tasks.drain(conn.pk)
            return self.report(conn)
        finally:
            sandbox.stop()

    def prepare(self, base_url: str, fresh: bool) -> Connection:
        org = demo.demo_organization()
        if fresh:  # a new sandbox knows none of the remote ids an earlier run stored
            Connection.objects.filter(name=demo.CONNECTION_NAME).delete()
        demo.load_demo_data(org)
        conn = demo.connect_to_sandbox(base_url, org)
        resync.queue(conn, resync.plan(conn))
        return conn

    def report(self, conn: Connection) -> int:
        rows = demo.readback(conn, demo.demo_organization())
        attention = OutboxEntry.objects.filter(connection=conn).exclude(status=EntryStatus.DONE)
        self.stdout.write(f"\n{'document':<22} {'local total':>12}  {'platform':<18} {'remote id':>9} "
                          f"{'remote total':>12}  match")
        for r in rows:
            self.stdout.write(f"{r['document']:<22} {r['local_total']:>12}  {r['platform']:<18} {r['remote_id']:>9} "
                              f"{str(r['remote_total'] if r['remote_total'] is not None else '-'):>12}  "
                              f"{'yes' if r['match'] else 'NO'}")
        for entry in attention:
            self.stdout.write(self.style.ERROR(f"not synced: {entry.label or entry.source_key}: {entry.status} "
                                               f"{entry.last_error} {entry.hint}"))
        ok = bool(rows) and all(r["match"] for r in rows) and not attention.exists()
        self.stdout.write(self.style.SUCCESS("All demo documents are in the sandbox with matching totals.") if ok
                          else self.style.ERROR("Some demo documents did not sync; see above."))
        return 0 if ok else 1

    # -- interactive -----------------------------------------------------------------------------------
    def run_interactive(self, opts) -> None:
        manage = [sys.executable, "manage.py"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        sandbox_url = f"http://127.0.0.1:{opts['sandbox_port']}"
        children = [
            subprocess.Popen([*manage, "accounting_sync_sandbox", "--port", str(opts["sandbox_port"])], env=env),
            subprocess.Popen([*manage, "qcluster"], env=env),
            subprocess.Popen([*manage, "runserver", "--noreload", f"127.0.0.1:{opts['web_port']}"], env=env),
        ]
        try:
            self.wait_for(f"{sandbox_url}/.well-known/openid_configuration")
            password = self.demo_login()
            conn = self.prepare(sandbox_url, fresh=True)
            from ...outbox import enqueue

            enqueue(list(OutboxEntry.objects.filter(connection=conn).values_list("pk", flat=True)))
            self.stdout.write(self.style.SUCCESS(
                f"\nAdmin: http://127.0.0.1:{opts['web_port']}/admin/   login: demo / {password}\n"
                f"Sandbox: {sandbox_url}   Watching the workers sync the demo documents...\n"))
            self.watch(conn, opts["timeout"])
            self.report(conn)
            self.stdout.write("\nEverything keeps running: edit an invoice in the admin and watch it sync. "
                              "Ctrl-C stops the sandbox, the workers and the web server.")
            while all(child.poll() is None for child in children):
                time.sleep(1)
            self.stderr.write("A demo process exited; stopping the others.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping...")
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGINT)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

    def wait_for(self, url: str, seconds: int = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                requests.get(url, timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise SystemExit(f"the sandbox did not start at {url}")

    def demo_login(self) -> str:
        password = secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(username="demo", defaults={"is_staff": True,
                                                                                    "is_superuser": True})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return password

    def watch(self, conn: Connection, timeout: int) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = {s: OutboxEntry.objects.filter(connection=conn, status=s).count() for s in EntryStatus.values}
            line = "  ".join(f"{EntryStatus(s).label}: {n}" for s, n in counts.items() if n)
            self.stdout.write(f"\r{line:<100}", ending="")
            self.stdout.flush()
            if not counts[EntryStatus.PENDING] and not counts[EntryStatus.IN_PROGRESS]:
                break
            time.sleep(1)
        self.stdout.write("")

"""Run the demo: a vet clinic's documents synced to the local sandbox of every registered platform.

Platforms without an API (file delivery) get their documents as export batches of their own import files, written
to --export-folder (default var/demo-exports); the platform's importer emulator imports them and its export file,
written beside them, is read back to close the documents.

Examples:
    manage.py accounting_sync_demo --once     # headless: sync, read everything back, print a table, exit 0/1
    manage.py accounting_sync_demo            # sandboxes + qcluster + web server; watch it sync; Ctrl-C stops all
    manage.py accounting_sync_demo --web-port 8001 --sandbox-port <platform>=9765
    manage.py accounting_sync_sandbox --list  # the platforms and their sandboxes' default ports
"""
import contextlib
import functools
import os
import secrets
import shutil
import signal
import subprocess  # nosec B404
import sys
import time
from pathlib import Path

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.test.utils import override_settings

from accounting_sync.management.base import ExamplesCommand
from connectors.models import Connection

from ... import tasks
from ...core import resync
from ...core.outbox import enqueue
from ...models import EntryStatus, ExternalReference, OutboxEntry
from ...staff import demo
from ...adminkit import readable


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Headless run; exit 0 only if every total matches")
        parser.add_argument("--web-port", type=int, default=8000)
        parser.add_argument("--sandbox-port", action="append", default=[], metavar="PLATFORM=PORT",
                            help="A platform sandbox's port (default: its own, see accounting_sync_sandbox --list)")
        parser.add_argument("--timeout", type=int, default=120, help="Seconds to wait for the sync to finish")
        parser.add_argument("--export-folder", default=str(Path("var") / "demo-exports"),
                            help="Where the file-delivery platforms' export batches are written")

    def handle(self, *args, **opts):
        if opts["once"]:
            sys.exit(self.run_once(opts))
        self.run_interactive(opts)

    # -- headless --------------------------------------------------------------------------------------
    def run_once(self, opts) -> int:
        sandboxes = {p: demo.sandbox_class(p)(port=0).start() for p in demo.platforms()}
        try:
            no_queue = {**settings.ACCOUNTING_SYNC, "QUEUE_TASKS": False}
            with override_settings(ACCOUNTING_SYNC=no_queue):
                conns = self.prepare({p: sb.base_url for p, sb in sandboxes.items()}, fresh=True)
                conns += self.prepare_files(opts["export_folder"], fresh=True)
                for conn in conns:
                    tasks.drain(conn.pk)
                self.deliver_files(conns, opts["export_folder"])
            return max(self.report(conn) for conn in conns)
        finally:
            for sandbox in sandboxes.values():
                sandbox.stop()

    def prepare(self, base_urls: dict[str, str], fresh: bool) -> list[Connection]:
        org = demo.demo_organization()
        if fresh:  # a new sandbox knows none of the remote ids an earlier run stored
            Connection.objects.filter(name__in=[demo.connection_name(p) for p in base_urls]).delete()
        demo.load_demo_data(org)
        conns = []
        for platform, base_url in base_urls.items():
            conn = demo.connect_to_sandbox(base_url, org, platform=platform)
            resync.queue(conn, resync.plan(conn))
            conns.append(conn)
        return conns

    def prepare_files(self, folder: str, fresh: bool) -> list[Connection]:
        """A connection per file-delivery platform, its documents queued (staged for export when they run)."""
        org = demo.demo_organization()
        platforms = demo.file_platforms()
        if fresh:  # batches are numbered per connection: an earlier run's folders would collide with the new ones
            Connection.objects.filter(name__in=[demo.connection_name(p) for p in platforms]).delete()
            for platform in platforms:
                for old in Path(folder).glob(f"{platform}-batch-*"):
                    shutil.rmtree(old)
        demo.load_demo_data(org)
        conns = []
        for platform in platforms:
            conn = demo.connect_file_platform(org, platform=platform)
            resync.queue(conn, resync.plan(conn))
            conns.append(conn)
        return conns

    def deliver_files(self, conns: list[Connection], folder: str) -> None:
        for conn in conns:
            if conn.connector_class().delivery != "file":
                continue
            written = demo.deliver_files(conn, folder)
            where = written[0].parent if written else folder
            self.stdout.write(f"{conn.platform_name}: {len(written)} import files written to {where} and imported "
                              "by its importer emulator; its export file beside them was read back.")

    def report(self, conn: Connection) -> int:
        rows = demo.readback(conn, demo.demo_organization())
        attention = OutboxEntry.objects.filter(connection=conn).exclude(status=EntryStatus.DONE)
        self.stdout.write(f"\n{conn.name}\n{'document':<22} {'local total':>12}  {'platform':<18} "
                          f"{'remote id':<36} {'remote total':>12}  match")
        for r in rows:
            self.stdout.write(f"{r['document']:<22} {r['local_total']:>12}  {r['platform']:<18} "
                              f"{r['remote_id']:<36} "
                              f"{str(r['remote_total'] if r['remote_total'] is not None else '-'):>12}  "
                              f"{'n/a' if r['match'] is None else 'yes' if r['match'] else 'NO'}"
                              + (f"  ({r['note']})" if r.get("note") else ""))
        for entry in attention:
            self.stdout.write(self.style.ERROR(f"not synced: {readable(entry.source_key, entry.label)}: {entry.status} "
                                               f"{entry.last_error} {entry.hint}"))
        ok = bool(rows) and all(r["match"] is not False for r in rows) and not attention.exists()
        where = "export files" if conn.connector_class().delivery == "file" else "sandbox"
        self.stdout.write(self.style.SUCCESS(f"All demo documents are in the {conn.platform_name} {where} with "
                                             "matching totals.") if ok
                          else self.style.ERROR("Some demo documents did not sync; see above."))
        return 0 if ok else 1

    # -- interactive -----------------------------------------------------------------------------------
    def run_interactive(self, opts) -> None:
        # Ctrl-C, and a SIGTERM from a supervisor, both stop everything started here (the finally below).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
        manage = [sys.executable, "manage.py"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        ports = sandbox_ports(opts["sandbox_port"])
        urls = {p: f"http://127.0.0.1:{port}" for p, port in ports.items()}
        # Each in a process group of its own: Ctrl-C reaches only this command, which stops them in order.
        start = functools.partial(subprocess.Popen, env=env, start_new_session=True)
        cluster = start([*manage, "qcluster"])
        children = [start([*manage, "accounting_sync_sandbox", "--platform", p, "--port", str(port)])
                    for p, port in ports.items()]
        children += [cluster, start([*manage, "runserver", "--noreload", f"127.0.0.1:{opts['web_port']}"])]
        try:
            for platform, url in urls.items():
                self.wait_for(f"{url}{demo.sandbox_class(platform).ready_path}")
            password = self.demo_login()
            conns = self.prepare(urls, fresh=True) + self.prepare_files(opts["export_folder"], fresh=True)
            enqueue(list(OutboxEntry.objects.filter(connection__in=conns).values_list("pk", flat=True)))
            self.stdout.write(self.style.SUCCESS(
                f"\nStart page: http://127.0.0.1:{opts['web_port']}/\n"
                f"Admin: http://127.0.0.1:{opts['web_port']}/admin/   login: demo / {password}\n"
                f"Sandboxes: {', '.join(f'{c.platform_name} {urls[c.platform]}' for c in conns if c.platform in urls)}"
                "\n"
                "Watching the workers sync the demo documents...\n"))
            self.watch(conns, opts["timeout"])
            self.deliver_files(conns, opts["export_folder"])
            for conn in conns:
                self.report(conn)
            first = conns[0]
            invoice = ExternalReference.objects.filter(connection=first, entity="invoice").order_by("-pk").first()
            self.stdout.write(
                "\nEverything keeps running: edit an invoice in the admin and watch it sync. Two-way: record a "
                f"payment in the {first.platform_name} sandbox as a bookkeeper would, and within a minute or two it "
                "appears under Ledger → Payments:\n"
                f"  curl -X POST {urls[first.platform]}/_sandbox/as-user -d '{{\"action\": \"record_payment\", "
                f"\"invoice_id\": \"{invoice.remote_id if invoice else 1}\", \"amount\": \"25.00\"}}'\n"
                "File platforms: a document saved now waits as \"ready for export\"; Admin → Connections → \"Export "
                "a batch\" makes its next batch of import files.\n"
                "Ctrl-C stops the sandboxes, the workers and the web server.")
            while all(child.poll() is None for child in children):
                time.sleep(1)
            self.stderr.write("A demo process exited; stopping the others.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping...")
        finally:
            # The workers first, while the sandboxes still answer the requests they have in flight; then the rest.
            _stop([cluster])
            _stop([child for child in children if child is not cluster])

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

    def watch(self, conns: list[Connection], timeout: int) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = {s: OutboxEntry.objects.filter(connection__in=conns, status=s).count()
                      for s in EntryStatus.values}
            line = "  ".join(f"{EntryStatus(s).label}: {n}" for s, n in counts.items() if n)
            self.stdout.write(f"\r{line:<100}", ending="")
            self.stdout.flush()
            if not counts[EntryStatus.PENDING] and not counts[EntryStatus.IN_PROGRESS]:
                break
            time.sleep(1)
        self.stdout.write("")


def sandbox_ports(given: list[str]) -> dict[str, int]:
    """Every demo platform's sandbox port: its default unless ``PLATFORM=PORT`` names another."""
    ports = {p: demo.sandbox_class(p).default_port for p in demo.platforms()}
    for item in given:
        platform, _, port = item.partition("=")
        if platform not in ports or not port.isdigit():
            raise CommandError(f"--sandbox-port takes PLATFORM=PORT with a platform among {', '.join(ports)}, "
                               f"not “{item}”")
        ports[platform] = int(port)
    return ports


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _stop(processes, seconds: float = 15) -> None:
    """SIGTERM each, wait, then SIGKILL whatever is left of its process group (a cluster's workers too)."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + seconds
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):  # the group outlives its leader: orphans go with it
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

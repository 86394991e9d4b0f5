"""The host check's in-process part, run by ``.ci/host_check.sh`` inside the host's virtualenv.

    python smoke.py platforms                      # "<platform> <sandbox package> <ready path>" per platform
    python smoke.py wait URL PID                   # until the sandbox answers at URL (PID: its process)
    python smoke.py sync qbo=http://127.0.0.1:N …  # one invoice to each running sandbox, read back
    python smoke.py render                         # every admin page and the mapping editor, as a superuser

Exits non-zero, naming what failed, on the first problem of a step; a missing template raises
TemplateDoesNotExist out of the test client and fails the run.
"""
from __future__ import annotations

import ast
import datetime as dt
import importlib
import importlib.metadata
import os
import re
import sys
import sysconfig
from decimal import Decimal as D
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostsite.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

APPS = ("accounting_sync", "connectors", "mappings", "ledger")
DIST = "django-accounting-sync"


def fail(message: str) -> None:
    print(f"HOST CHECK FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def installed() -> None:
    """The apps come from this virtualenv's site-packages, never from a source tree, and say their version."""
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    for name in APPS:
        where = Path(importlib.import_module(name).__file__).resolve()
        if site not in where.parents:
            fail(f"{name} is imported from {where.parent}, not from the installed package in {site}")
    import accounting_sync

    version = importlib.metadata.version(DIST)
    if getattr(accounting_sync, "__version__", None) != version:
        fail(f"accounting_sync.__version__ is {getattr(accounting_sync, '__version__', None)!r}, "
             f"the installed distribution {version!r}")
    description = importlib.metadata.metadata(DIST).get_payload() or ""
    if f"## {version}" not in description:
        fail(f"the installed metadata carries no changelog entry '## {version}'")
    unused = sorted(set(runtime_requirements()) - imported_distributions(site))
    if unused:
        fail(f"runtime dependencies the installed apps never import (test-only? an extra?): {unused}")
    print(f"installed: {DIST} {version} from {site}; each runtime dependency is imported by the apps")


def runtime_requirements() -> list[str]:
    """Our distribution's dependencies outside any extra, as normalised project names."""
    found = []
    for requirement in importlib.metadata.requires(DIST) or []:
        if "extra ==" not in requirement:
            found.append(_normalise(re.split(r"[\s\[<>=!~;(]", requirement, maxsplit=1)[0]))
    return found


def imported_distributions(site: Path) -> set[str]:
    """The distributions whose top-level modules the installed apps import anywhere (module level or inside)."""
    modules: set[str] = set()
    for app in APPS:
        for path in (site / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_bytes())):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    owners = importlib.metadata.packages_distributions()
    return {_normalise(dist) for module in modules for dist in owners.get(module, [])}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def platforms() -> None:
    from accounting_sync.staff import demo
    from connectors import registry

    for platform in demo.platforms():
        package = registry.get(platform).sandbox_class.rpartition(".")[0]
        print(platform, package, demo.sandbox_class(platform).ready_path)


def wait(url: str, pid: str, seconds: float = 30) -> None:
    """Until the sandbox at ``url`` answers (any HTTP status); fails if its process ``pid`` ends first."""
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                fail(f"the sandbox process ended before {url} answered")
            time.sleep(0.1)
    fail(f"no answer from {url} in {seconds:.0f} s")


def sync(pairs: list[str]) -> None:
    """Connect to each sandbox, save one invoice the way a host does, send it, read it back."""
    from django.db import transaction

    from accounting_sync.staff import demo
    from accounting_sync import tasks
    from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
    from accounting_sync.core.sources import key_for
    from ledger import models as L

    urls = dict(pair.split("=", 1) for pair in pairs)
    if not urls:
        fail("no sandbox to sync to")
    org = L.Organization.objects.create(slug="host-check", name="Host Check Repairs")
    gst = L.TaxRate.objects.create(organization=org, name="GST 10%", rate=D("10"), jurisdiction="Federal")
    no_queue = {**settings.ACCOUNTING_SYNC, "QUEUE_TASKS": False}
    with override_settings(ACCOUNTING_SYNC=no_queue):
        conns = [demo.connect_to_sandbox(url, org, platform=platform, name=f"Host check {platform}")
                 for platform, url in urls.items()]
        with transaction.atomic():  # as a host saves: the receivers record the change in this transaction
            customer = L.Customer.objects.create(organization=org, name="Sam Rivera", email="sam@example.com")
            item = L.Item.objects.create(organization=org, name="Bench repair", kind="service",
                                         unit_price=D("120.00"), tax_rate=gst)
            invoice = L.Invoice.objects.create(organization=org, customer=customer, number="HC-1",
                                               due_date=dt.date.today() + dt.timedelta(days=14))
            L.InvoiceLine.objects.create(invoice=invoice, position=0, kind="service", item=item,
                                         quantity=D("1.5"), unit_price=D("120.00"), tax_rate=gst)
        for conn in conns:
            tasks.drain(conn.pk)
    total = invoice.totals().total
    for conn in conns:
        left = OutboxEntry.objects.filter(connection=conn).exclude(status=EntryStatus.DONE)
        if left.exists():
            fail(f"{conn.platform}: not synced: " + "; ".join(f"{e.label or e.source_key}: {e.status} "
                                                              f"{e.last_error} {e.hint}" for e in left))
        ref = ExternalReference.objects.filter(connection=conn, source_key=key_for(invoice)).first()
        if ref is None:
            fail(f"{conn.platform}: the invoice has no external reference after the sync")
        remote = conn.connector().fetch("invoice", ref.remote_id)
        if remote is None or remote.total != total:
            fail(f"{conn.platform}: invoice {ref.remote_id} reads back with total "
                 f"{getattr(remote, 'total', None)}, expected {total}")
        print(f"synced: invoice HC-1 to {conn.platform_name} as {ref.remote_id}, total {remote.total} matches")


def render() -> None:
    """Every admin index, changelist, add and change page, and the mapping editor, as a superuser: all 200."""
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from accounting_sync.core.sources import key_for
    from connectors.models import Connection
    from ledger.models import Invoice

    setup_test_environment()  # records the templates each response used
    user = get_user_model().objects.create_superuser("host-admin", "admin@example.com", "not-a-secret")
    client = Client()
    client.force_login(user)
    pages = [reverse("admin:index")]
    for label in sorted({model._meta.app_label for model in admin.site._registry}):
        pages.append(reverse("admin:app_list", args=[label]))
    request = _request(user)
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda kv: kv[0]._meta.label):
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model_admin.has_add_permission(request):
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        first = model_admin.get_queryset(request).order_by("pk").first()  # one the admin lists
        if first is not None:
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
    invoice = Invoice.objects.order_by("pk").first()
    editors = []
    for conn in Connection.objects.order_by("pk"):
        editor = reverse("admin:connectors_connection_mappings", args=[conn.pk])
        editors += [editor, f"{editor}?document={key_for(invoice)}" if invoice else editor]
    if not editors:
        fail("no connection to open the mapping editor for (run the sync step first)")
    failed = []
    used: set[str] = set()
    for url in pages + editors:
        response = client.get(url)  # a missing template raises TemplateDoesNotExist here
        if response.status_code != 200:
            failed.append(f"{url}: {response.status_code}")
        used.update(t.name for t in response.templates if t.name)
    for name in ("mappings/editor.html", "mappings/pick.html"):
        if name not in used:
            failed.append(f"the mapping editor did not render {name}")
    if failed:
        fail("pages that did not render:\n  " + "\n  ".join(failed))
    print(f"rendered: {len(pages)} admin pages and {len(editors)} mapping editor pages, all 200")


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


if __name__ == "__main__":
    step, args = (sys.argv[1] if len(sys.argv) > 1 else ""), sys.argv[2:]
    if step == "platforms":
        platforms()
    elif step == "wait":
        wait(*args)
    elif step == "sync":
        installed()
        sync(args)
    elif step == "render":
        render()
    else:
        fail(f"usage: smoke.py platforms | wait URL PID | sync PLATFORM=URL ... | render (not {step!r})")

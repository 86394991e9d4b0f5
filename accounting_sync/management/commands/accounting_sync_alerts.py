"""Alerts: evaluate now, send the daily digest now, or list incidents (see docs/alerts.md).

Without an option it lists the open incidents. Evaluating is safe beside the scheduled evaluation and from
several hosts at once: an incident is opened, and announced, once. The scheduled evaluation runs inside the
task queue, so it cannot report the queue itself stopping: run --evaluate from cron too for that.

Examples:
    manage.py accounting_sync_alerts
    manage.py accounting_sync_alerts --list --all
    manage.py accounting_sync_alerts --evaluate
    manage.py accounting_sync_alerts --digest
    */5 * * * * manage.py accounting_sync_alerts --evaluate     (crontab)
"""
from django.utils import timezone

from accounting_sync.management.base import ExamplesCommand

from ...alerts import digest, engine
from ...alerts.models import Incident


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--evaluate", action="store_true",
                            help="Look for problems now: open, update and resolve incidents, deliver due notices")
        parser.add_argument("--digest", action="store_true", help="Email the daily digest now")
        parser.add_argument("--list", action="store_true", help="List open incidents (the default)")
        parser.add_argument("--all", action="store_true", help="With --list: resolved incidents too (the last 50)")

    def handle(self, *args, **opts):
        if opts["evaluate"]:
            self.stdout.write(f"Evaluated: {engine.evaluate()}.")
        if opts["digest"]:
            sent = digest.send_digest()
            self.stdout.write(f"Digest: {sent} email{'' if sent == 1 else 's'} sent.")
        if opts["list"] or opts["all"] or not (opts["evaluate"] or opts["digest"]):
            self.list(opts["all"])

    def list(self, everything: bool) -> None:
        found = Incident.objects.select_related("connection")
        found = found.order_by("-opened_at", "-pk")[:50] if everything else found.filter(resolved_at__isnull=True)
        now = timezone.now()
        rows = list(found)
        if not rows:
            self.stdout.write("No incidents." if everything else "No open incidents.")
            return
        for incident in rows:
            state = "OPEN" if incident.is_open else f"resolved {incident.resolved_at:%Y-%m-%d %H:%M}"
            minutes = int((now - incident.opened_at).total_seconds() // 60)
            self.stdout.write(f"#{incident.pk} {state:<22} {incident.kind:<14} {incident.title} "
                              f"(since {incident.opened_at:%Y-%m-%d %H:%M} UTC, {minutes} min)")
            if incident.is_open and incident.hint:
                self.stdout.write(f"    {incident.hint}")
            if incident.delivery_error:
                self.stdout.write(f"    notices: {incident.delivery_error}")

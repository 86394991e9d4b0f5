"""Show each connection's health: pending, failed and needs-attention counts, last success, token expiry.

Examples:
    manage.py accounting_sync_status
    manage.py accounting_sync_status --json
"""
from accounting_sync.management.base import ExamplesCommand
import json


from ...staff.status import connection_health, stalled


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Machine-readable output")

    def handle(self, *args, **opts):
        rows = connection_health()
        if opts["json"]:
            self.stdout.write(json.dumps(rows, default=str, indent=2))
            return
        if not rows:
            self.stdout.write("No connections yet. Add one in the admin (Connections).")
            return
        header = (f"{'connection':<30} {'platform':<8} {'status':<13} {'pending':>7} {'attn':>5} {'failed':>6} "
                  f"{'synced':>6}  last success")
        self.stdout.write(header)
        for r in rows:
            self.stdout.write(f"{r['name'][:30]:<30} {r['platform']:<8} {r['status']:<13} {r['pending']:>7} "
                              f"{r['needs_attention']:>5} {r['failed']:>6} {r['synced']:>6}  "
                              f"{r['last_success'] or '-'}")
            if r["status_message"]:
                self.stdout.write(f"    {r['status_message']}")
            note = stalled(r["waiting_changes"], r["oldest_waiting_change"])
            if note:
                self.stdout.write(f"    {note}")
            self.stdout.write(f"    {metrics_line(r['metrics'])}")
            for reason, count in sorted(r["held"]["waiting"].items()):
                self.stdout.write(f"    held: {count} {'document' if count == 1 else 'documents'} {reason}")
            batch = r["held"]["next_batch"]
            if batch:
                self.stdout.write(f"    next batch: {batch['documents']} "
                                  f"{'document' if batch['documents'] == 1 else 'documents'} at "
                                  f"{batch['at']:%Y-%m-%d %H:%M} UTC")


def metrics_line(found: dict) -> str:
    """The three metrics in one line (``--json`` carries them with their definitions)."""
    accuracy, timing = found["sync_accuracy_rate"], found["time_to_reconcile"]
    rate = "-" if accuracy["value"] is None else f"{accuracy['value']:.1%} ({accuracy['clean']}/{accuracy['reached']})"
    spent = "-" if timing["median_s"] is None else f"median {timing['median_s']:.0f} s, p95 {timing['p95_s']:.0f} s"
    months = found["errors_prevented"]["per_month"]
    latest = f"{max(months)}: {months[max(months)]['total']}" if months else "-"
    return f"sync accuracy {rate}; time to reconcile {spent}; errors prevented {latest}"

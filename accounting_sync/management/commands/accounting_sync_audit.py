"""Check the audit trail's hash chain, or export it for an auditor.

There is one chain per connection, one ("global") for records without a connection, and the closed "legacy"
chain of records written before chains were split. ``verify`` walks every record of every chain: one edited,
deleted or moved, a chain cut short or deleted whole, is named with its chain, and the exit status is 1. ``export``
writes the records of a period of all chains, by time then chain and position, with their hashes; each record's
hash is sha256 over the canonical JSON of its fields followed by the previous record's hash in its chain (see
docs/architecture.md, "Audit trail"), so the export can be checked on its own.

Examples:
    manage.py accounting_sync_audit verify
    manage.py accounting_sync_audit export --since 2026-11-01 --until 2026-12-01 --format csv > trail.csv
    manage.py accounting_sync_audit export --since 2026-11-01 --format json --output trail-november.json
    manage.py accounting_sync_audit --user alice verify          # as alice (needs view_audit)
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import sys

from accounting_sync.management.base import ExamplesCommand

from ... import audit

RECIPE = ("sha256 over the canonical JSON of each record without prev_hash and hash (and without chain in the legacy "
          "chain), followed by prev_hash, the hash of the record before it in its chain")


def moment(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        self.add_user_argument(parser, "view_audit")
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Check every record and the chain; exit 1 if anything was changed")
        self.add_progress_argument(verify)
        export = sub.add_parser("export", help="Write a period's records (CSV or JSON)")
        export.add_argument("--since", type=moment, help="From this date or ISO date-time (inclusive)")
        export.add_argument("--until", type=moment, help="Until this date or ISO date-time (exclusive)")
        export.add_argument("--format", choices=("csv", "json"), default="csv")
        export.add_argument("--output", help="File to write (default: stdout)")

    def handle(self, *args, **opts):
        self.acting_user(opts, "view_audit")
        if opts["action"] == "verify":
            return self.verify(opts)
        # a file of its own, or the command's output (not ours to close): closed below, not by a with block
        out = open(opts["output"], "w", newline="", encoding="utf-8") if opts["output"] else self.stdout._out  # noqa: SIM115
        try:
            count = self.export(out, opts["since"], opts["until"], opts["format"])
        finally:
            if opts["output"]:
                out.close()
        self.stderr.write(f"{count} records exported.")

    def verify(self, opts) -> None:
        count = audit.AuditRecord.objects.count()
        with self.progress(opts, count, "Checking the audit trail") as bar:
            problems = audit.verify(progress=bar)
        chains = audit.AuditHead.objects.count()
        if not problems:
            plural = "s" if chains != 1 else ""
            self.stdout.write(f"The audit trail is intact: {count} records in {chains} chain{plural}, every chain "
                              "unbroken.")
            return
        for problem in problems:
            self.stdout.write(str(problem))
        self.stdout.write(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {count} records.")
        sys.exit(1)

    @staticmethod
    def export(out, since, until, fmt: str) -> int:
        count = 0
        if fmt == "csv":
            writer = csv.DictWriter(out, fieldnames=audit.EXPORT_FIELDS)
            writer.writeheader()
            for row in audit.records(since, until):
                writer.writerow({**row, "detail": json.dumps(row["detail"], sort_keys=True, ensure_ascii=False)})
                count += 1
            return count
        out.write(json.dumps({"hash_recipe": RECIPE})[:-1] + ',\n "records": [')
        for row in audit.records(since, until):
            out.write(("," if count else "") + "\n  " + json.dumps(row, ensure_ascii=False, default=str))
            count += 1
        out.write("\n]}\n")
        return count

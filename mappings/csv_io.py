"""A connection's mapping set as CSV, for moving it between environments and for review by an accountant.

Columns: ``organization`` (slug, empty for a connection-wide rule), ``kind``, ``scope``, ``local_value``,
``remote_id``, ``remote_name``. Other columns are ignored. ``remote_name`` is a note for people, stored as given
(the editor and the GL preview show the platform's current name).

An import checks every row before it writes anything: known kind and scope (and a scope resolution consults for
that kind), an organization the connection serves, and a platform id among the platform's active accounts of a
fitting kind or its tax codes (rules of a platform's optional dimensions are typed in and checked by the
dimension's own rule). Any error refuses the whole file. Then it **merges** by default: a row whose
(organization, kind, scope, local value) matches a rule updates that rule, other rows add rules, rules the file
does not list stay. **Replace** also deletes the connection's rules the file does not list, so the connection
ends up with exactly the file's set.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction

from connectors.base import ReferenceData
from ledger.models import Organization

from .choices import free_text_problem, is_free_text, kinds_for, remote_options, target
from .models import Mapping as Rule
from .models import Scope
from .resolve import candidates, describe

COLUMNS = ("organization", "kind", "scope", "local_value", "remote_id", "remote_name")


class ImportRefused(Exception):
    """Raised by ``import_rules`` when any row is wrong; ``errors`` names each one by its line in the file."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Row:
    line: int
    organization: Organization | None
    kind: str
    scope: str
    local_value: str
    remote_id: str
    remote_name: str

    @property
    def key(self) -> tuple:
        return (self.organization.pk if self.organization else None, self.kind, self.scope, self.local_value)


@dataclass
class ImportResult:
    added: list[Rule] = field(default_factory=list)
    changed: list[Rule] = field(default_factory=list)
    deleted: list[Rule] = field(default_factory=list)  # no longer in the database; kept for the admin log
    unchanged: int = 0

    def __str__(self) -> str:
        return (f"{len(self.added)} added, {len(self.changed)} changed, {len(self.deleted)} deleted, "
                f"{self.unchanged} unchanged")


def export_rules(connection) -> str:
    """Every rule of ``connection`` as CSV text, connection-wide rules first, in a stable order."""
    rules = Rule.objects.filter(connection=connection).select_related("organization")
    rows = sorted(([r.organization.slug if r.organization else "", r.kind, r.scope, r.local_value, r.remote_id,
                    r.remote_name] for r in rules), key=lambda row: row[:4])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def read_rows(connection, text: str, reference: ReferenceData) -> tuple[list[Row], list[str]]:
    """Parse and check every row: ``(rows, errors)``; line numbers count the header as line 1."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [f"line 1: the header must name the columns {', '.join(COLUMNS)} (missing: {', '.join(missing)})"]
    organizations = {o.slug: o for o in connection.organizations.all()}
    rows: list[Row] = []
    errors: list[str] = []
    seen: dict[tuple, int] = {}
    for record in reader:
        line = reader.line_num
        if None in record.values() or None in record:
            errors.append(f"line {line}: expected {len(reader.fieldnames)} columns")
            continue
        values = {c: record[c].strip() for c in COLUMNS}
        problems = _check(connection.platform, values, organizations, reference)
        if problems:
            errors += [f"line {line}: {p}" for p in problems]
            continue
        row = Row(line, organizations.get(values["organization"]), values["kind"], values["scope"],
                  values["local_value"], values["remote_id"], values["remote_name"])
        if row.key in seen:
            errors.append(f"line {line}: repeats the rule of line {seen[row.key]}")
            continue
        seen[row.key] = line
        rows.append(row)
    if not rows and not errors:
        errors.append("the file has no rules")
    return rows, errors


def _check(platform: str, values: dict[str, str], organizations: dict[str, Organization],
           reference: ReferenceData) -> list[str]:
    kind, scope, local_value, remote_id = values["kind"], values["scope"], values["local_value"], values["remote_id"]
    if kind not in kinds_for(platform):
        return [f"unknown kind “{kind}” (use {', '.join(kinds_for(platform))})"]
    if scope not in Scope.values:
        return [f"unknown scope “{scope}” (use {', '.join(Scope.values)})"]
    problems = []
    if scope not in candidates(platform, kind):
        problems.append(f"a {kind} rule by {scope} is never used ({kind} rules use "
                        f"{', '.join(candidates(platform, kind))})")
    elif scope == Scope.DEFAULT and local_value:
        problems.append("a default rule takes no local_value")
    elif scope != Scope.DEFAULT and not local_value:
        problems.append(f"a {scope} rule needs a local_value")
    slug = values["organization"]
    if slug and slug not in organizations:
        known = ", ".join(sorted(organizations)) or "none"
        problems.append(f"organization “{slug}” is not one of this connection's organizations ({known})")
    if not remote_id:
        problems.append("remote_id is empty")
    elif is_free_text(platform, kind):
        if problem := free_text_problem(platform, kind, remote_id):
            problems.append(problem)
    elif remote_id not in remote_options(kind, reference):
        problems.append(f"“{remote_id}” is not an active {target(platform, kind)} on the platform "
                        f"(for {describe(scope, local_value)}; refresh the platform's lists if it is new)")
    return problems


@transaction.atomic
def apply_rows(connection, rows: list[Row], *, replace: bool = False) -> ImportResult:
    """Write checked rows: merge into the connection's rules, or ``replace`` them."""
    result = ImportResult()
    existing = {(r.organization_id, r.kind, r.scope, r.local_value): r
                for r in Rule.objects.select_for_update().filter(connection=connection)}
    for row in rows:
        rule = existing.pop(row.key, None)
        if rule is None:
            result.added.append(Rule.objects.create(
                connection=connection, organization=row.organization, kind=row.kind, scope=row.scope,
                local_value=row.local_value, remote_id=row.remote_id, remote_name=row.remote_name))
        elif (rule.remote_id, rule.remote_name) != (row.remote_id, row.remote_name):
            rule.remote_id, rule.remote_name = row.remote_id, row.remote_name
            rule.save(update_fields=["remote_id", "remote_name", "updated_at"])
            result.changed.append(rule)
        else:
            result.unchanged += 1
    if replace and existing:
        result.deleted = list(existing.values())
        Rule.objects.filter(pk__in=[r.pk for r in result.deleted]).delete()
    return result


def import_rules(connection, text: str, reference: ReferenceData, *, replace: bool = False) -> ImportResult:
    """Check the whole file, then write it; raises ``ImportRefused`` (nothing written) if any row is wrong."""
    rows, errors = read_rows(connection, text, reference)
    if errors:
        raise ImportRefused(errors)
    return apply_rows(connection, rows, replace=replace)

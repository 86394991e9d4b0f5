"""The mapping editor: one admin page per connection to write, check and move its mapping rules.

``/admin/connectors/connection/<id>/mappings/`` shows the platform's lists (with "Refresh from platform"), every
rule of the connection by kind (add, change, delete on one page), "which rule applies and why" for a chosen
document with its GL preview, and CSV import; ``.../mappings/export/`` downloads the set as CSV.

Stale rules (see ``drift``) are listed at the top and marked in their rows; a link from the dashboard marks the
row to fix (``?fix=<rule id>``) or fills in the blank row to add (``?add=<kind>&applies_to=<scope:value>``). After
a save or an import, the entries that waited for a stale rule and no longer do are queued again.

It lives in ``accounting_sync`` because it needs the platform's reference data (``preflight``) and the source
adapters; ``mappings`` (forms, choices, resolution, CSV) must not import ``accounting_sync``. Every change is
permission-checked (``mappings.change_mapping`` for the page; add / delete for adding and deleting rules) and
written to the admin log.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify

from connectors.models import Connection
from ledger import models as L
from mappings import csv_io
from mappings.forms import ORGANIZATION_NOTE, EditorChoices, ImportForm, Section, sections
from mappings.models import Mapping, MappingKind
from mappings.resolve import Decision, describe, explain

from ..core import sources
from ..models import EntryStatus, OutboxEntry
from ..permissions import EDIT_MAPPINGS, VIEW_MAPPINGS, any_allowed, require
from ..policies import drift
from ..policies.preflight import editor_url
from ..policies.reference import platform_lists
from ..policies.rules import apply_offline
from . import glpreview


def urls(model_admin) -> list:
    """URLs to add to the Connection admin (before its own, which end in a catch-all)."""
    def view(function):
        return model_admin.admin_site.admin_view(partial(function, model_admin))

    return [
        path("<int:connection_id>/mappings/", view(editor), name="connectors_connection_mappings"),
        path("<int:connection_id>/mappings/export/", view(export), name="connectors_connection_mappings_export"),
    ]


def _require(request, *actions: str) -> None:
    if not all(request.user.has_perm(f"mappings.{action}_mapping") for action in actions):
        raise PermissionDenied


def export(model_admin, request, connection_id: int) -> HttpResponse:
    conn = get_object_or_404(Connection, pk=connection_id)
    if not any_allowed(request.user, VIEW_MAPPINGS, EDIT_MAPPINGS):
        raise PermissionDenied
    response = HttpResponse(csv_io.export_rules(conn), content_type="text/csv; charset=utf-8")
    filename = f"mappings-{slugify(conn.name)}-{dt.date.today():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def editor(model_admin, request, connection_id: int):
    conn = get_object_or_404(Connection, pk=connection_id)
    require(request.user, "edit_mappings")
    here = editor_url(conn.pk)
    if request.method == "POST" and "_refresh" in request.POST:
        reference, warning = platform_lists(conn, refresh=True)
        if warning:
            messages.error(request, warning)
        else:
            messages.success(request, f"Fetched from {conn.platform_name}: {len(reference.accounts)} accounts, "
                                      f"{len(reference.tax_codes)} tax codes.")
            stale = drift.stale_rules(conn).count()
            if stale:
                messages.warning(request, f"{stale} rule{' points' if stale == 1 else 's point'} at what "
                                          f"{conn.platform_name} no longer offers (marked below); documents that "
                                          "need them wait until another account or tax code is picked.")
        return HttpResponseRedirect(here)
    reference, warning = platform_lists(conn)
    choices = EditorChoices(conn, reference)
    can_add, can_delete = (request.user.has_perm(f"mappings.{a}_mapping") for a in ("add", "delete"))
    saving = request.method == "POST" and "_save" in request.POST
    page = sections(conn, choices, request.POST if saving else None, can_add=can_add, can_delete=can_delete)
    target = _highlight(request, page)
    import_form, import_errors = ImportForm(), []
    if saving:
        if all([section.formset.is_valid() for section in page]):
            try:
                summary = _save(model_admin, request, conn, page)
            except IntegrityError:
                messages.error(request, "Two rules collided while saving (another person may have saved the same "
                                        "rule meanwhile). Nothing was saved; reload the page and try again.")
            else:
                messages.success(request, f"Mappings saved: {summary}." if summary else "Nothing changed.")
                _requeued(request, conn)
                return HttpResponseRedirect(here)
        else:
            messages.error(request, "Nothing was saved: correct the rows marked below.")
    elif request.method == "POST" and "_import" in request.POST:
        import_form = ImportForm(request.POST, request.FILES)
        done, import_errors = _import(model_admin, request, conn, import_form, reference, warning)
        if done:
            _requeued(request, conn)
            return HttpResponseRedirect(here)
    attention = reverse("admin:accounting_sync_attentionentry_changelist")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Mappings: {conn.name}", "opts": Connection._meta, "original": conn, "connection": conn,
        "reference": reference, "warning": warning, "sections": page, "organization_note": ORGANIZATION_NOTE,
        "import_form": import_form, "import_errors": import_errors,
        "export_url": reverse("admin:connectors_connection_mappings_export", args=[conn.pk]),
        "highlight": target, "stale_rules": list(drift.stale_rules(conn)),
        "paused": OutboxEntry.objects.filter(connection=conn, status=EntryStatus.NEEDS_ATTENTION,
                                             error_code=drift.STALE_CODE).count(),
        "attention_url": f"{attention}?connection__id__exact={conn.pk}",
        **_explain(conn, request, reference),
    }
    return TemplateResponse(request, "mappings/editor.html", context)


def _highlight(request, page: list[Section]) -> str:
    """The form prefix of the row the dashboard sent staff to fix: ``?fix=<rule id>`` marks that rule's row;
    ``?add=<kind>&applies_to=<scope:value>`` fills the blank row of that kind with what is missing."""
    fix, kind = request.GET.get("fix", ""), request.GET.get("add", "")
    for section in page:
        formset = section.formset
        if fix.isdigit():
            form = next((f for f in formset.initial_forms if f.instance.pk == int(fix)), None)
            if form is not None:
                return form.prefix
        elif kind == section.kind and formset.extra_forms:
            form = formset.extra_forms[0]
            applies_to = request.GET.get("applies_to", "")
            offered = {value for _, options in form.fields["applies_to"].choices if isinstance(options, list)
                       for value, _ in options}
            if applies_to in offered:
                form.initial["applies_to"] = applies_to  # an untouched prefilled row is still "unchanged"
            return form.prefix
    return ""


def _requeued(request, conn: Connection) -> None:
    """Entries that waited for a stale rule go again once no rule they use is stale."""
    count = drift.requeue_unblocked(conn)
    if count:
        messages.info(request, f"{count} entr{'y' if count == 1 else 'ies'} that waited for a fixed mapping "
                               f"{'was' if count == 1 else 'were'} queued to be sent again.")


def _save(model_admin, request, conn: Connection, page: list[Section]) -> str:
    counts = {"added": 0, "changed": 0, "deleted": 0}
    with transaction.atomic():
        for section in page:
            formset = section.formset
            rules = formset.save(commit=False)
            if formset.deleted_objects:  # first, so a row deleted and added again does not collide
                doomed = Mapping.objects.filter(pk__in=[r.pk for r in formset.deleted_objects])
                model_admin.log_deletions(request, doomed)
                counts["deleted"] += doomed.delete()[0]
            for rule in rules:
                rule.save()
            for rule in formset.new_objects:
                model_admin.log_addition(request, rule, [{"added": {}}])
            for rule, fields in formset.changed_objects:
                labels = [str(formset.forms[0].fields[f].label) for f in fields if f in formset.forms[0].fields]
                model_admin.log_change(request, rule, [{"changed": {"fields": labels}}])
            counts["added"] += len(formset.new_objects)
            counts["changed"] += len(formset.changed_objects)
        summary = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
        if summary:
            model_admin.log_change(request, conn, f"Mappings edited: {summary}")
    return summary


def _import(model_admin, request, conn, form: ImportForm, reference, warning: str) -> tuple[bool, list[str]]:
    """Import an uploaded CSV: ``(done, errors)``."""
    _require(request, "add", "change")
    if not form.is_valid():
        return False, []
    replace = form.cleaned_data["mode"] == ImportForm.REPLACE
    if replace:
        _require(request, "delete")
    if reference is None:
        return False, [f"{warning} Nothing was imported: the platform ids cannot be checked."]
    try:
        result = csv_io.import_rules(conn, form.cleaned_data["file"], reference, replace=replace)
    except csv_io.ImportRefused as exc:
        return False, exc.errors
    for rule in result.added:
        model_admin.log_addition(request, rule, "Imported from CSV")
    for rule in result.changed:
        model_admin.log_change(request, rule, "Imported from CSV")
    if result.deleted:
        model_admin.log_deletions(request, result.deleted)
    name = request.FILES["file"].name
    model_admin.log_change(request, conn, f"Mappings imported from {name} ({'replace' if replace else 'merge'}): "
                                          f"{result}")
    messages.success(request, f"Imported {name} ({'replace' if replace else 'merge'}): {result}.")
    return True, []


# -- which rule applies and why ---------------------------------------------------------------------------------
DOCUMENT_MODELS = {"invoice": L.Invoice, "credit_note": L.CreditNote, "payment": L.Payment}


class DocumentForm(forms.Form):
    entity = forms.ChoiceField(label="Document", choices=[("invoice", "Invoice"), ("credit_note", "Credit note"),
                                                          ("payment", "Payment")])
    number = forms.CharField(max_length=50)


@dataclass(frozen=True)
class Pick:
    """One decision as the page shows it."""

    remote_id: str
    name: str
    why: str
    tried: list[tuple[str, bool]]  # candidate, whether it won
    missing: str
    rule_pk: int | None
    stale: str = ""  # why the rule cannot be used now (its target is gone from the platform)


def _pick(decision: Decision | None, names: dict[str, str]) -> Pick | None:
    if decision is None:
        return None
    rule = decision.rule
    tried = [(describe(*candidate), bool(rule and (rule.scope, rule.local_value) == candidate))
             for candidate in decision.tried]
    if rule:
        tried = tried[:[won for _, won in tried].index(True) + 1]
    return Pick(rule.remote_id if rule else "", (names.get(rule.remote_id) or rule.remote_name) if rule else "",
                decision.why, tried, decision.missing, rule.pk if rule else None,
                drift.stale_reason(rule) if rule else "")


def _explain(conn: Connection, request, reference) -> dict:
    """Context for "which rule applies and why": the finder form and, for a chosen document, its explanation."""
    form = DocumentForm(request.GET if "number" in request.GET else None)
    org_ids = set(conn.organizations.values_list("pk", flat=True))
    key = request.GET.get("document", "")
    context: dict = {"document_form": form}
    if not key and form.is_valid():
        model = DOCUMENT_MODELS[form.cleaned_data["entity"]]
        found = list(model.objects.filter(organization__in=org_ids, number__iexact=form.cleaned_data["number"].strip())
                     .select_related("organization"))
        if len(found) == 1:
            key = sources.key_for(found[0])
        elif found:
            context["document_choices"] = [(sources.key_for(d), f"{d} ({d.organization})") for d in found]
        else:
            context["document_error"] = (f"No {form.cleaned_data['entity'].replace('_', ' ')} numbered "
                                         f"“{form.cleaned_data['number']}” in this connection's organizations.")
    if not key:
        return context
    try:
        adapter, obj = sources.load(key)
    except LookupError as exc:
        return {**context, "document_error": str(exc)}
    if obj is None or adapter.organization_id(obj) not in org_ids:
        return {**context, "document_error": f"{key} is not a document of this connection's organizations."}
    snapshot = apply_offline(conn, adapter.snapshot(obj))  # as the connection sends it: tax line, hierarchy
    if snapshot is None:
        return {**context, "document_error": "This account is not sent on its own: its documents go to its "
                                             "parent's customer (the connection's hierarchy is “combined”)."}
    explanation = explain(conn, snapshot)
    accounts = reference.accounts if reference else {}
    codes = reference.tax_codes if reference else {}
    lines = [{"decided": d, "account": _pick(d.account, accounts), "tax": _pick(d.tax, codes)}
             for d in explanation.lines]
    return {**context, "document": adapter.label(obj), "document_key": key, "explanation": explanation,
            "explained_lines": lines, "explained_account": _pick(explanation.account, accounts),
            "explained_account_label": MappingKind(explanation.account.kind).label if explanation.account else "",
            "journal": glpreview.journal(snapshot, explanation, reference)}

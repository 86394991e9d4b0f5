"""Forms of the mapping editor: one formset per kind of rule, for one connection, on one page.

Each row picks who it is for (an organization, or all), what it applies to (one select grouped by scope, so a
scope and its value always fit together) and the platform account or tax code (from the platform's active lists).
A row whose stored value is no longer offered keeps it, marked, until staff pick another; a changed or new row
can only pick what is offered.
"""
from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.db.models import Case, F, When

from connectors.base import ReferenceData
from ledger.models import Organization

from .choices import (decode, encode, free_text_problem, is_free_text, key_name, kinds_for, local_label,
                      local_options, remote_label, remote_options, target)
from .models import Mapping as Rule
from .models import MappingKind, Scope
from .resolve import candidates, describe, dimensions_of

SECTIONS = {
    MappingKind.INCOME_ACCOUNT: (
        "Income accounts",
        "Where each sales line's net amount goes. The most specific rule wins: item, then item category, then line "
        "kind, then the default. A line with an item and no rule uses the platform item's own income account."),
    MappingKind.DISCOUNT_ACCOUNT: ("Discount accounts", "Where discount lines go."),
    MappingKind.DEPOSIT_ACCOUNT: ("Deposit accounts", "Where payments are deposited, by payment method, else the "
                                                      "default. Only bank and deposit accounts are offered."),
    MappingKind.TAX_CODE: ("Tax codes", "The platform tax code for each local tax rate, else the default."),
    MappingKind.REFUND_ACCOUNT: ("Refund accounts", "The bank or clearing account each refund is paid from, by "
                                                    "method (card, cash, bank transfer), else the default."),
    MappingKind.EXPENSE_ACCOUNT: ("Expense accounts", "Where each expense or supplier bill line's cost goes, by cost "
                                                      "kind (return shipping, consumables, supplier, ...), else the "
                                                      "default."),
    MappingKind.PAID_FROM_ACCOUNT: ("Paid-from accounts (expenses, bill payments)", "The bank or credit card account "
                                    "an expense or a supplier bill's payment is paid from, by method, else the "
                                    "default."),
    MappingKind.JOURNAL_ACCOUNT: ("Journal accounts", "The platform account each account code of a journal entry "
                                                      "stands for. There is no default: every code needs its rule."),
    MappingKind.PAYABLE_ACCOUNT: ("Accounts payable (supplier bills)", "The accounts-payable account supplier bills "
                                  "are owed in. Optional: without a rule the platform's own accounts-payable account "
                                  "is used (a platform that has several may ask for one)."),
}
ORGANIZATION_NOTE = "For each rule, an organization's own rule wins over the connection-wide one."


def section(platform: str, kind: str) -> tuple[str, str]:
    """The editor's heading and explanation for ``kind`` rules (a platform dimension's own for its kinds)."""
    dimension = dimensions_of(platform).get(kind)
    return (dimension.section, dimension.help) if dimension else SECTIONS[kind]


def scopes_text(platform: str, kind: str) -> str:
    """``by item, item category or line kind, or as the default``."""
    scopes = [Scope(s).label.lower() for s in candidates(platform, kind) if s != Scope.DEFAULT]
    listed = ", ".join(scopes[:-1]) + f" or {scopes[-1]}" if len(scopes) > 1 else scopes[0]
    return f"by {listed}, or as the default" if Scope.DEFAULT in candidates(platform, kind) else f"by {listed}"


class EditorChoices:
    """Everything the rows of one page pick from, computed once per page."""

    def __init__(self, connection, reference: ReferenceData | None) -> None:
        self.reference = reference
        self.platform = connection.platform
        self.organizations = list(connection.organizations.order_by("name"))
        ids = [o.pk for o in self.organizations]
        kinds = kinds_for(connection.platform)
        self.local = {kind: local_options(connection.platform, kind, ids) for kind in kinds}
        self.remote = {kind: remote_options(kind, reference) if reference else {} for kind in kinds}


class RuleForm(forms.ModelForm):
    # Plain choice fields filled from ``EditorChoices``: no query per row.
    organization = forms.ChoiceField(label="Organization", required=False)
    applies_to = forms.ChoiceField(label="Applies to")
    remote_id = forms.ChoiceField(label="Platform")

    class Meta:
        model = Rule
        fields = ["organization", "applies_to", "remote_id"]

    def __init__(self, *args, kind: str, connection, choices: EditorChoices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        rule = self.instance
        if rule.pk is None:
            rule.connection, rule.kind = connection, kind
        self.kind, self.options, self.platform = kind, choices.remote[kind], connection.platform
        self.target, self.free_text = target(self.platform, kind), is_free_text(self.platform, kind)
        self.notes: list[str] = []  # shown next to the row: what is wrong with what it holds now
        self._organization_field(choices)
        self._applies_to_field(choices)
        self._remote_field(choices)

    def _organization_field(self, choices: EditorChoices) -> None:
        self.organizations = {str(o.pk): o for o in choices.organizations}
        rule = self.instance
        if rule.organization_id and str(rule.organization_id) not in self.organizations:
            self.organizations[str(rule.organization_id)] = rule.organization
            self.notes.append("The connection no longer serves this organization: the rule is never used.")
        self.fields["organization"].choices = [("", "All organizations")] + [
            (pk, str(o)) for pk, o in self.organizations.items()]

    def clean_organization(self) -> Organization | None:
        return self.organizations.get(self.cleaned_data["organization"])

    def _applies_to_field(self, choices: EditorChoices) -> None:
        rule, groups = self.instance, choices.local[self.kind]
        current = encode(rule.scope, rule.local_value) if rule.pk else ""
        if rule.pk and current not in {value for _, options in groups for value, _ in options}:
            if rule.scope not in candidates(self.platform, self.kind):
                why = "never used for this kind"
                self.notes.append(f"{rule.kind_label} rules apply {scopes_text(self.platform, self.kind)}; a rule by "
                                  f"{Scope(rule.scope).label.lower()} is never used.")
            elif key_name(rule.scope, rule.local_value):
                why = "by its key"
            else:
                why = "not in the organizations' records"
            groups = [("Current value", [(current, f"{local_label(rule.scope, rule.local_value)} — {why}")])] + groups
        self.fields["applies_to"].choices = [("", "—")] + groups
        self.initial["applies_to"] = current

    def _remote_field(self, choices: EditorChoices) -> None:
        if self.free_text:  # typed in (see ``choices.is_free_text``)
            self.fields["remote_id"] = forms.CharField(label=self.target.capitalize(), max_length=100)
            return
        rule, field = self.instance, self.fields["remote_id"]
        offered = sorted(((pk, remote_label(pk, name)) for pk, name in self.options.items()),
                         key=lambda option: option[1].casefold())
        if rule.pk and rule.remote_id not in self.options:
            offered.insert(0, (rule.remote_id, f"{remote_label(rule.remote_id, rule.remote_name)} — not offered"))
            if choices.reference is not None:
                self.notes.append(f"The platform does not offer this {self.target} (archived, deleted, or of "
                                  "another type): pick another.")
        field.choices = [("", "—")] + offered
        field.label = self.target.capitalize()

    def clean(self):
        data = super().clean()
        if data.get("applies_to"):
            self.instance.scope, self.instance.local_value = decode(data["applies_to"])
        if data.get("remote_id") in self.options:
            self.instance.remote_name = self.options[data["remote_id"]]
        if self.free_text and data.get("remote_id"):
            data["remote_id"] = data["remote_id"].strip()
            if problem := free_text_problem(self.platform, self.kind, data["remote_id"]):
                self.add_error("remote_id", problem[0].upper() + problem[1:] + ".")
        return data


class BaseRuleFormSet(forms.BaseModelFormSet):
    """The rules of one kind; two rows may not say the same thing."""

    def clean(self) -> None:
        super().clean()
        seen: set[tuple] = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("applies_to"):
                continue
            organization = data.get("organization")
            key = (organization.pk if organization else None, data["applies_to"])
            if key in seen:
                scope, value = decode(data["applies_to"])
                who = f"for {organization}" if organization else "connection-wide"
                form.add_error("applies_to", f"Another row already maps {describe(scope, value)} {who}.")
            seen.add(key)


@dataclass
class Section:
    kind: str
    title: str
    help: str
    formset: BaseRuleFormSet


def sections(connection, choices: EditorChoices, data=None, *, can_add: bool = True,
             can_delete: bool = True) -> list[Section]:
    """One formset per kind of rule, rows ordered most general first."""
    result = []
    for kind in kinds_for(connection.platform):
        scopes = candidates(connection.platform, kind)
        order = Case(*[When(scope=s, then=i) for i, s in enumerate(reversed(scopes))], default=9)
        queryset = (Rule.objects.filter(connection=connection, kind=kind).select_related("organization")
                    .order_by(order, F("organization__name").asc(nulls_first=True), "local_value"))
        formset_class = forms.modelformset_factory(Rule, form=RuleForm, formset=BaseRuleFormSet,
                                                   extra=1 if can_add else 0, edit_only=not can_add,
                                                   can_delete=can_delete)
        formset = formset_class(data, queryset=queryset, prefix=kind,
                                form_kwargs={"kind": kind, "connection": connection, "choices": choices})
        title, help_text = section(connection.platform, kind)
        result.append(Section(kind, title, help_text, formset))
    return result


class ImportForm(forms.Form):
    MERGE, REPLACE = "merge", "replace"

    file = forms.FileField(label="CSV file", help_text="Columns: organization, kind, scope, local_value, remote_id, "
                                                       "remote_name (as the download above).")
    mode = forms.ChoiceField(
        widget=forms.RadioSelect, initial=MERGE, choices=[
            (MERGE, "Merge: add the file's rules and update matching ones; keep rules the file does not list"),
            (REPLACE, "Replace: make the connection's rules exactly the file's (rules it does not list are deleted)")])

    def clean_file(self) -> str:
        try:
            return self.cleaned_data["file"].read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                "The file is not UTF-8 text; save it from the spreadsheet as “CSV UTF-8”.") from exc

"""The connection form as staff use it: the platform picked from the registry, the entities as checkboxes (only
those the platform can sync are accepted), and the platform's settings as typed fields.

A platform's settings are the keys of its connector's ``default_settings``: each becomes a field of the type of its
default (a tick box for true/false, a whole number, text; an address for keys ending in ``_url`` or ``api_base``),
empty meaning "the platform's default". Keys a connection holds that its platform does not declare (kept from an
older version, or set by the demo) stay in "Other settings", a JSON object. The typed fields belong to the platform
the connection was saved with: a new connection is saved with its platform first, then its settings are filled in.
"""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.html import format_html, format_html_join

from . import registry
from .documents import Entity
from .models import LAB_PRESET, OPERATIONS, Connection, Direction, Flow

PREFIX = "setting__"
ENTITY_LABELS = {Entity.CUSTOMER: "Customers", Entity.ITEM: "Products and services", Entity.INVOICE: "Invoices",
                 Entity.PAYMENT: "Payments", Entity.CREDIT_NOTE: "Credit notes", Entity.REFUND: "Refunds",
                 Entity.EXPENSE: "Expenses", Entity.JOURNAL: "Journal entries"}


class SyncTableWidget(forms.Widget):
    """The sync table: a row per entity, a column per operation, a select per cell (as the direction says / out /
    in / both / none). Its value is ``{entity: {operation: flow}}`` with only the cells that were set."""

    CHOICES = [("", "as the direction")] + [(value, label) for value, label in Flow.choices]

    def render(self, name, value, attrs=None, renderer=None):
        value = value or {}

        def cell(entity, op):
            current = (value.get(entity) or {}).get(op, "")
            options = format_html_join("", '<option value="{}"{}>{}</option>', (
                (v, " selected" if v == current else "", label) for v, label in self.CHOICES))
            return format_html('<td><select name="{}__{}__{}" aria-label="{} {}">{}</select></td>', name, entity, op,
                               ENTITY_LABELS[entity], op, options)

        rows = format_html_join("", "<tr><th>{}</th>{}</tr>", (
            (ENTITY_LABELS[e], format_html_join("", "{}", ((cell(e, op),) for op in OPERATIONS))) for e in Entity.ALL))
        head = format_html_join("", "<th>{}</th>", ((op,) for op in OPERATIONS))
        return format_html('<table class="sync-table"><thead><tr><th></th>{}</tr></thead><tbody>{}</tbody></table>',
                           head, rows)

    def value_from_datadict(self, data, files, name):
        table = {}
        for entity in Entity.ALL:
            for op in OPERATIONS:
                flow = data.get(f"{name}__{entity}__{op}", "")
                if flow:
                    table.setdefault(entity, {})[op] = flow
        return table


class SyncTableField(forms.Field):
    widget = SyncTableWidget

    def clean(self, value):
        value = value or {}
        for entity, ops in value.items():
            for op, flow in ops.items():
                if entity not in Entity.ALL or op not in OPERATIONS or flow not in Flow.values:
                    raise ValidationError(f"{entity} {op}: {flow!r} is not a direction.")
        return value


def _is_address(key: str) -> bool:
    return key.endswith("_url") or key == "api_base"


def setting_field(key: str, default) -> forms.Field:
    """A form field for one of a platform's settings, typed after its default value."""
    label = key.replace("_", " ").capitalize()
    shown = "" if default in ("", None) else f" Default: {default}."
    if isinstance(default, bool):
        return forms.TypedChoiceField(
            label=label, required=False, coerce=lambda v: {"true": True, "false": False}.get(v, ""),
            empty_value="", choices=[("", f"Platform default ({'yes' if default else 'no'})"), ("true", "Yes"),
                                     ("false", "No")])
    if isinstance(default, int):
        return forms.IntegerField(label=label, required=False, min_value=1, help_text=f"A whole number.{shown}")
    if _is_address(key):
        return forms.CharField(label=label, required=False, validators=[URLValidator(schemes=["http", "https"])],
                               help_text=f"An http(s) address.{shown}", widget=forms.URLInput(attrs={"size": 60}))
    return forms.CharField(label=label, required=False, max_length=500, help_text=shown.strip() or None)


def declared_settings(platform: str) -> dict:
    try:
        return dict(registry.get(platform).default_settings)
    except LookupError:
        return {}


def setting_names(platform: str) -> list[str]:
    return [PREFIX + key for key in declared_settings(platform)]


class BaseConnectionForm(forms.ModelForm):
    """Everything but the platform's typed settings (``connection_form`` adds those)."""

    platform = forms.ChoiceField(choices=(), help_text="The accounting platform this connection sends to.")
    entities = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, required=False,
        choices=[(e, ENTITY_LABELS[e]) for e in Entity.ALL],
        help_text="What this connection syncs; the platform must be able to sync each one.")
    sync_preset = forms.ChoiceField(
        required=False, label="Sync table preset", choices=[("", "---------"), ("lab", "The lab system's table")],
        help_text="Fills in the table below when saved (customers and products out when created, invoices both "
                  "ways, credit notes out, payments both ways).")
    sync_table = SyncTableField(
        required=False, label="Sync table",
        help_text="Which way each operation goes, per entity. Cells left “as the direction” follow the direction "
                  "above; with every cell so, the connection simply follows its direction. What comes in: changes "
                  "and deletions made on the platform (documents created there are not taken in yet).")
    other_settings = forms.JSONField(
        required=False, label="Other settings (JSON)", initial=dict,
        help_text="Settings the platform does not declare, as a JSON object (kept as they are).")
    client_secret_input = forms.CharField(
        label="Client secret", required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted. Leave empty to keep the current secret.")

    declared: dict = {}

    class Meta:
        model = Connection
        exclude = ["client_secret", "access_token", "refresh_token", "settings", "operations"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [("", "---------")] + registry.choices()
        settings = dict(self.instance.settings or {}) if self.instance.pk else {}
        for key in self.declared:
            if key in settings and PREFIX + key in self.fields:
                value = settings[key]
                self.initial[PREFIX + key] = ("true" if value else "false") if isinstance(value, bool) else value
        self.initial.setdefault("other_settings", {k: v for k, v in settings.items() if k not in self.declared})
        self.initial.setdefault("sync_table", dict(self.instance.operations or {}))
        if not self.instance.pk:
            self.fields["platform"].help_text += " Its own settings appear once the connection is saved."

    def clean_other_settings(self):
        value = self.cleaned_data.get("other_settings")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise ValidationError("Enter a JSON object, such as {\"timeout\": 30}.")
        return value

    def clean(self):
        cleaned = super().clean()
        platform = cleaned.get("platform")
        if platform:
            connector = registry.get(platform)
            able = set(connector.capabilities.entities)
            chosen = cleaned.get("entities") or []
            refused = [e for e in chosen if e not in able]
            if refused:
                self.add_error("entities", ValidationError(
                    f"{connector.name} cannot sync {', '.join(ENTITY_LABELS[e].lower() for e in refused)}; it can "
                    f"sync {', '.join(ENTITY_LABELS[e].lower() for e in Entity.ALL if e in able)}."))
            if not chosen:
                self.add_error("entities", "Choose at least one thing to sync.")
            self._clean_sync_table(cleaned)
            overlap = set(cleaned.get("other_settings") or {}) & set(self.declared)
            if overlap:
                self.add_error("other_settings", f"{', '.join(sorted(overlap))} has its own field above: set it "
                                                 "there.")
        return cleaned

    def _clean_sync_table(self, cleaned: dict) -> None:
        """The table as stored: the preset, or the cells set, completed from the direction; empty when no cell is
        set. The direction then covers the table (a table that sends makes a pull-only connection both ways)."""
        table = LAB_PRESET if cleaned.get("sync_preset") == "lab" else cleaned.get("sync_table") or {}
        direction = cleaned.get("direction") or Direction.PUSH
        if not table:
            cleaned["sync_table"] = {}
            return
        default = {Direction.PUSH: Flow.OUT, Direction.PULL: Flow.IN, Direction.BOTH: Flow.BOTH}[direction]
        full = {e: {op: (table.get(e) or {}).get(op, default) for op in OPERATIONS} for e in Entity.ALL}
        flows = {flow for ops in full.values() for flow in ops.values()}
        sends = bool(flows & {Flow.OUT, Flow.BOTH})
        receives = bool(flows & {Flow.IN, Flow.BOTH})
        cleaned["direction"] = Direction.BOTH if sends and receives else Direction.PULL if receives else Direction.PUSH
        cleaned["sync_table"] = full

    def _settings(self) -> dict:
        settings = dict(self.cleaned_data.get("other_settings") or {})
        for key in self.declared:
            value = self.cleaned_data.get(PREFIX + key)
            if value not in ("", None):
                settings[key] = value
        return settings

    def save(self, commit=True):
        self.instance.settings = self._settings()
        self.instance.operations = self.cleaned_data.get("sync_table") or {}
        self.instance.direction = self.cleaned_data.get("direction") or self.instance.direction
        if self.cleaned_data.get("client_secret_input"):
            self.instance.client_secret = self.cleaned_data["client_secret_input"]
        return super().save(commit)


def connection_form(platform: str | None, base: type[BaseConnectionForm] = BaseConnectionForm
                    ) -> type[BaseConnectionForm]:
    """The connection form with ``platform``'s settings as typed fields (none before a platform is chosen)."""
    declared = declared_settings(platform) if platform else {}
    attrs = {PREFIX + key: setting_field(key, default) for key, default in declared.items()}
    attrs["declared"] = declared
    return type(f"{(platform or 'New').title()}ConnectionForm", (base,), attrs)

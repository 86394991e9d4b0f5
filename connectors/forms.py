"""The connection form as staff use it: the platform picked from the registry, what syncs as a table of tick boxes
(a row per entity the platform can sync, an "out" and an "in" box per operation), and the platform's settings as
the typed fields its connector declares (``BaseConnector.settings_fields``).

The table is stored as it always was read: ``Connection.entities`` (the rows with a tick), ``Connection.operations``
(``{entity: {operation: out | in | both | none}}``) and ``Connection.direction`` (the one that covers the table, which
decides whether the connection pushes and polls at all). Settings a connection holds that its platform does not
declare (the shared ones such as ``rate_source`` or ``conflict_policy``, or keys kept from an older version) stay in
"Other settings", a JSON object. The form is built per platform (``connection_form``): the admin builds it for the
platform posted, else the one in the add page's address (``?platform=``), else the connection's.
"""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.html import format_html, format_html_join

from . import registry
from .base import BaseConnector, Setting
from .documents import Entity
from .models import LAB_PRESET, OPERATIONS, Connection, Direction, Flow

PREFIX = "setting__"
SIDES = ("out", "in")
ENTITY_LABELS = {Entity.CUSTOMER: "Customers", Entity.ITEM: "Products and services", Entity.INVOICE: "Invoices",
                 Entity.PAYMENT: "Payments", Entity.CREDIT_NOTE: "Credit notes", Entity.REFUND: "Refunds",
                 Entity.EXPENSE: "Expenses", Entity.JOURNAL: "Journal entries", Entity.BILL: "Supplier bills",
                 Entity.BILL_PAYMENT: "Bill payments"}
_FLOWS = {(True, True): Flow.BOTH, (True, False): Flow.OUT, (False, True): Flow.IN, (False, False): Flow.NONE}
_DIRECTION_FLOW = {Direction.PUSH: Flow.OUT, Direction.PULL: Flow.IN, Direction.BOTH: Flow.BOTH}


def _sides(flow: str) -> tuple[bool, bool]:
    return flow in (Flow.OUT, Flow.BOTH), flow in (Flow.IN, Flow.BOTH)


def entity_label(entity: str) -> str:
    """How the form names an entity (``Products and services``); one it does not know yet by its own name."""
    return ENTITY_LABELS.get(entity) or entity.replace("_", " ").capitalize()


def _label(entity: str) -> str:
    return entity_label(entity).lower()


def _listed(entities) -> str:
    return ", ".join(_label(e) for e in Entity.EVERY if e in entities) or "nothing"


# -- the sync table ------------------------------------------------------------------------------------------------
class SyncTableWidget(forms.Widget):
    """A row per entity, a pair of tick boxes (out, in) per operation; both ticked is both ways. Its value is
    ``{entity: {operation: flow}}`` for the rows with a tick; every entity is read back from the post, offered or
    not, so that a tick the platform cannot honour is refused rather than dropped."""

    def __init__(self, entities=Entity.EVERY, inbound=Entity.EVERY, attrs=None):
        super().__init__(attrs)
        self.entities, self.inbound = tuple(e for e in Entity.EVERY if e in entities), frozenset(inbound)

    def render(self, name, value, attrs=None, renderer=None):
        value = value or {}

        def box(entity, op, side):
            if side == "in" and entity not in self.inbound:
                return format_html('<td title="{}">—</td>', "The platform does not report these changes")
            ticked = _sides((value.get(entity) or {}).get(op, Flow.NONE))[SIDES.index(side)]
            return format_html('<td><input type="checkbox" name="{}__{}__{}__{}" aria-label="{} {} {}"{}></td>',
                               name, entity, op, side, entity_label(entity), op, side, " checked" if ticked else "")

        head = format_html_join("", '<th colspan="2">{}</th>', ((op.capitalize(),) for op in OPERATIONS))
        sides = format_html_join("", "<th>{}</th>", ((side,) for op in OPERATIONS for side in SIDES))
        rows = format_html_join("", "<tr><th>{}</th>{}</tr>", (
            (entity_label(e), format_html_join("", "{}", ((box(e, op, side),) for op in OPERATIONS for side in SIDES)))
            for e in self.entities))
        return format_html('<table class="sync-table" id="{}"><thead><tr><th rowspan="2">Syncs</th>{}</tr><tr>{}</tr>'
                           "</thead><tbody>{}</tbody></table>", (attrs or {}).get("id", ""), head, sides, rows)

    def value_from_datadict(self, data, files, name):
        table = {}
        for entity in Entity.EVERY:
            row = {op: _FLOWS[tuple(bool(data.get(f"{name}__{entity}__{op}__{side}")) for side in SIDES)]
                   for op in OPERATIONS}
            if any(flow != Flow.NONE for flow in row.values()):
                table[entity] = row
        return table

    def value_omitted_from_data(self, data, files, name):
        return False  # an unticked box is not posted: no tick at all is a value (nothing syncs)


class SyncTableField(forms.Field):
    """The table, checked against the platform: only entities it syncs, "in" only where it reports changes."""

    widget = SyncTableWidget
    connector: type[BaseConnector] | None = None

    def clean(self, value):
        table = value or {}
        if not table:
            raise ValidationError("Tick at least one box: as it is, nothing would sync.", code="required")
        if self.connector is not None:
            caps, name = self.connector.capabilities, self.connector.name
            refused = [e for e in table if e not in caps.entities]
            if refused:
                raise ValidationError(f"{name} cannot sync {_listed(refused)}; it can sync {_listed(caps.entities)}. "
                                      "Untick those rows.", code="entity")
            deaf = [e for e, ops in table.items() if e not in caps.inbound and any(_sides(f)[1] for f in ops.values())]
            if deaf:
                raise ValidationError(f"{name} does not report changes to {_listed(deaf)}, so they cannot come in; "
                                      f"untick “in” on those rows (it reports {_listed(caps.inbound)}).",
                                      code="inbound")
        return table


def fit(table: dict, connector: type[BaseConnector] | None) -> dict:
    """``table`` as far as the platform can honour it: its entities only, "in" only where it reports changes."""
    if connector is None:
        return table
    caps, fitted = connector.capabilities, {}
    for entity, ops in table.items():
        if entity in caps.entities:
            row = {op: _FLOWS[_sides(flow)[0], _sides(flow)[1] and entity in caps.inbound] for op, flow in ops.items()}
            if any(flow != Flow.NONE for flow in row.values()):
                fitted[entity] = row
    return fitted


def stored_table(conn: Connection) -> dict:
    """The table a saved connection syncs by: its ``operations``, or (none set) its direction for every operation,
    for the entities it syncs."""
    every = _DIRECTION_FLOW.get(conn.direction, Flow.OUT)
    return {e: {op: (conn.operations or {}).get(e, {}).get(op, Flow.NONE) if conn.operations else every
                for op in OPERATIONS} for e in Entity.EVERY if e in (conn.entities or [])}


def covering_direction(table: dict) -> str:
    flows = {flow for ops in table.values() for flow in ops.values()}
    sends, receives = bool(flows & {Flow.OUT, Flow.BOTH}), bool(flows & {Flow.IN, Flow.BOTH})
    return Direction.BOTH if sends and receives else Direction.PULL if receives else Direction.PUSH


def to_store(table: dict, connector: type[BaseConnector] | None) -> tuple[dict, str]:
    """``(operations, direction)`` for ``table``. A table that says no more than a direction (each row's every
    operation that way, as far as the platform can) is stored as none: the connection follows its direction, as
    before the table existed, and keeps the batch path (which does not read a table)."""
    direction = covering_direction(table)
    plain = fit({e: dict.fromkeys(OPERATIONS, _DIRECTION_FLOW[direction]) for e in table}, connector)
    return ({} if plain == table else table), direction


# -- the platform's settings -----------------------------------------------------------------------------------------
def _shown(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _check_json_shape(setting: Setting, value):
    """A ``json`` setting's value has the shape of its default: a list where the default is a list, else an
    object."""
    want = list if isinstance(setting.default, list) else dict
    if value not in ("", None) and not isinstance(value, want):
        example = '["USD"]' if want is list else '{"4000": "Sales"}'
        raise ValidationError(f"Enter a JSON {'list' if want is list else 'object'}, such as {example}.")


def setting_field(setting: Setting, connector: type[BaseConnector]) -> forms.Field:
    """The form field for one declared setting. Empty means the platform's default (named in the help text)."""
    default = connector.setting_default(setting)
    help_text = setting.help
    if default not in ("", None, {}, []) and not setting.secret:
        help_text += f" Default: {dict(setting.choices).get(default, _shown(default))}."
    errors = {"required": f"{connector.name} needs this setting: {setting.help[0].lower()}{setting.help[1:]}"}
    common = {"label": setting.label, "required": setting.required, "help_text": help_text, "error_messages": errors}
    if setting.secret:
        common["help_text"] = f"{help_text} Not shown; leave it empty to keep the current one."
        return forms.CharField(widget=forms.PasswordInput(render_value=False), max_length=500,
                               **{**common, "required": False})
    if setting.kind == "flag":
        return forms.TypedChoiceField(coerce={"true": True, "false": False}.get, empty_value="", choices=[
            ("", f"Platform default ({_shown(bool(default))})"), ("true", "Yes"), ("false", "No")], **common)
    if setting.kind == "choice":
        first = "---------" if setting.required else f"Platform default ({dict(setting.choices).get(default, '—')})"
        return forms.ChoiceField(choices=[("", first), *setting.choices], **common)
    if setting.kind == "number":
        return forms.IntegerField(min_value=setting.min_value, max_value=setting.max_value, **common)
    if setting.kind == "url":
        message = "Enter an address starting with http:// or https://, such as https://example.com/api."
        return forms.CharField(validators=[URLValidator(schemes=["http", "https"], message=message)], max_length=500,
                               widget=forms.URLInput(attrs={"size": 60}), **common)
    if setting.kind == "json":
        return forms.JSONField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                               validators=[lambda value: _check_json_shape(setting, value)], **common)
    return forms.CharField(max_length=500, **common)


def declared_settings(platform: str | None) -> dict[str, Setting]:
    """The platform's declared settings by key (none for an unknown platform)."""
    try:
        return {s.key: s for s in registry.get(platform or "").settings_fields}
    except LookupError:
        return {}


def setting_names(platform: str | None) -> list[str]:
    """The form's field names for the platform's settings, in its declared order."""
    return [PREFIX + key for key in declared_settings(platform)]


# -- the form --------------------------------------------------------------------------------------------------------
#: The add page's platform picker: reload with the platform's own form, carrying what staff already typed in the
#: address (the admin takes a field's initial value from it: ``get_changeform_initial_data``). Left behind: the
#: previous platform's settings and sync table (they belong to that platform), the JSON box, and every secret (a
#: password box or a field named for a secret never goes into an address). A ticked box goes as "on", an unticked
#: one as empty (else the reload would tick it again by default); the chosen organizations (the admin's two-box
#: picker, whose right box holds them unselected until the form is sent) as a comma-separated list.
RELOAD_KEEPING_VALUES = " ".join("""
if (!this.value) return;
var q = new URLSearchParams({platform: this.value});
Array.prototype.forEach.call(this.form.elements, function (el) {
  var n = el.name || '';
  if (!n || n === 'platform' || n === 'csrfmiddlewaretoken' || n === 'other_settings' || n.indexOf('{prefix}') === 0
      || n.indexOf('sync_') === 0 || /secret|password|_old$/.test(n) || el.type === 'password' || el.type === 'submit'
      || el.type === 'button' || el.type === 'file' || el.type === 'hidden') return;
  if (el.type === 'checkbox') { q.set(n, el.checked ? 'on' : ''); return; }
  if (el.type === 'radio') { if (el.checked) q.set(n, el.value); return; }
  if (el.multiple) {
    var chosen = Array.prototype.filter.call(el.options, function (o) { return o.selected || /_to$/.test(el.id); });
    if (chosen.length) q.set(n, chosen.map(function (o) { return o.value; }).join(','));
    return;
  }
  if (el.value !== '') q.set(n, el.value);
});
location.search = q.toString();
""".replace("{prefix}", PREFIX).split())


class BaseConnectionForm(forms.ModelForm):
    """Everything but the platform's typed settings (``connection_form`` adds those)."""

    platform = forms.ChoiceField(choices=(), help_text="The accounting platform this connection sends to.")
    sync_preset = forms.ChoiceField(
        required=False, label="Sync table preset", choices=[("", "---------"), ("lab", "The lab system's table")],
        help_text="Replaces the table below when saved: customers and products out when created (customers also "
                  "when changed), invoices both ways, credit notes out, payments both ways; as far as the platform "
                  "can.")
    sync_table = SyncTableField(
        required=False, label="What syncs",
        help_text="A row per thing the platform can sync. Out: a change made here is sent to the platform. In: a "
                  "change made on the platform is applied here (only where the platform reports changes). Both "
                  "boxes: both ways. A row with no tick does not sync.")
    other_settings = forms.JSONField(
        required=False, label="Other settings (JSON)", initial=dict,
        help_text="Settings the platform does not declare, as a JSON object (kept as they are): the shared ones "
                  "such as rate_source, rates, tax_mode, conflict_policy (see the configuration docs).")
    client_secret_input = forms.CharField(
        label="Client secret", required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted. Leave empty to keep the current secret.")

    #: The platform the form is built for (None: none chosen yet).
    connector: type[BaseConnector] | None = None

    class Meta:
        model = Connection
        # Listed, not excluded, so a new secret or internal field on Connection never shows up here by itself. The
        # secrets, the settings and the sync table have fields of their own above.
        fields = ["name", "platform", "organizations", "auto_sync", "start_date", "remote_company_id", "status",
                  "status_message", "paused_until", "client_id", "access_expires_at", "refresh_expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        platforms = registry.choices()
        field = self.fields["platform"]
        field.choices = [("", "---------")] + platforms
        field.error_messages["invalid_choice"] = (
            f"Unknown platform “%(value)s”. Installed: {', '.join(f'{n} ({p})' for p, n in platforms)}.")
        caps = self.connector.capabilities if self.connector else None
        table = self.fields["sync_table"]
        table.connector = self.connector
        table.widget = SyncTableWidget(caps.entities if caps else Entity.EVERY, caps.inbound if caps else Entity.EVERY)
        settings = dict(self.instance.settings or {}) if self.instance.pk else {}
        declared = self.declared()
        for key, setting in declared.items():
            if key in settings and not setting.secret:
                self.initial[PREFIX + key] = self._as_stored(setting, settings[key])
        self.initial.setdefault("other_settings", {k: v for k, v in settings.items() if k not in declared})
        if self.instance.pk:
            self.initial.setdefault("sync_table", fit(stored_table(self.instance), self.connector))
        else:  # the model's defaults: everything the platform syncs, pushed
            self.initial.setdefault("sync_table", fit({e: dict.fromkeys(OPERATIONS, Flow.OUT) for e in Entity.EVERY},
                                                      self.connector))
            field.help_text += " Choosing it reloads the page with the platform's own settings and what it can sync."
            field.widget.attrs["onchange"] = RELOAD_KEEPING_VALUES

    def _as_stored(self, setting: Setting, value):
        """A stored value as its field shows it. Values typed by hand before the form existed keep their meaning:
        a yes / no written as text, a choice in other letter case; a choice the list does not know is offered as
        it is (kept), not replaced by the default."""
        if setting.kind == "flag":
            on = value.strip().lower() in ("1", "true", "yes", "on") if isinstance(value, str) else bool(value)
            return "true" if on else "false"
        if setting.kind == "choice" and value not in dict(setting.choices):
            same = [c for c, _ in setting.choices if str(c).lower() == str(value).lower()]
            if same:
                return same[0]
            field = self.fields[PREFIX + setting.key]
            field.choices = [*field.choices, (value, f"{value} (kept as it was; not one of the listed values)")]
        return value

    def declared(self) -> dict[str, Setting]:
        return {s.key: s for s in self.connector.settings_fields} if self.connector else {}

    def clean_other_settings(self):
        value = self.cleaned_data.get("other_settings")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise ValidationError("Enter a JSON object, such as {\"pull_interval_minutes\": 10}.")
        return value

    def clean(self):
        cleaned = super().clean()
        platform = cleaned.get("platform")
        if platform and platform != getattr(self.connector, "id", None):
            # built for another platform (or none): its fields are not this one's; ask again with the right ones
            raise ValidationError("The platform changed: check what syncs and its settings below, then save again.")
        declared = self.declared()
        if cleaned.get("sync_preset") == "lab":
            self.errors.pop("sync_table", None)  # the preset replaces whatever was ticked
            cleaned["sync_table"] = fit(LAB_PRESET, self.connector)
        overlap = set(cleaned.get("other_settings") or {}) & set(declared)
        if overlap:
            self.add_error("other_settings", f"{', '.join(sorted(overlap))} has its own field above: set it there.")
        return cleaned

    def _settings(self) -> dict:
        """The settings to store: other settings, then each declared one that is set (a secret left empty keeps
        the stored one)."""
        stored = dict(self.instance.settings or {}) if self.instance.pk else {}
        settings = dict(self.cleaned_data.get("other_settings") or {})
        for key, setting in self.declared().items():
            value = self.cleaned_data.get(PREFIX + key)
            if value in ("", None) and setting.secret and key in stored:
                value = stored[key]
            if value not in ("", None):
                settings[key] = value
        return settings

    def save(self, commit=True):
        table = self.cleaned_data["sync_table"]
        self.instance.settings = self._settings()
        self.instance.entities = [e for e in Entity.EVERY if e in table]
        self.instance.operations, self.instance.direction = to_store(table, self.connector)
        if self.cleaned_data.get("client_secret_input"):
            self.instance.client_secret = self.cleaned_data["client_secret_input"]
        return super().save(commit)


def connection_form(platform: str | None, base: type[BaseConnectionForm] = BaseConnectionForm
                    ) -> type[BaseConnectionForm]:
    """The connection form for ``platform``: its settings as typed fields and its table of what it can sync (with
    no platform, or an unknown one, every entity and no settings)."""
    try:
        connector = registry.get(platform or "")
    except LookupError:
        connector = None
    attrs: dict = {"connector": connector}
    for setting in connector.settings_fields if connector else ():
        attrs[PREFIX + setting.key] = setting_field(setting, connector)
    return type(f"{(platform if connector else 'New').title()}ConnectionForm", (base,), attrs)

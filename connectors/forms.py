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

from . import registry
from .documents import Entity
from .models import Connection

PREFIX = "setting__"
ENTITY_LABELS = {Entity.CUSTOMER: "Customers", Entity.ITEM: "Products and services", Entity.INVOICE: "Invoices",
                 Entity.PAYMENT: "Payments", Entity.CREDIT_NOTE: "Credit notes"}


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
    other_settings = forms.JSONField(
        required=False, label="Other settings (JSON)", initial=dict,
        help_text="Settings the platform does not declare, as a JSON object (kept as they are).")
    client_secret_input = forms.CharField(
        label="Client secret", required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted. Leave empty to keep the current secret.")

    declared: dict = {}

    class Meta:
        model = Connection
        exclude = ["client_secret", "access_token", "refresh_token", "settings"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [("", "---------")] + registry.choices()
        settings = dict(self.instance.settings or {}) if self.instance.pk else {}
        for key in self.declared:
            if key in settings and PREFIX + key in self.fields:
                value = settings[key]
                self.initial[PREFIX + key] = ("true" if value else "false") if isinstance(value, bool) else value
        self.initial.setdefault("other_settings", {k: v for k, v in settings.items() if k not in self.declared})
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
            overlap = set(cleaned.get("other_settings") or {}) & set(self.declared)
            if overlap:
                self.add_error("other_settings", f"{', '.join(sorted(overlap))} has its own field above: set it "
                                                 "there.")
        return cleaned

    def _settings(self) -> dict:
        settings = dict(self.cleaned_data.get("other_settings") or {})
        for key in self.declared:
            value = self.cleaned_data.get(PREFIX + key)
            if value not in ("", None):
                settings[key] = value
        return settings

    def save(self, commit=True):
        self.instance.settings = self._settings()
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

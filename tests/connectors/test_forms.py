"""The connection form: the platform from the registry, what syncs as a table of tick boxes the platform must be able
to honour, the platform's declared settings as typed fields, undeclared settings kept as JSON; through the admin as
staff use it."""
import inspect
import json
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User

from accounting_sync.permissions import CONNECT, VIEW_DASHBOARD
from connectors import registry
from connectors.base import BaseConnector, Setting
from connectors.documents import Entity
from connectors.forms import PREFIX, connection_form, declared_settings
from connectors.models import LAB_PRESET, OPERATIONS, Connection, Direction
from tests import factories as f

pytestmark = pytest.mark.django_db

ADD = "/admin/connectors/connection/add/"
PLATFORMS = sorted(registry.connectors())


def ticks(table: dict) -> dict:
    """The posted tick boxes for ``{entity: {operation: "out" | "in" | "both"}}``."""
    sides = {"out": ("out",), "in": ("in",), "both": ("out", "in"), "none": ()}
    return {f"sync_table__{e}__{op}__{side}": "on" for e, ops in table.items() for op, flow in ops.items()
            for side in sides[flow]}


def out_for(*entities: str) -> dict:
    return ticks({e: dict.fromkeys(OPERATIONS, "out") for e in entities})


def post_data(**extra) -> dict:
    data = {"name": "Clinic books", "auto_sync": "on", "status": "active",
            "trigger_rules-TOTAL_FORMS": "0", "trigger_rules-INITIAL_FORMS": "0",
            "alert_recipients-TOTAL_FORMS": "0", "alert_recipients-INITIAL_FORMS": "0", "other_settings": "{}"}
    data.update(extra)
    return data


def errors(response) -> str:
    return str(response.context["adminform"].form.errors) if response.context else ""


def valid_value(setting: Setting) -> str:
    """A value the form accepts for a required setting of any kind."""
    return {"url": "https://books.example.com/api", "number": str(setting.min_value or 1), "flag": "true",
            "json": "[]" if isinstance(setting.default, list) else "{}"}.get(
        setting.kind, setting.choices[0][0] if setting.choices else "tenant.example.com")


def form(platform: str, **data):
    return connection_form(platform)(data=post_data(platform=platform, **data))


# -- the page ------------------------------------------------------------------------------------------------------
def test_the_platform_is_chosen_from_the_registry(admin_client):
    html = admin_client.get(ADD).content.decode()
    for platform, name in registry.choices():
        assert f'<option value="{platform}">{name}</option>' in html
    assert 'name="settings"' not in html and 'name="entities"' not in html  # no raw JSON, no separate list
    assert 'class="sync-table"' in html and 'name="sync_table__credit_note__delete__in"' in html


def test_the_reload_after_picking_a_platform_keeps_what_was_typed(admin_client, org):
    """The picker's reload carries the typed values in the address (``RELOAD_KEEPING_VALUES``); the page shows
    them again: the name, the organizations, an unticked box, the company id."""
    html = admin_client.get(f"{ADD}?platform=xero&name=Clinic%20books&organizations={org.pk}&auto_sync="
                            "&remote_company_id=tenant-7").content.decode()
    assert re.search(r'<input[^>]*name="name"[^>]*value="Clinic books"', html)
    assert re.search(rf'<option value="{org.pk}" selected>', html)
    assert re.search(r'<input[^>]*name="remote_company_id"[^>]*value="tenant-7"', html)
    auto_sync = re.search(r'<input[^>]*name="auto_sync"[^>]*>', html).group(0)
    assert "checked" not in auto_sync  # unticked before the reload, unticked after it
    picker = re.search(r'<select name="platform"[^>]*onchange="([^"]*)"', html).group(1)
    assert "location.search" in picker and "secret" in picker and "setting__" in picker  # secrets never carried


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_add_page_for_a_platform_shows_what_it_can_sync_and_its_settings(admin_client, platform):
    cls = registry.get(platform)
    html = admin_client.get(f"{ADD}?platform={platform}").content.decode()
    assert f'<option value="{platform}" selected>{cls.name}</option>' in html
    for entity in Entity.EVERY:
        assert (f'name="sync_table__{entity}__create__out"' in html) == (entity in cls.capabilities.entities)
        assert (f'name="sync_table__{entity}__update__in"' in html) == (
            entity in cls.capabilities.entities and entity in cls.capabilities.inbound)
    for setting in cls.settings_fields:
        assert f'name="{PREFIX}{setting.key}"' in html
        assert setting.label in html


@pytest.mark.parametrize("platform", PLATFORMS)
def test_staff_add_a_connection_for_every_platform(admin_client, platform):
    cls = registry.get(platform)
    required = {PREFIX + s.key: valid_value(s) for s in cls.settings_fields if s.required}
    entities = sorted(cls.capabilities.entities)
    response = admin_client.post(f"{ADD}?platform={platform}",
                                 post_data(platform=platform, **out_for(*entities), **required))
    assert response.status_code == 302, errors(response)
    conn = Connection.objects.get(name="Clinic books")
    assert conn.platform == platform and conn.direction == Direction.PUSH
    assert conn.operations == {}  # all out is what the direction says: no table (the batch path stays open)
    assert conn.entities == [e for e in Entity.EVERY if e in entities]
    assert all(conn.sends(e, op) and not conn.receives(e, op) for e in entities for op in OPERATIONS)
    assert set(conn.settings) == {s.key for s in cls.settings_fields if s.required}


def test_typed_settings_are_stored_typed(admin_client):
    response = admin_client.post(ADD, post_data(
        platform="xero", **out_for("customer", "invoice"), **{
            f"{PREFIX}timeout": "45", f"{PREFIX}allow_rounding_adjustment": "true",
            f"{PREFIX}invoice_status": "DRAFT", f"{PREFIX}api_base": "http://127.0.0.1:9000/api.xro/2.0"}))
    assert response.status_code == 302, errors(response)
    conn = Connection.objects.get(name="Clinic books")
    assert conn.settings == {"timeout": 45, "allow_rounding_adjustment": True, "invoice_status": "DRAFT",
                             "api_base": "http://127.0.0.1:9000/api.xro/2.0"}  # only what staff set
    assert conn.connector().setting("timeout") == 45 and conn.connector().setting("scope")  # the rest: defaults


def test_a_file_platform_takes_its_chart_as_json(admin_client):
    response = admin_client.post(ADD, post_data(
        platform="patriot", **out_for("invoice", "payment"),
        **{f"{PREFIX}accounts": '{"4000": "Sales"}', f"{PREFIX}currencies": '["USD", "EUR"]',
           f"{PREFIX}home_currency": "USD"}))
    assert response.status_code == 302, errors(response)
    conn = Connection.objects.get(name="Clinic books")
    assert conn.settings == {"accounts": {"4000": "Sales"}, "currencies": ["USD", "EUR"], "home_currency": "USD"}
    assert conn.connector().reference_data().accounts == {"4000": "Sales"}


def test_editing_needs_connect(client):
    def user(*perms):
        u = User.objects.create_user(f"u{User.objects.count()}", password="pw", is_staff=True)
        for perm in perms:
            label, codename = perm.split(".")
            u.user_permissions.add(Permission.objects.get(content_type__app_label=label, codename=codename))
        return u

    client.force_login(user(VIEW_DASHBOARD))
    assert client.post(ADD, post_data(platform="qbo", **out_for("invoice"))).status_code == 403
    conn = f.ConnectionFactory(settings={"timeout": 5})
    page = client.get(f"/admin/connectors/connection/{conn.pk}/change/").content.decode()
    assert 'name="sync_table__invoice__create__out"' not in page  # read only: the stored fields, no settings
    client.force_login(user(CONNECT))
    assert client.post(ADD, post_data(platform="qbo", **out_for("invoice"))).status_code == 302
    assert Connection.objects.filter(name="Clinic books").exists()


# -- validation ----------------------------------------------------------------------------------------------------
def test_an_unknown_platform_is_refused_naming_the_installed_ones():
    bound = connection_form(None)(data=post_data(platform="nope", **out_for("invoice")))
    assert not bound.is_valid()
    assert "Unknown platform “nope”" in str(bound.errors["platform"]) and "QuickBooks" in str(bound.errors["platform"])


def test_what_the_platform_cannot_sync_is_refused_beside_the_table():
    narrow = next(p for p in PLATFORMS if Entity.CREDIT_NOTE not in registry.get(p).capabilities.entities)
    bound = form(narrow, **out_for("invoice", "credit_note"))
    assert not bound.is_valid()
    assert f"{registry.get(narrow).name} cannot sync credit notes; it can sync" in str(bound.errors["sync_table"])
    bound = form("qbo")
    assert not bound.is_valid() and "nothing would sync" in str(bound.errors["sync_table"])


def test_in_is_refused_where_the_platform_reports_no_changes():
    platform, entity = next((p, e) for p in PLATFORMS for e in registry.get(p).capabilities.entities
                            if e not in registry.get(p).capabilities.inbound)
    bound = form(platform, **ticks({entity: {"create": "both"}}))
    assert not bound.is_valid()
    assert f"does not report changes to {entity.replace('_', ' ')}" in str(bound.errors["sync_table"]).replace(
        "products and services", "item")


def test_a_bad_address_a_bad_number_and_bad_json_get_clear_errors():
    bound = form("qbo", **out_for("invoice"), **{
        f"{PREFIX}api_base": "not an address", f"{PREFIX}timeout": "0", "other_settings": "[1, 2]"})
    assert not bound.is_valid()
    assert "starting with http:// or https://" in str(bound.errors[f"{PREFIX}api_base"])
    assert "greater than or equal to 1" in str(bound.errors[f"{PREFIX}timeout"])
    assert "JSON object" in str(bound.errors["other_settings"])
    bound = form("qbo", **out_for("invoice"), other_settings='{"timeout": 9}')
    assert not bound.is_valid() and "has its own field" in str(bound.errors["other_settings"])
    bound = form("patriot", **out_for("invoice"), **{f"{PREFIX}currencies": '{"USD": 1}',
                                                    f"{PREFIX}accounts": "not json"})
    assert not bound.is_valid()
    assert "JSON list" in str(bound.errors[f"{PREFIX}currencies"])
    assert "valid JSON" in str(bound.errors[f"{PREFIX}accounts"])
    bound = form("xero", **out_for("invoice"), **{f"{PREFIX}invoice_status": "PAID"})
    assert not bound.is_valid() and "PAID is not one of" in str(bound.errors[f"{PREFIX}invoice_status"])


def test_a_missing_required_setting_says_what_it_is(admin_client):
    platform, setting = next((p, s) for p in PLATFORMS for s in registry.get(p).settings_fields if s.required)
    response = admin_client.post(ADD, post_data(platform=platform, **out_for(
        *registry.get(platform).capabilities.entities)))
    assert response.status_code == 200 and not Connection.objects.exists()
    assert f"{registry.get(platform).name} needs this setting" in str(
        response.context["adminform"].form.errors[PREFIX + setting.key])


def test_a_form_built_for_another_platform_is_refused():
    bound = connection_form("qbo")(data=post_data(platform="xero", **out_for("invoice")))
    assert not bound.is_valid() and "platform changed" in str(bound.non_field_errors())


# -- existing connections -------------------------------------------------------------------------------------------
def test_settings_the_platform_does_not_declare_are_kept(sandbox):
    conn = f.ConnectionFactory(settings={"api_base": sandbox.api_base, "timeout": 5, "legacy_flag": True,
                                         "conflict_policy": {"payment": "platform"}})
    bound = connection_form("qbo")(instance=conn)
    assert bound.initial[f"{PREFIX}api_base"] == sandbox.api_base and bound.initial[f"{PREFIX}timeout"] == 5
    assert bound.initial["other_settings"] == {"legacy_flag": True, "conflict_policy": {"payment": "platform"}}
    data = post_data(name=conn.name, platform="qbo", **out_for("invoice"),
                     other_settings=json.dumps(bound.initial["other_settings"]),
                     **{f"{PREFIX}api_base": sandbox.api_base, f"{PREFIX}timeout": "5"})
    bound = connection_form("qbo")(data=data, instance=conn)
    assert bound.is_valid(), bound.errors
    bound.save()
    conn.refresh_from_db()
    assert conn.settings == {"api_base": sandbox.api_base, "timeout": 5, "legacy_flag": True,
                             "conflict_policy": {"payment": "platform"}}


def test_a_secret_setting_is_never_shown_and_kept_when_left_empty(admin_client):
    platform, key = next((p, s.key) for p in PLATFORMS for s in registry.get(p).settings_fields if s.secret)
    conn = f.ConnectionFactory(platform=platform, settings={key: "do-not-show-me"})
    page = admin_client.get(f"/admin/connectors/connection/{conn.pk}/change/").content.decode()
    assert f'name="{PREFIX}{key}"' in page and "do-not-show-me" not in page
    cls = registry.get(platform)
    required = {PREFIX + s.key: valid_value(s) for s in cls.settings_fields if s.required}
    bound = connection_form(platform)(data=post_data(name=conn.name, platform=platform, **required,
                                                     **out_for(*cls.capabilities.entities)), instance=conn)
    assert bound.is_valid(), bound.errors
    saved = bound.save()
    assert saved.settings[key].startswith("fernet:")  # stored encrypted (tests/connectors/test_crypto.py)
    assert cls(saved.config(), lambda: "").setting(key) == "do-not-show-me"
    bound = connection_form(platform)(data=post_data(name=conn.name, platform=platform, **required,
                                                     **out_for(*cls.capabilities.entities),
                                                     **{PREFIX + key: "new"}), instance=conn)
    assert bound.is_valid()
    assert cls(bound.save().config(), lambda: "").setting(key) == "new"


@pytest.mark.parametrize("direction", [Direction.PUSH, Direction.PULL, Direction.BOTH])
def test_a_connection_without_a_table_saves_unchanged_what_the_engine_does(direction):
    """A connection from before the table (its direction for every operation) opens with the table that says the
    same, and saving it untouched changes nothing the engine or inbound sync would do (a row that did nothing, such
    as a pull of customers the platform does not report, is left out)."""
    conn = f.ConnectionFactory(platform="xero", direction=direction, entities=["customer", "invoice", "payment"])
    inbound = registry.get("xero").capabilities.inbound
    before = {(e, op): (conn.sends(e, op), conn.receives(e, op) and e in inbound)
              for e in Entity.EVERY for op in OPERATIONS if conn.syncs(e)}
    before = {cell: ways for cell, ways in before.items() if any(ways)}  # a pull of what is not reported: nothing
    unbound = connection_form("xero")(instance=conn)
    data = post_data(name=conn.name, platform="xero", **ticks(unbound.initial["sync_table"]))
    bound = connection_form("xero")(data=data, instance=conn)
    assert bound.is_valid(), bound.errors
    conn = bound.save()
    after = {(e, op): (conn.sends(e, op), conn.receives(e, op) and e in inbound) for e in Entity.EVERY
             for op in OPERATIONS if conn.syncs(e)}
    after = {cell: ways for cell, ways in after.items() if any(ways)}
    assert after == before and conn.direction == direction and conn.operations == {}


def test_the_lab_preset_as_far_as_the_platform_can():
    bound = form("qbo", sync_preset="lab", **out_for("invoice"))
    assert bound.is_valid(), bound.errors
    conn = bound.save()
    caps = registry.get("qbo").capabilities
    for entity, ops in LAB_PRESET.items():
        for op, flow in ops.items():
            assert conn.sends(entity, op) == (flow in ("out", "both") and entity in caps.entities)
            assert conn.receives(entity, op) == (flow in ("in", "both") and entity in caps.inbound)
    assert conn.direction == Direction.BOTH


# -- the declarations ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_declares_what_it_reads(platform):
    """Each key of its defaults and of its sandbox's settings is a declared setting, and the form builds a field for
    each one (the docs page's table is checked in test_matrix)."""
    cls = registry.get(platform)
    keys = [s.key for s in cls.settings_fields]
    assert len(keys) == len(set(keys))
    assert set(cls.default_settings) <= set(keys)
    assert set(cls.sandbox_settings("http://127.0.0.1:1")) <= set(keys)
    assert set(connection_form(platform).base_fields) >= {PREFIX + k for k in keys}
    assert list(declared_settings(platform)) == keys


def _code(cls: type) -> str:
    """The source the platform runs: its package (not its sandbox) and the kit classes it inherits from (not the
    base class, whose shared declarations name the common keys)."""
    files = {p for p in Path(inspect.getsourcefile(cls)).parent.rglob("*.py") if "sandbox" not in p.parts}
    files |= {Path(inspect.getsourcefile(k)) for k in cls.__mro__[1:]
              if k.__module__.startswith("connectors.") and k.__module__ != "connectors.base"}
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(files))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_declares_exactly_the_settings_its_code_reads(platform):
    cls = registry.get(platform)
    code, keys = _code(cls), {s.key for s in cls.settings_fields}
    read = set(re.findall(r"""\bsetting\(\s*["']([a-z_]+)["']""", code))
    assert read <= keys, f"{platform} reads settings it does not declare: {sorted(read - keys)}"
    code = re.sub(r"""\bSetting\(\s*["'][a-z_]+["']""", "Setting(", code)  # the declaration itself is no read
    unread = {k for k in keys if not re.search(rf"""["']{k}["']""", code)}
    assert not unread, f"{platform} declares settings its code never names: {sorted(unread)}"


def test_a_connector_declares_no_settings_by_default():
    assert BaseConnector.settings_fields == ()
    with pytest.raises(ValueError):
        Setting("colour", "Colour", "A colour.", "choice")  # a choice without choices


def test_values_typed_by_hand_before_the_form_keep_their_meaning():
    conn = f.ConnectionFactory(platform="xero", entities=["invoice"], settings={
        "allow_rounding_adjustment": "false", "invoice_status": "draft", "line_amount_types": "Gross"})
    unbound = connection_form("xero")(instance=conn)
    assert unbound.initial[f"{PREFIX}allow_rounding_adjustment"] == "false"  # not "true" for a non-empty text
    assert unbound.initial[f"{PREFIX}invoice_status"] == "DRAFT"
    data = post_data(name=conn.name, platform="xero", **out_for("invoice"),
                     **{k: v for k, v in unbound.initial.items() if k.startswith(PREFIX)})
    bound = connection_form("xero")(data=data, instance=conn)
    assert bound.is_valid(), bound.errors
    assert bound.save().settings == {"allow_rounding_adjustment": False, "invoice_status": "DRAFT",
                                     "line_amount_types": "Gross"}

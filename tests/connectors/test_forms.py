"""The connection form: platform from the registry, entities as checkboxes the platform must support, settings as
the platform's typed fields, undeclared settings kept as JSON; through the admin as staff use it."""
import pytest

from connectors import registry
from connectors.forms import PREFIX, connection_form, declared_settings
from connectors.models import Connection
from tests import factories as f

pytestmark = pytest.mark.django_db

ADD = "/admin/connectors/connection/add/"


def post_data(**extra) -> dict:
    data = {"name": "Clinic books", "direction": "push", "auto_sync": "on", "status": "active",
            "trigger_rules-TOTAL_FORMS": "0", "trigger_rules-INITIAL_FORMS": "0",
            "alert_recipients-TOTAL_FORMS": "0", "alert_recipients-INITIAL_FORMS": "0",
            "other_settings": "{}"}
    data.update(extra)
    return data


def errors(response) -> str:
    return str(response.context["adminform"].form.errors) if response.context else ""


def test_the_platform_is_chosen_from_the_registry(admin_client):
    html = admin_client.get(ADD).content.decode()
    for platform, name in registry.choices():
        assert f'<option value="{platform}">{name}</option>' in html
    assert 'type="checkbox" name="entities" value="credit_note"' in html
    assert 'name="settings"' not in html  # no raw JSON box for the platform's settings


@pytest.mark.parametrize("platform", ["qbo", "xero", "sage"])
def test_staff_add_a_connection_then_fill_in_its_typed_settings(admin_client, platform):
    response = admin_client.post(ADD, post_data(platform=platform, entities=["customer", "invoice"]))
    assert response.status_code == 302, errors(response)
    conn = Connection.objects.get(name="Clinic books")
    assert conn.platform == platform and conn.entities == ["customer", "invoice"] and conn.settings == {}
    page = admin_client.get(f"/admin/connectors/connection/{conn.pk}/change/").content.decode()
    for key in declared_settings(platform):
        assert f'name="{PREFIX}{key}"' in page
    response = admin_client.post(f"/admin/connectors/connection/{conn.pk}/change/", post_data(
        platform=platform, entities=["customer", "invoice"], **{f"{PREFIX}timeout": "45"}))
    assert response.status_code == 302, errors(response)
    conn.refresh_from_db()
    assert conn.settings == {"timeout": 45}  # typed, and only what staff set: the rest stays the platform's default


def test_entities_the_platform_cannot_sync_are_refused_beside_the_field():
    narrow = next(p for p, cls in registry.connectors().items() if "credit_note" not in cls.capabilities.entities)
    form = connection_form(narrow)(data=post_data(platform=narrow, entities=["invoice", "credit_note"]))
    assert not form.is_valid()
    assert "cannot sync credit notes; it can sync invoices, payments" in str(form.errors["entities"])
    form = connection_form("qbo")(data=post_data(platform="qbo", entities=[]))
    assert not form.is_valid() and "at least one" in str(form.errors["entities"])


def test_a_bad_address_a_bad_number_and_bad_json_get_clear_errors():
    form = connection_form("qbo")(data=post_data(platform="qbo", entities=["invoice"], **{
        f"{PREFIX}api_base": "not an address", f"{PREFIX}timeout": "0", "other_settings": "[1, 2]"}))
    assert not form.is_valid()
    assert "valid URL" in str(form.errors[f"{PREFIX}api_base"])
    assert "greater than or equal to 1" in str(form.errors[f"{PREFIX}timeout"])
    assert "JSON object" in str(form.errors["other_settings"])
    form = connection_form("qbo")(data=post_data(platform="qbo", entities=["invoice"],
                                                 other_settings='{"timeout": 9}'))
    assert not form.is_valid() and "has its own field" in str(form.errors["other_settings"])


def test_an_unknown_platform_is_refused():
    form = connection_form(None)(data=post_data(platform="nope", entities=["invoice"]))
    assert not form.is_valid() and "nope" in str(form.errors["platform"])


def test_settings_the_platform_does_not_declare_are_kept(sandbox):
    conn = f.ConnectionFactory(settings={"api_base": sandbox.api_base, "timeout": 5, "legacy_flag": True})
    form = connection_form("qbo")(instance=conn)
    assert form.initial[f"{PREFIX}api_base"] == sandbox.api_base and form.initial[f"{PREFIX}timeout"] == 5
    assert form.initial["other_settings"] == {"legacy_flag": True}
    data = post_data(name=conn.name, platform="qbo", entities=list(conn.entities), other_settings='{"legacy_flag": true}',
                     **{f"{PREFIX}api_base": sandbox.api_base, f"{PREFIX}timeout": "5"})
    form = connection_form("qbo")(data=data, instance=conn)
    assert form.is_valid(), form.errors
    form.save()
    conn.refresh_from_db()
    assert conn.settings == {"api_base": sandbox.api_base, "timeout": 5, "legacy_flag": True}


def test_a_yes_no_setting_is_a_choice_not_text():
    platform = next(p for p, cls in registry.connectors().items()
                    if any(isinstance(v, bool) for v in cls.default_settings.values()))
    key = next(k for k, v in registry.get(platform).default_settings.items() if isinstance(v, bool))
    form = connection_form(platform)(data=post_data(platform=platform, entities=["invoice"],
                                                    **{PREFIX + key: "false"}))
    assert form.is_valid(), form.errors
    assert form._settings()[key] is False

"""The mapping editor page as a browser sees it, for tests of the editor, preflight links and drift."""


def editor_url(conn) -> str:
    return f"/admin/connectors/connection/{conn.pk}/mappings/"


def as_shown(response) -> dict:
    """What a browser submits for the page as shown: every row unchanged, the blank rows blank."""
    data = {"_save": "Save"}
    for section in response.context["sections"]:
        formset = section.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for form in formset.forms:
            for name in form.fields:
                value = form[name].value() if name != "DELETE" else None
                if value not in (None, "", False):
                    data[form.add_prefix(name)] = value
    return data

"""Steps the browser tests share."""


def run_action(page, changelist: str, action: str, *pks) -> None:
    """On an admin list: tick the rows ``pks`` (the first row when none is given), choose ``action``, press Go."""
    page.goto(changelist)
    for pk in pks:
        page.locator(f'input[name=_selected_action][value="{pk}"]').check()
    if not pks:
        page.locator("input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")

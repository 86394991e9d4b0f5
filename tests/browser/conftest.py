"""Browser tests: Playwright (Python) driving Debian's Chromium against a live server and the platform sandboxes.

Chromium comes from Debian's package (``make install-browser``; browsers cannot be downloaded here), found on the
PATH or at ``CHROMIUM``. Without it these tests skip, unless ``BROWSER_TESTS_REQUIRED=1`` (CI sets it): then they
fail. A failing test leaves a screenshot and the page's HTML in ``var/browser-artifacts/``.
"""
import contextlib
import os
import re
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "browser-artifacts"
PASSWORD = "browser-test-pass"  # nosec B105 - a throw-away test user's


def chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. Playwright's sync API keeps an event loop running in this thread while it is
    open, so Django would refuse the tests' own (synchronous) ORM calls: allowed here, for this module only (the
    setting must not leak into other tests, nor into a ``check --deploy`` they run)."""
    executable = chromium()
    sync_api = None
    with contextlib.suppress(ImportError):
        from playwright import sync_api
    if not executable or sync_api is None:
        reason = "no Chromium (make install-browser)" if not executable else "playwright is not installed"
        if os.environ.get("BROWSER_TESTS_REQUIRED") == "1":
            pytest.fail(f"browser tests are required here, but {reason}")
        pytest.skip(reason)
    with pytest.MonkeyPatch.context() as patch, sync_api.sync_playwright() as p:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        (ARTIFACTS / f"{name}.html").write_text(page.content())
    context.close()


@pytest.fixture
def superuser(transactional_db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("browser-admin", "admin@example.com", PASSWORD)


@pytest.fixture
def logged_in(page, superuser):
    """The admin, logged in through the login form."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", superuser.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page

"""A real Chromium (Debian's package) driven by Playwright against the live test server.

Playwright cannot download its own browsers here, so it drives /usr/bin/chromium with
the flags this closed network needs. .ci/run installs Chromium; on a machine without it
these tests are skipped with the reason.
"""

import os
import shutil
import tempfile

import pytest

CHROMIUM = os.environ.get("ELMTEX_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


@pytest.fixture(scope="session")
def browser_context():
    # In CI a missing browser is a failure, never a silent skip.
    missing = pytest.fail if os.environ.get("CI") else pytest.skip
    try:
        import playwright.sync_api as playwright_api
    except ImportError:
        missing("the playwright package is not installed (pip install -r requirements-dev.txt)")
    if not os.path.exists(CHROMIUM):
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="elmtex-chromium-")
    # Playwright's sync API runs its own event loop; Django's async-safety check would
    # otherwise refuse database access from the test thread while it runs.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": 1280, "height": 900}
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    page.set_default_timeout(15_000)
    yield page
    page.close()
    browser_context.clear_cookies()


@pytest.fixture
def screenshot(page):
    def take(name: str) -> str:
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.abspath(os.path.join(ARTIFACTS, f"{name}.png"))
        page.screenshot(path=path, full_page=True)
        return path

    return take

"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright's sync API.

Never run ``playwright install``: the browser comes from the system package. Playwright's sync
API runs its own event loop, and Django refuses synchronous database calls while a loop is
running in the thread, so the live-server tests allow them explicitly.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def browser_page(request):
    """A fresh Playwright page; on failure a full-page screenshot lands in test-artifacts/."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Browser tests need Chromium at {CHROMIUM}. Install it with "
            "`apt-get install -y chromium` (or set PORTAL_CHROMIUM); do not run "
            "`playwright install`.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            failed = getattr(request.node, "rep_call", None)
            if failed is not None and failed.failed:
                ARTIFACTS.mkdir(exist_ok=True)
                path = ARTIFACTS / f"{request.node.name}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                    print(f"Screenshot of the failing page: {path}")
                except Exception as exc:  # the page may already be gone
                    print(f"Could not save a screenshot: {exc}")
            context.close()
            browser.close()

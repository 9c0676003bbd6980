"""Browser tests: Playwright (sync API) driving Debian's chromium against pytest-django's
live server. Never downloads a browser: YICIBAN_CHROMIUM names the executable
(default /usr/bin/chromium); without it the tests are skipped with the reason, or fail when
REQUIRE_BROWSER=1 (CI)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API keeps an asyncio event loop running in the main thread, and Django
# refuses ORM calls from a thread with a running loop. The tests (loading demo data) and the
# live server's threads are plain synchronous code, so the guard is lifted for this process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("YICIBAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # Remembered per phase so the `page` fixture can tell, at teardown, that the test failed.
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        reason = (
            f"chromium not found at {CHROMIUM} "
            "(apt-get install chromium fonts-noto-cjk, or set YICIBAN_CHROMIUM)"
        )
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _new_page(browser, viewport):
    # A Chinese browser, as at a county hall counter; English is chosen on the page.
    context = browser.new_context(
        viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai", device_scale_factor=1
    )
    context.set_default_timeout(15_000)
    return context, context.new_page()


def _screenshot_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:150] + ".png"


def _page_for(browser, request, viewport, prefix):
    context, page = _new_page(browser, viewport)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / (prefix + _screenshot_name(request.node.nodeid))
        page.screenshot(path=str(path), full_page=True)
    context.close()


@pytest.fixture
def page(browser, request):
    """A desktop-sized page; on failure its screenshot is saved into test-results/."""
    yield from _page_for(browser, request, DESKTOP, "")


@pytest.fixture
def phone_page(browser, request):
    """A phone-sized page (390x844); on failure its screenshot is saved into test-results/."""
    yield from _page_for(browser, request, PHONE, "phone-")


@pytest.fixture
def save_screenshot():
    """Keeps a screenshot in test-results/ for people to look at (layout, CJK glyphs)."""

    def save(page, name: str) -> Path:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save

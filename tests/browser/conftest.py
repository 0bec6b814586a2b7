"""Headless Chromium for the browser tests: Debian's build at /usr/bin/chromium, never a download.

Playwright's sync API runs an event loop in the test's thread, and the test talks to the
database too; Django refuses that unless told it is safe (it is: the loop only drives the
browser), hence DJANGO_ALLOW_ASYNC_UNSAFE.

That running loop also moves the thread's database connections: Django keeps them in asgiref's
`Local`, per thread while no loop runs but per context while one does. A connection opened on one
side of the browser's start or stop is out of sight on the other, and the test database's teardown
then fails with "being accessed by other users", so the `browser` fixture closes them at both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cases.intake import submit_case
from cases.models import Case, Kind
from tests.conftest import PASSWORD

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1440, "height": 1000}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"  # the smallest file taken as a PDF


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    connections.close_all()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        connections.close_all()


@pytest.fixture
def phone(browser, live_server) -> Iterator:
    """A page the size of a phone screen, speaking Chinese, against the live server."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def signed_in(browser, live_server) -> Iterator[Callable]:
    """Opens pages signed in as a user through the login page, in a language and a size."""
    contexts = []

    def open_as(username: str, *, viewport: dict[str, int], language: str = "zh-hans"):
        context = browser.new_context(viewport=viewport, base_url=live_server.url)
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        assert "/accounts/login/" not in page.url
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def desk(signed_in) -> Callable:
    """Opens a desktop-sized page signed in as a user (`signed_in`), Chinese unless told."""
    return lambda username, **options: signed_in(username, viewport=DESKTOP_VIEWPORT, **options)


@pytest.fixture
def power_of_attorney(tmp_path, settings) -> Path:
    """A small PDF on disk to upload as a power of attorney (uploads stored under tmp_path)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "授权委托书.pdf"
    path.write_bytes(PDF)
    return path


def west_lake_complaint(
    consumer: Any, *, address: str, name: str = "杭州好运来电器有限公司", **payload: Any
) -> Case:
    """A complaint filed through intake with West Lake (330106), where the browser flows start:
    the respondent `name` at `address`, and the facts, demand and the rest in `payload`."""
    respondent = {"name": name, "address": address}
    return submit_case(
        kind=Kind.COMPLAINT,
        by=consumer,
        payload={
            "department": "330106",
            "contact_address": "杭州市西湖区文一路1号",
            "respondent": respondent,
            **payload,
        },
    )

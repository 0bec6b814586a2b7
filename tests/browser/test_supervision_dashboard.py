"""A city supervisor on a desktop: from her dashboard she drills down to a county, opens a case
that is overdue there and issues a supervision order; the county answers it in its inbox.

Screenshots go to /tmp/supervision_*.png for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from supervision.models import OrderKind
from supervision.models import SupervisionOrder as Order
from supervision.sweeps import sweep_deadlines
from tests.conftest import PASSWORD
from tests.test_supervision_factories import file_complaint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def desktop_page(browser, live_server) -> Iterator:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_a_city_supervisor_drills_down_and_orders_an_overdue_county_case(desktop_page, cast):
    case = file_complaint(cast.hank)
    sweep_deadlines(today=dt.date(2026, 6, 11))  # the accept clock ran out on 10 June
    page = desktop_page

    log_in(page, "cathy")
    page.goto("/supervision/dashboard/")
    page.wait_for_selector("#chart-received svg")
    expect(page.get_by_role("heading", name="杭州市辖区实时监测")).to_be_visible()
    overdue = page.locator(".sv-number", has_text="已超期").locator("dd a")
    expect(overdue).to_have_text("1")
    page.screenshot(path="/tmp/supervision_1_city_dashboard.png", full_page=True)

    page.locator(".sv-children").get_by_role("link", name="西湖区").click()
    page.wait_for_url(re.compile(r"/supervision/dashboard/330106/"))
    expect(page.get_by_role("heading", name="西湖区辖区实时监测")).to_be_visible()
    page.wait_for_selector("#chart-open svg")
    page.screenshot(path="/tmp/supervision_2_county_dashboard.png", full_page=True)

    page.get_by_role("link", name=f"督办 {case.number}").click()
    page.wait_for_url(re.compile(rf"/supervision/cases/{case.number}/order/"))
    expect(page.get_by_text("以杭州市名义督办西湖区")).to_be_visible()
    expect(page.locator("td", has_text="已超期").first).to_be_visible()
    page.get_by_label("督办要求").fill("该投诉已超过受理期限，请于三个工作日内受理并报告原因。")
    page.screenshot(path="/tmp/supervision_3_order_form.png", full_page=True)
    page.get_by_role("button", name="发出督办单").click()

    page.wait_for_selector("text=督办单已发出")
    manual = Order.objects.get(kind=OrderKind.MANUAL)
    assert (manual.from_department_id, manual.to_department_id) == ("330100", "330106")
    assert manual.created_by == cast.cathy
    assert page.locator(".sv-orders tbody tr").count() == 2  # the sweep's order and hers
    page.screenshot(path="/tmp/supervision_4_ordered.png", full_page=True)


def test_the_county_answers_the_order_in_its_inbox(desktop_page, cast):
    case = file_complaint(cast.hank)
    sweep_deadlines(today=dt.date(2026, 6, 11))
    order = Order.objects.get()
    page = desktop_page

    log_in(page, "ken")
    page.goto("/supervision/")
    row = page.locator(f"#order-{order.pk}")
    assert case.number in row.inner_text()
    row.get_by_label("答复内容").fill("已于今日受理，正在组织调解。")
    page.screenshot(path="/tmp/supervision_5_inbox.png", full_page=True)
    row.get_by_role("button", name="提交答复").click()

    page.wait_for_selector("text=已答复督办单")
    order.refresh_from_db()
    assert (order.status, order.responded_by) == ("answered", cast.ken)

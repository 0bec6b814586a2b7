"""A consumer files a joint complaint through an agent on the web form, on a phone.

Screenshots go to /tmp/joint_*.png for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from parties.models import Agent, CoComplainant
from tests.browser.conftest import PHONE_VIEWPORT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_consumer_files_a_joint_complaint_with_an_agent(signed_in, cast, power_of_attorney):
    page = signed_in(cast.alice.username, viewport=PHONE_VIEWPORT)
    page.goto("/complaints/new/")
    page.get_by_label("经营者名称").fill("杭州好运来电器有限公司")
    page.get_by_label(re.compile(r"^经营者地址")).fill("浙江省杭州市西湖区文三路90号")
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_role("radio", name=re.compile("西湖区"))).to_be_checked()
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("事实经过").fill("同一批电饭煲都无法加热。")
    page.get_by_label("您的诉求").fill("退货退款。")
    page.get_by_role("button", name="下一步").click()

    page.get_by_label("第1位 姓名").fill("赵六")
    page.get_by_label("第1位 联系电话").fill("13900000011")
    page.get_by_label("第1位 同意共同投诉").check()
    page.get_by_label("第1位 推选为代表人").check()
    page.get_by_role("button", name="再添加一位共同投诉人").click()
    page.get_by_label("第2位 姓名").fill("孙七")
    page.get_by_label("第2位 联系电话").fill("13900000012")
    page.get_by_label("第2位 同意共同投诉").check()
    page.get_by_label("代理人姓名").fill("钱律师")
    page.get_by_label("代理人电话").fill("13900000099")
    page.get_by_label(re.compile(r"^授权委托书")).set_input_files(str(power_of_attorney))
    page.screenshot(path="/tmp/joint_1_parties.png", full_page=True)
    page.get_by_role("button", name="下一步").click()

    expect(page.get_by_text("钱律师")).to_be_visible()
    page.get_by_label("您的联系地址").fill("杭州市西湖区文一路1号")
    page.screenshot(path="/tmp/joint_2_confirm.png", full_page=True)
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_url(re.compile(r"/my/cases/[A-Z0-9]+/$"))

    case = Case.objects.get()
    assert list(CoComplainant.objects.filter(case=case).values_list("real_name", flat=True)) == [
        "赵六",
        "孙七",
    ]
    assert Agent.objects.get(case=case).power_of_attorney.name == "授权委托书.pdf"
    expect(page.get_by_role("heading", name="共同投诉人与代理人")).to_be_visible()
    expect(page.get_by_text("139****0011")).to_be_visible()
    page.screenshot(path="/tmp/joint_3_case.png", full_page=True)

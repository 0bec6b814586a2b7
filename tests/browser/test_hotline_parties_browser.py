"""A 12315 agent takes a joint complaint brought in by the complainants' agent, in a real browser:
two co-complainants (one row added without JavaScript's help), a scanned power of attorney kept
while the page comes back, and the case page listing them with ID numbers masked.

Screenshots go to /tmp/hotline_parties_*.png for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from parties.models import Agent, CoComplainant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZHAO_ID = "110101198001010010"


def test_an_officer_files_a_joint_complaint_brought_by_a_visiting_agent(
    desk, cast, power_of_attorney
):
    page = desk(cast.hank.username)
    page.goto("/staff/hotline/")
    page.get_by_label("受理渠道").select_option("visit")
    page.locator("#id_caller_name").fill("王来电")
    page.locator("#id_caller_phone").fill("13900000099")
    page.locator("#id_caller_address").fill("杭州市西湖区文一路1号")
    page.locator("#id_respondent_name").fill("杭州好运来电器有限公司")
    page.locator("#id_respondent_address").fill("浙江省杭州市西湖区文三路90号")
    page.get_by_label(re.compile(r"^部门代码")).fill("330106")
    page.locator("#id_facts").fill("同一批电饭煲都无法加热。")
    page.locator("#id_demand").fill("退货退款。")

    page.get_by_label("第1位 姓名").fill("赵六")
    page.get_by_label("第1位 联系电话").fill("13900000011")
    page.get_by_label("第1位 身份证号码（选填）").fill(ZHAO_ID)
    page.get_by_label("第1位 已确认本人同意共同投诉").check()
    page.get_by_label("第1位 推选为代表人").check()
    page.get_by_label("代理人姓名").fill("钱律师")
    page.get_by_label("代理人电话").fill("13900000088")
    page.get_by_label(re.compile(r"^授权委托书")).set_input_files(str(power_of_attorney))
    page.get_by_role("button", name="再添加一位共同投诉人").click()

    # The page came back with one more row, the cursor in it, and the document kept.
    expect(page.get_by_label("第2位 姓名")).to_be_focused()
    expect(page.get_by_text("已上传授权委托书：授权委托书.pdf")).to_be_visible()
    expect(page.get_by_label("第1位 姓名")).to_have_value("赵六")
    page.get_by_label("第2位 姓名").fill("孙七")
    page.get_by_label("第2位 联系电话").fill("13900000012")
    page.screenshot(path="/tmp/hotline_parties_1_form.png", full_page=True)
    page.get_by_role("button", name="提交登记").click()

    # Sun was not asked: the desk names his row and files nothing.
    expect(page.locator(".error-summary")).to_contain_text("第2位 已确认本人同意共同投诉")
    assert not Case.objects.exists()
    page.get_by_label("第2位 已确认本人同意共同投诉").check()
    page.screenshot(path="/tmp/hotline_parties_2_refused.png", full_page=True)
    page.get_by_role("button", name="提交登记").click()
    page.wait_for_url(re.compile(r"/staff/cases/[A-Z0-9]+/$"))

    case = Case.objects.get()
    assert list(CoComplainant.objects.filter(case=case).values_list("real_name", flat=True)) == [
        "赵六",
        "孙七",
    ]
    assert Agent.objects.get(case=case).power_of_attorney.name == "授权委托书.pdf"
    expect(page.get_by_text("共同投诉人2人（其中代表人1人）。", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="共同投诉人与代理人")).to_be_visible()
    expect(page.get_by_text("1101**********0010")).to_be_visible()
    assert ZHAO_ID not in page.content()
    page.screenshot(path="/tmp/hotline_parties_3_case.png", full_page=True)

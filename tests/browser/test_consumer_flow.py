"""A consumer on a phone: registers with real name, files a complaint with a photo, follows it.

Screenshots go to /tmp/consumer_*.png for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts import sms
from accounts.identity import check_digit
from cases.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_NUMBER = "13900000123"
PASSWORD = "Kq8!open12315-browser"
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e5d4b4a90000000049454e44ae426082"
)


def id_number() -> str:
    first17 = "11010119900307003"
    return first17 + check_digit(first17)


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    return sms.outbox


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "发票照片.png"
    path.write_bytes(PNG_1X1)
    return path


def register(page, outbox) -> None:
    page.goto("/accounts/register/")
    page.get_by_label("手机号").fill(PHONE_NUMBER)
    page.get_by_role("button", name="发送验证码").click()
    code = next(message.code for message in outbox if message.phone == PHONE_NUMBER)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("真实姓名").fill("王小明")
    page.get_by_label("身份证号码").fill(id_number())
    page.get_by_label(re.compile(r"^密码")).fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD)
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(re.compile(r"/$"))


def file_complaint(page, photo) -> None:
    page.get_by_role("link", name=re.compile("开始投诉")).click()
    page.get_by_label("经营者名称").fill("杭州好运来电器有限公司")
    page.get_by_label(re.compile(r"^经营者地址")).fill("浙江省杭州市西湖区文三路90号")
    page.get_by_role("button", name="下一步").click()

    suggested = page.get_by_role("radio", name=re.compile("西湖区"))
    expect(suggested).to_be_checked()
    page.screenshot(path="/tmp/consumer_2_department.png", full_page=True)
    page.get_by_role("button", name="下一步").click()

    page.get_by_label("商品或服务类别").select_option("G01")
    page.get_by_label("涉及金额（元）").fill("199.00")
    page.get_by_label("事实经过").fill("电饭煲用了三天就不能加热，商家拒绝退货。")
    page.get_by_label("您的诉求").fill("退货退款。")
    page.get_by_label("选择文件").set_input_files(str(photo))
    page.screenshot(path="/tmp/consumer_3_details.png", full_page=True)
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("button", name="下一步").click()  # no co-complainants, no agent

    page.get_by_label("您的联系地址").fill("杭州市西湖区文一路1号")
    page.screenshot(path="/tmp/consumer_4_confirm.png", full_page=True)
    page.get_by_role("button", name="确认提交").dblclick()
    page.wait_for_url(re.compile(r"/my/cases/[A-Z0-9]+/$"))


def test_a_consumer_registers_files_a_complaint_with_a_photo_and_follows_it(
    phone, sms_outbox, photo, tree
):
    page = phone
    register(page, sms_outbox)
    page.screenshot(path="/tmp/consumer_1_home.png", full_page=True)

    file_complaint(page, photo)

    case = Case.objects.get()  # the double click filed one case
    deadline = case.deadlines.get().due.isoformat()
    expect(page.get_by_text(f"受理期限：{deadline}")).to_be_visible()
    expect(page.get_by_role("link", name="发票照片.png")).to_be_visible()
    page.screenshot(path="/tmp/consumer_5_case.png", full_page=True)

    page.get_by_role("navigation").get_by_role("link", name="我的诉求").click()
    row = page.get_by_role("row", name=re.compile(case.number))
    expect(row.get_by_text(deadline)).to_be_visible()
    expect(row.get_by_text("待受理")).to_be_visible()
    page.screenshot(path="/tmp/consumer_6_my_cases.png", full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    row.get_by_role("link", name=case.number).click()
    page.get_by_text("补充事实或证据").click()
    page.screenshot(path="/tmp/consumer_7_case_desktop.png", full_page=True)

    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换语言").click()
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    page.screenshot(path="/tmp/consumer_8_case_english.png", full_page=True)


def test_the_submission_works_without_javascript(browser, live_server, sms_outbox, photo, tree):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        base_url=live_server.url,
        java_script_enabled=False,
    )
    page = context.new_page()
    try:
        register(page, sms_outbox)
        page.get_by_role("link", name=re.compile("开始投诉")).click()
        page.get_by_label("经营者名称").fill("某网店")
        page.get_by_label(re.compile(r"^经营者地址")).fill("火星基地1号")
        page.get_by_role("button", name="下一步").click()
        page.get_by_role("textbox", name=re.compile(r"^部门代码")).fill("330106")
        page.get_by_role("button", name="下一步").click()
        page.get_by_label("事实经过").fill("收到的商品与描述不符。")
        page.get_by_label("您的诉求").fill("退款。")
        page.get_by_role("button", name="下一步").click()
        page.get_by_role("button", name="下一步").click()  # no co-complainants, no agent
        page.get_by_label("您的联系地址").fill("杭州市西湖区文一路1号")
        page.get_by_role("button", name="确认提交").click()
        page.wait_for_url(re.compile(r"/my/cases/[A-Z0-9]+/$"))
    finally:
        context.close()

    assert Case.objects.get().department_id == "330106"


def test_another_county_is_picked_from_province_city_and_county(phone, sms_outbox, photo, tree):
    page = phone
    register(page, sms_outbox)
    page.goto("/reports/new/")
    page.get_by_label("被举报经营者名称").fill("某无名小店")
    page.get_by_label(re.compile(r"^违法行为发生地")).fill("火星基地1号")
    page.get_by_role("button", name="下一步").click()

    expect(page.get_by_role("radio", name=re.compile("选择其他区县"))).to_be_checked()
    page.get_by_label("省份", exact=True).select_option(label="浙江省")
    page.get_by_label("城市", exact=True).select_option(label="杭州市")
    page.get_by_label("区县", exact=True).select_option(label="上城区")
    code = page.get_by_role("textbox", name=re.compile(r"^部门代码"))
    assert code.input_value() == "330102"
    page.screenshot(path="/tmp/consumer_9_division_picker.png", full_page=True)
    page.get_by_role("button", name="下一步").click()

    page.get_by_label("违法行为的事实和线索").fill("店内销售过期食品。")
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("您的联系地址").fill("杭州市上城区解放路1号")
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_url(re.compile(r"/my/cases/[A-Z0-9]+/$"))

    assert Case.objects.get().department_id == "330102"

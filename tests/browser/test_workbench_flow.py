"""A complaint through the staff workbench in a real browser: the county's intake officer accepts it
and diverts it to a station, the station's handler mediates to an agreement, and the consumer
sees a public timeline that names the county bureau, never the station, and rates the outcome.

Screenshots go to /tmp/workbench_*.png for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cases.intake import submit_case
from cases.models import Case, Kind, Status
from cases.services import perform
from tests.browser.conftest import west_lake_complaint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_accept_divert_mediate_agree_and_the_consumer_rates_it(desk, cast, tree):
    case = west_lake_complaint(
        cast.alice,
        address="杭州市西湖区文三路90号",
        category="G01",
        amount="1999.00",
        facts="购买的洗衣机第二天就漏水，商家拒绝退货。",
        demand="退货退款",
    )

    submit_case(
        kind=Kind.REPORT,
        by=cast.bob,
        payload={
            "department": "330106",
            "contact_address": "杭州市西湖区文二路2号",
            "respondent": {"name": "西湖无证餐馆", "address": "杭州市西湖区天目山路5号"},
            "facts": "无证经营，后厨卫生很差。",
        },
    )

    # Ken, the county's intake officer, finds it in his queue and diverts it to the station.
    ken = desk("ken")
    ken.goto("/staff/")
    tab = ken.get_by_role("link", name=re.compile(r"待受理\s*2"))
    assert tab.get_attribute("aria-current") == "page"
    ken.screenshot(path="/tmp/workbench_1_queue.png", full_page=True)
    ken.get_by_role("link", name=case.number).click()
    ken.wait_for_url(f"**/staff/cases/{case.number}/")
    expect(ken.get_by_role("heading", name="下一步：受理")).to_be_visible()
    assert ken.get_by_text("13800000001").is_visible()  # he handles it: the phone in full
    ken.screenshot(path="/tmp/workbench_2_case_submitted.png", full_page=True)

    ken.get_by_label("承办单位").select_option("330106001")
    ken.get_by_role("button", name="受理", exact=True).click()
    expect(ken.get_by_text("已完成：受理")).to_be_visible()
    case.refresh_from_db()
    assert (case.status, case.handler_unit_id) == (Status.ACCEPTED, "330106001")
    ken.screenshot(path="/tmp/workbench_3_case_accepted.png", full_page=True)

    # Sam, at the station, finds it in hand, mediates and records the agreement.
    sam = desk("sam")
    sam.goto("/staff/queue/in-hand/")
    sam.get_by_role("link", name=case.number).click()
    start = sam.locator("#form-start_mediation")
    start.get_by_label("情况说明").fill("双方均同意调解。")
    start.get_by_role("button", name="开始调解").click()
    expect(sam.get_by_text("已完成：开始调解")).to_be_visible()

    agreement = sam.locator("#form-record_agreement")
    agreement.get_by_label("调解协议内容").fill("商家退货并全额退款。")
    agreement.get_by_label("为消费者挽回经济损失（元）").fill("1999.00")
    sam.screenshot(path="/tmp/workbench_4_case_mediating.png", full_page=True)
    agreement.get_by_role("button", name="达成调解协议").click()
    expect(sam.get_by_text("已完成：达成调解协议")).to_be_visible()
    timeline = sam.locator("#wb-timeline + ol")
    assert timeline.get_by_text("西湖区文新市场监管所").count() >= 1  # staff see the station
    sam.screenshot(path="/tmp/workbench_5_case_closed.png", full_page=True)
    case.refresh_from_db()
    assert (case.status, case.outcome) == (Status.CLOSED, "mediated")

    # Alice sees what was decided by the county bureau, never the station, and rates it.
    alice = desk(cast.alice.username)
    alice.goto(f"/my/cases/{case.number}/")
    body = alice.locator("main").inner_text()
    assert "西湖区" in body
    assert "文新" not in body and "330106001" not in body
    alice.get_by_text("5 非常满意").click()
    alice.get_by_text("已解决", exact=True).click()
    alice.get_by_role("button", name="提交评价").click()
    expect(alice.get_by_text("感谢您的评价。")).to_be_visible()
    alice.screenshot(path="/tmp/workbench_6_consumer_rated.png", full_page=True)
    rated = Case.objects.get(pk=case.pk)
    assert (rated.satisfaction, rated.resolved) == (5, True)


def test_a_stale_form_tells_the_officer_to_refresh(desk, cast, tree):
    case = west_lake_complaint(
        cast.alice,
        name="某商店",
        address="杭州市西湖区文三路1号",
        facts="买到假货。",
        demand="退一赔三",
    )
    ken = desk("ken")
    ken.goto(f"/staff/cases/{case.number}/")
    perform(case, "mark_major", by=cast.cathy)  # the city marks it while Ken reads
    ken.locator("summary", has_text="不予受理").click()  # opens the panel
    form = ken.locator("#form-reject")
    form.get_by_label("依据").select_option("time_barred")
    form.get_by_label("理由").fill("已超过三年。")
    form.get_by_role("button", name="不予受理").click()
    expect(ken.get_by_text("案件已被他人更新，请刷新后重试")).to_be_visible()
    assert form.get_by_label("理由").input_value() == "已超过三年。"
    ken.screenshot(path="/tmp/workbench_7_stale.png", full_page=True)
    assert Case.objects.get(pk=case.pk).status == Status.SUBMITTED

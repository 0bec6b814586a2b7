"""An authority dispute (管辖争议, o121 Art. 33) through the workbench in a real browser: West
Lake's intake officer names Shangcheng competent (first forgetting the reason), Shangcheng's
officer finds it in the disputes tab and refuses, and the city, above both, designates
Shangcheng. The consumer's page never shows the internal steps.

Screenshots go to /tmp/dispute_*.png for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case, Status
from tests.browser.conftest import west_lake_complaint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dispute_refuse_and_designate_through_the_workbench(desk, cast, tree):
    case = west_lake_complaint(
        cast.alice,
        address="杭州市上城区解放路8号",
        facts="购买的电视机无法开机，商家拒绝维修。",
        demand="换货",
    )

    # Ken holds Shangcheng competent; without a reason the form says what is missing.
    ken = desk("ken")
    ken.goto(f"/staff/cases/{case.number}/")
    ken.locator("summary", has_text="提出管辖争议").click()
    form = ken.locator("#form-dispute")
    form.get_by_label("认为有管辖权的部门").fill("330102")
    form.get_by_role("button", name="提出管辖争议").click()
    expect(ken.locator("#form-dispute .errorlist")).to_be_visible()
    assert Case.objects.get(pk=case.pk).disputed_with_id is None
    form = ken.locator("#form-dispute")
    form.get_by_label("理由").fill("被投诉人实际经营地在上城区。")
    form.get_by_role("button", name="提出管辖争议").click()
    expect(ken.get_by_text("已完成：提出管辖争议")).to_be_visible()
    expect(ken.locator("#wb-dispute")).to_be_visible()
    ken.screenshot(path="/tmp/dispute_1_raised.png", full_page=True)

    # Nick, at Shangcheng, finds it under 管辖争议 and refuses.
    nick = desk("nick")
    nick.goto("/staff/")
    nick.get_by_role("link", name=re.compile(r"管辖争议\s*1")).click()
    expect(nick.get_by_text("待上城区答复")).to_be_visible()
    nick.screenshot(path="/tmp/dispute_2_named_queue.png", full_page=True)
    nick.get_by_role("link", name=case.number).click()
    nick.locator("summary", has_text="不同意管辖").click()
    refuse = nick.locator("#form-refuse")
    refuse.get_by_label("不同意的理由").fill("经营者住所地在西湖区。")
    refuse.get_by_role("button", name="不同意管辖").click()
    expect(nick.get_by_text("已完成：不同意管辖")).to_be_visible()

    # Cathy, at the city, sees it waiting for her and designates Shangcheng.
    cathy = desk("cathy")
    cathy.goto("/staff/queue/disputes/")
    expect(cathy.get_by_text("待本单位指定管辖")).to_be_visible()
    cathy.get_by_role("link", name=case.number).click()
    expect(cathy.get_by_role("heading", name="下一步：指定管辖")).to_be_visible()
    designate = cathy.locator("#form-designate")
    designate.get_by_label("指定管辖的部门").select_option("330102")
    designate.get_by_label("理由").fill("被投诉人实际经营地在上城区。")
    cathy.screenshot(path="/tmp/dispute_3_designate.png", full_page=True)
    designate.get_by_role("button", name="指定管辖").click()
    expect(cathy.get_by_text("已完成：指定管辖")).to_be_visible()

    moved = Case.objects.get(pk=case.pk)
    assert (moved.status, moved.department_id, moved.disputed_with_id) == (
        Status.SUBMITTED,
        "330102",
        None,
    )

    # Alice's page shows where the case is, not the internal steps.
    alice = desk(cast.alice.username)
    alice.goto(f"/my/cases/{case.number}/")
    body = alice.locator("main").inner_text()
    assert "上城区" in body
    assert "管辖争议" not in body and "指定管辖" not in body

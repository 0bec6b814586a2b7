"""Review of the authority disputes and the joint complaints in a real browser, on a 375 px
phone and in English: the pages fit the screen, every input has its own label, the English
pages carry no Chinese, and the department named in a dispute sees the case without the people
behind it.

Screenshots go to /tmp/review_dp_*.png for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from cases.evidence import store_upload
from cases.models import Case
from cases.services import perform
from tests.browser.conftest import PDF, west_lake_complaint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMALL_PHONE = {"width": 375, "height": 812}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def joint_complaint(cast) -> Case:
    document = store_upload(
        owner=cast.alice,
        uploaded_file=SimpleUploadedFile("委托书.pdf", PDF, "application/pdf"),
    )
    return west_lake_complaint(
        cast.alice,
        address="杭州市上城区解放路8号",
        facts="同一批电饭煲都无法加热。",
        demand="退货退款。",
        co_complainants=[{"real_name": "赵六", "phone": "13900000011", "consent": True}],
        agent={
            "real_name": "钱律师",
            "phone": "13900000099",
            "power_of_attorney": str(document.id),
        },
    )


def fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]


def unlabelled_inputs(page: Page) -> list[str]:
    """The visible form controls in <main> that no <label> (nor aria-label) names."""
    result: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('main input, main select, main textarea')]
            .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.name)"""
    )
    return result


def test_the_named_department_answers_a_dispute_on_a_phone_without_seeing_the_parties(
    signed_in, cast
):
    case = joint_complaint(cast)
    perform(case, "dispute", by=cast.ken, department="330102", reason="经营地在上城区。")

    nick = signed_in(cast.nick.username, viewport=SMALL_PHONE)
    nick.goto("/staff/queue/disputes/")
    expect(nick.get_by_text("待上城区答复")).to_be_visible()
    assert fits(nick)
    nick.get_by_role("link", name=case.number).click()
    expect(nick.locator("#wb-dispute")).to_be_visible()
    main = nick.locator("main").inner_text()
    assert "赵六" not in main and "钱律师" not in main and "授权委托书" not in main
    nick.locator("summary", has_text="不同意管辖").click()
    nick.screenshot(path="/tmp/review_dp_1_named_phone.png", full_page=True)
    assert fits(nick)
    assert unlabelled_inputs(nick) == []
    refuse = nick.locator("#form-refuse")
    refuse.get_by_label("不同意的理由").fill("经营者住所地在西湖区。")
    refuse.get_by_role("button", name="不同意管辖").click()
    expect(nick.get_by_text("已完成：不同意管辖")).to_be_visible()

    # The holder, on the same phone, still sees who complains and through whom.
    ken = signed_in(cast.ken.username, viewport=SMALL_PHONE)
    ken.goto(f"/staff/cases/{case.number}/")
    expect(ken.get_by_role("heading", name="共同投诉人与代理人")).to_be_visible()
    assert fits(ken)


def test_the_dispute_card_and_queue_read_in_english(signed_in, cast):
    case = joint_complaint(cast)
    perform(case, "dispute", by=cast.ken, department="330102", reason="经营地在上城区。")

    cathy = signed_in(cast.cathy.username, viewport=SMALL_PHONE, language="en")
    cathy.goto("/staff/queue/disputes/")
    tabs = cathy.locator("nav.wb-tabs").inner_text()
    assert not CHINESE.search(tabs), tabs
    cathy.get_by_role("link", name=case.number).click()
    card = cathy.locator("#wb-dispute")
    expect(card).to_be_visible()
    labels = " ".join(card.locator("dt").all_inner_texts() + card.locator("h2").all_inner_texts())
    assert not CHINESE.search(labels), labels
    cathy.screenshot(path="/tmp/review_dp_2_card_en.png", full_page=True)
    assert fits(cathy)


def test_the_parties_step_fits_a_phone_and_names_every_box_in_both_languages(signed_in, cast):
    for language, next_label in (("zh-hans", "下一步"), ("en", "Next")):
        page = signed_in(cast.alice.username, viewport=SMALL_PHONE, language=language)
        page.goto("/complaints/new/parties/")
        expect(page.get_by_role("button", name=next_label)).to_be_visible()
        page.screenshot(path=f"/tmp/review_dp_3_parties_{language}.png", full_page=True)
        assert fits(page)
        assert unlabelled_inputs(page) == []
        boxes = page.eval_on_selector_all(
            "main input[type=checkbox]",
            "els => els.map(el => el.labels[0].innerText.trim())",
        )
        assert boxes and len(set(boxes)) == len(boxes), boxes  # each box named on its own
        if language == "en":
            text = page.locator("main form").inner_text()
            assert not CHINESE.search(text), CHINESE.findall(text)
